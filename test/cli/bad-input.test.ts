/**
 * Damaged and unreadable captures through the command: one clear message naming the file, the byte offset and the
 * reason, the documented exit status (3), and everything decoded before the damage still reported.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { REPO, SAMPLES } from '../helpers/paths.js';

const CLI = path.join(REPO, 'bin', 'teardown.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-bad-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function records(stdout: string): ConnectionRecord[] {
  return stdout.trim() === '' ? [] : stdout.trim().split('\n').map((l) => JSON.parse(l) as ConnectionRecord);
}

/** mixed.pcap has many connections spread over the file: damage near the end must leave most of them. */
const GOOD = path.join(SAMPLES, 'mixed.pcap');
const good = fs.readFileSync(GOOD);
const whole = records(run('analyze', GOOD, '-F', 'ndjson').stdout);

/** Offsets of the classic pcap records of `buf` (24-byte file header, 16-byte record headers, little-endian). */
function recordOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    out.push(off);
    off += 16 + buf.readUInt32LE(off + 8);
  }
  return out;
}

function write(name: string, data: Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
}

describe('unreadable files: exit 3 and a message with file, offset and reason', () => {
  it('good file first: mixed.pcap reads cleanly with many connections', () => {
    assert.equal(good.readUInt32LE(0), 0xa1b2c3d4, 'the test expects a little-endian µs pcap');
    assert.ok(whole.length >= 20);
  });
  const cases: [string, () => string, RegExp][] = [
    ['zero-length file', () => write('empty.pcap', Buffer.alloc(0)), /empty/],
    ['wrong magic', () => write('text.pcap', Buffer.from('this is not a capture file at all\n')), /magic/],
    ['a directory', () => dir, /directory/],
    ['a missing file', () => path.join(dir, 'nope.pcap'), /no such file/i],
  ];
  for (const [what, make, reason] of cases) {
    it(what, () => {
      const file = make();
      const r = run('analyze', file, '-F', 'ndjson');
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`teardown: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: at byte 0: `));
      assert.match(r.stderr, reason);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout.trim(), '');
    });
  }
  it('an unreadable file among good ones: the others are still analysed', () => {
    const r = run('analyze', '--each', GOOD, path.join(dir, 'nope.pcap'), '-F', 'ndjson');
    assert.equal(r.status, 3);
    assert.equal(records(r.stdout).length, whole.length);
  });
});

describe('damage inside a file: what came before is kept', () => {
  const offs = recordOffsets(good);
  const cut = offs[Math.floor(offs.length * 0.8)]!;
  const damaged: [string, Buffer, RegExp][] = [
    ['a truncated last record', good.subarray(0, cut + 16 + 10), /truncat/i],
    ['an absurd record length (> 256 KiB)', (() => {
      const b = Buffer.from(good);
      b.writeUInt32LE(300_000, cut + 8);
      b.writeUInt32LE(300_000, cut + 12);
      return b;
    })(), /absurd|too large|262144|256/i],
    ['garbage appended after valid data', Buffer.concat([good, Buffer.from('garbage garbage garbage garbage garbage')]), /./],
  ];
  for (const [what, data, reason] of damaged) {
    it(what, () => {
      const file = write(`${what.replace(/\W+/g, '-')}.pcap`, data);
      const r = run('analyze', file, '-F', 'ndjson');
      assert.equal(r.status, 3, `status; stderr: ${r.stderr}`);
      const m = /at byte (\d+): (.*)/.exec(r.stderr);
      assert.ok(m, `message names the offset: ${r.stderr}`);
      assert.match(m[2]!, reason);
      assert.ok(r.stderr.includes(file));
      const got = records(r.stdout);
      // Every connection that was over (closed or reset) before the damage is reported with the same verdict as
      // from the whole file. (Verdicts that depend on the capture's end, such as close-wait-stuck, may change.)
      const over = new Set(['graceful-fin', 'abortive-rst', 'orphan-timeout-rst', 'lost-state-rst', 'refused']);
      const before = whole.filter((w) => over.has(w.ending) && Math.max(...w.ladder.map((p) => p.frame)) < offs.indexOf(cut) + 1);
      assert.ok(before.length > 0);
      for (const w of before) {
        const g = got.find((x) => x.client.port === w.client.port && x.client.ip === w.client.ip && x.incarnation === w.incarnation);
        assert.ok(g, `connection ${w.client.ip}:${w.client.port} kept`);
        assert.equal(g.ending, w.ending);
      }
      if (what.startsWith('garbage')) assert.deepEqual(got, whole);
    });
  }
  it('the table output says what was damaged, and --verbose lists undecodable frames without failing', () => {
    const file = write('cut.pcap', good.subarray(0, cut + 20));
    const r = run('analyze', file, '--verbose', '--ascii');
    assert.equal(r.status, 3);
    assert.match(r.stdout, /Connections/);
    assert.match(r.stderr, /at byte/);
  });
});

describe('option values the command cannot use: a usage error (2) naming the option, nothing written', () => {
  const cases: [string, string[], RegExp][] = [
    ['--limit that is not a number', ['--limit', 'abc'], /--limit/],
    ['--port out of range', ['--port', '70000'], /--port 70000/],
    ['--each with a format that has a header (csv)', ['--each', '-F', 'csv', GOOD], /--each/],
    ['--each with conn.log', ['--each', '-F', 'zeek', GOOD], /--each/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = run('analyze', GOOD, ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }
});
