/**
 * Records are identical whether a capture is read whole, split into rotated files (as tcpdump -C/-G writes them)
 * and read together, or piped through standard input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { build, ethernet, ipv4, tcp } from '../helpers/frames.js';
import { CORPUS, REPO, corpusAvailable } from '../helpers/paths.js';
import { splitCapture } from '../helpers/split-capture.js';

async function records(files: string[]): Promise<ConnectionRecord[]> {
  const out: ConnectionRecord[] = [];
  const res = await analyzeCaptures(files, DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void out.push(r) });
  assert.deepEqual(res.errors, []);
  return out;
}

const SAMPLE_FILES = ['ssh.pcap', 'Teredo.pcap', 'pop3.pcap', 'ipv6.pcap'];

describe('records are identical whole, rotated or through stdin', { skip: corpusAvailable() ? false : 'the shared corpus (../shared/corpus) is not here' }, () => {
  for (const name of SAMPLE_FILES) {
    it(`${name}: one file = three rotated files (given in any order) = stdin`, async () => {
      const file = path.join(CORPUS, 'zeek', name);
      const whole = await records([file]);
      assert.ok(whole.length > 0);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-eq-'));
      try {
        const parts = await splitCapture(file, 3, dir);
        assert.equal(parts.length, 3);
        assert.deepEqual(await records(parts), whole);
        // Rotated files named out of order are still merged by time.
        assert.deepEqual(await records([parts[2]!, parts[0]!, parts[1]!]), whole);
        const cli = path.join(REPO, 'bin', 'teardown.js');
        const piped = spawnSync(process.execPath, [cli, 'analyze', '-', '-F', 'ndjson'], { input: fs.readFileSync(file), maxBuffer: 64 << 20 });
        assert.equal(piped.status, 0, piped.stderr.toString());
        const fromStdin = piped.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as ConnectionRecord);
        assert.deepEqual(fromStdin, JSON.parse(JSON.stringify(whole)));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('several files merged: problems are noted under the merged frame numbers, as records are', () => {
  it('a truncated frame of the second file is listed under its number in the merged stream', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-merged-problems-'));
    try {
      const good = build(ethernet(), ipv4({ src: '192.0.2.1', dst: '198.51.100.2' }), tcp({ sport: 40000, dport: 80, flags: 0x02 }));
      const a = new PcapWriter();
      for (const t of [1, 2, 3]) a.writePacket(1_700_000_000 + t, 0, good);
      a.end();
      const b = new PcapWriter();
      // An Ethernet header cut after 10 bytes: too short to decode (its own file's frame 1).
      b.writePacket(1_700_000_001, 500_000_000, good.subarray(0, 10));
      b.end();
      const fa = path.join(dir, 'a.pcap');
      const fb = path.join(dir, 'b.pcap');
      fs.writeFileSync(fa, a.toBuffer());
      fs.writeFileSync(fb, b.toBuffer());
      const res = await analyzeCaptures([fa, fb], DEFAULT_ANALYZER_OPTIONS, { onRecord: () => undefined });
      const frames = [...res.problems.values()].flatMap((p) => p.frames);
      // Merged in time order: a's frame 1 (t=1), b's frame 1 (t=1.5), a's frames 2 and 3.
      assert.deepEqual(frames, [2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
