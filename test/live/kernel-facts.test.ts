/**
 * What only libpcap knows, checked against tcpdump capturing the same frames in the same network namespace:
 *  - the savefile's timestamps (the live records' timestamps: they are the same frames, the same stamps) are
 *    libpcap's, within a few microseconds of tcpdump's for every frame, even for frames that arrived while
 *    `teardown live` was stopped (SIGSTOP) — a stamp taken when a frame reaches JavaScript would be late by the
 *    whole stop;
 *  - the kernel's drop count: with a tiny buffer and the process stopped during a burst, the kernel drops
 *    frames, and frames captured + frames dropped = the frames tcpdump (a large buffer, never stopped) saw;
 *  - the interface going down while capturing ends `teardown live` with status 3 and the reason.
 * The traffic is UDP datagrams from the server namespace to 192.0.2.1:9, each carrying its sequence number, so
 * frames are matched one to one. Needs root, the native module, ip, nft and tcpdump.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLIENT_IF, CLIENT_V4, NetnsPair } from '../../lab/netns.js';
import { exited, runOk, sleep, spawnTracked, stopChild } from '../../lab/proc.js';
import { ENTRY, liveSkipReason } from './live-lab.js';

function whySkip(): string | false {
  return liveSkipReason(['ip', 'nft', 'tcpdump'], 'iproute2 nftables tcpdump');
}

const skip = whySkip();
const runBase = `kf${(process.pid % 0xfff).toString(16)}`;
const PORT = 9;
const FILTER = `udp port ${PORT}`;
/**
 * Largest difference allowed between libpcap's stamp in the savefile and tcpdump's for the same frame. Each capture
 * socket is stamped as the kernel hands it the frame, one socket after the other: measured 3 µs typically, 0.1 ms
 * at most with four captures on a busy machine (docs/live.md). A stamp taken on arrival in JavaScript is late by
 * the SIGSTOP below (300 ms) for the frames sent during it.
 */
const TOLERANCE_US = 2000;
const STOP_MS = 300;

interface Frame {
  seq: number;
  us: number;
  capLen: number;
  origLen: number;
}

/** The frames of a little-endian microsecond pcap that carry our datagrams (Ethernet, IPv4, UDP to PORT). */
function datagramFrames(file: string): Frame[] {
  const b = fs.readFileSync(file);
  assert.ok(b.length >= 24 && b.readUInt32LE(0) === 0xa1b2c3d4, `${file}: a little-endian microsecond pcap`);
  assert.equal(b.readUInt32LE(20), 1, `${file}: Ethernet`);
  const out: Frame[] = [];
  let off = 24;
  while (off + 16 <= b.length) {
    const capLen = b.readUInt32LE(off + 8);
    const f = off + 16;
    assert.ok(f + capLen <= b.length, `${file}: record at ${off} is cut`);
    const isOurs = capLen >= 46 && b.readUInt16BE(f + 12) === 0x0800 && b[f + 23] === 17 && b.readUInt16BE(f + 36) === PORT;
    if (isOurs) out.push({ seq: b.readUInt32BE(f + 42), us: b.readUInt32LE(off) * 1e6 + b.readUInt32LE(off + 4), capLen, origLen: b.readUInt32LE(off + 12) });
    off = f + capLen;
  }
  return out;
}

/** Sends datagrams first..first+count-1 from the server namespace, `gapUs` apart (0: as fast as it can). */
async function send(pair: NetnsPair, first: number, count: number, gapUs: number): Promise<void> {
  const script = `
const s = require('node:dgram').createSocket('udp4');
const [first, count, gapUs] = [${first}, ${count}, ${gapUs}];
const spin = (us) => { const t = process.hrtime.bigint() + BigInt(us * 1000); while (process.hrtime.bigint() < t); };
(async () => {
  for (let i = first; i < first + count; i++) {
    const b = Buffer.alloc(32);
    b.writeUInt32BE(i, 0);
    await new Promise((r) => s.send(b, ${PORT}, '${CLIENT_V4}', r));
    if (gapUs > 0) spin(gapUs);
  }
  s.close();
})();`;
  await runOk('ip', ['netns', 'exec', pair.server, process.execPath, '-e', script], { timeoutMs: 30_000 });
}

/** Starts a child and waits until its standard error matches `ready`. */
async function start(cmd: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawnTracked(cmd, args);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.resume();
  const deadline = Date.now() + 15_000;
  while (!ready.test(err)) {
    if (exited(child)) throw new Error(`${cmd} ${args.join(' ')} exited: ${err}`);
    if (Date.now() > deadline) throw new Error(`${cmd} ${args.join(' ')} did not start: ${err}`);
    await sleep(50);
  }
  return { child, stderr: () => err };
}

interface Run {
  live: Frame[];
  reference: Frame[];
  liveStderr: string;
  liveCode: number | null;
}

/**
 * tcpdump (64 MiB buffer) and `teardown live -B bufferKib -w` on the client's veth; `teardown live` is stopped
 * while `stopped` datagrams are sent, continued, then `running` more are sent; both are stopped with SIGINT.
 */
async function capture(dir: string, id: string, bufferKib: number, stopped: { count: number; gapUs: number }, running: number): Promise<Run> {
  const pair = new NetnsPair(id, 'kernel');
  const ref = path.join(dir, `${id}-tcpdump.pcap`);
  const saved = path.join(dir, `${id}-live.pcap`);
  const children: ChildProcess[] = [];
  try {
    await pair.create();
    const tcpdump = await start('ip', ['netns', 'exec', pair.client, 'tcpdump', '-n', '-i', CLIENT_IF, '-B', '65536', '-w', ref, FILTER], /listening on/);
    children.push(tcpdump.child);
    const live = await start(
      'ip',
      ['netns', 'exec', pair.client, process.execPath, ENTRY, 'live', '-i', CLIENT_IF, '-f', FILTER, '-B', String(bufferKib), '-w', saved, '-F', 'ndjson'],
      /capturing on /,
    );
    children.push(live.child);
    live.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await send(pair, 0, stopped.count, stopped.gapUs);
    const left = STOP_MS - (Date.now() - stoppedAt);
    if (left > 0) await sleep(left);
    live.child.kill('SIGCONT');
    if (running > 0) await send(pair, stopped.count, running, 1000);
    // Longer than a batch (BATCH_TIMEOUT_MS), so every frame has been handed over before the SIGINT.
    await sleep(600);
    await stopChild(live.child, 'SIGINT', 15_000);
    await stopChild(tcpdump.child, 'SIGINT', 15_000);
    return { live: datagramFrames(saved), reference: datagramFrames(ref), liveStderr: live.stderr(), liveCode: live.child.exitCode };
  } finally {
    for (const c of children) if (!exited(c)) await stopChild(c, 'SIGKILL', 1000);
    await pair.destroy();
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

describe("teardown live: libpcap's stamps and drop counts, against tcpdump on the same frames", { skip }, () => {
  const dir = skip ? '' : fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-kernel-'));
  let stamps: Run | null = null;
  let drops: Run | null = null;

  before(
    async () => {
      // One after the other: the drop run floods, which would disturb the stamps run's timing.
      stamps = await capture(dir, `${runBase}s`, 8192, { count: 150, gapUs: 1000 }, 150);
      drops = await capture(dir, `${runBase}d`, 1, { count: 10_000, gapUs: 0 }, 0);
    },
    { timeout: 120_000 },
  );

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it("every saved frame carries libpcap's stamp: tcpdump's for the same frame within a few microseconds, also for frames that came while it was stopped", (t) => {
    const r = stamps;
    assert.ok(r !== null);
    assert.equal(r.liveCode, 0, r.liveStderr);
    assert.equal(r.reference.length, 300, 'tcpdump saw every datagram');
    assert.deepEqual(
      r.live.map((f) => f.seq),
      r.reference.map((f) => f.seq),
      'the same frames, in the same order',
    );
    const diffs: number[] = [];
    for (let i = 0; i < r.live.length; i++) {
      const a: Frame = r.live[i]!;
      const b: Frame = r.reference[i]!;
      assert.equal(a.capLen, b.capLen, `frame of datagram ${a.seq}: captured length`);
      assert.equal(a.origLen, b.origLen, `frame of datagram ${a.seq}: length on the wire`);
      diffs.push(Math.abs(a.us - b.us));
    }
    diffs.sort((x, y) => x - y);
    t.diagnostic(`|teardown − tcpdump| per frame: median ${quantile(diffs, 0.5)} µs, p99 ${quantile(diffs, 0.99)} µs, max ${diffs[diffs.length - 1]} µs`);
    assert.ok(diffs[diffs.length - 1]! <= TOLERANCE_US, `largest difference ${diffs[diffs.length - 1]} µs > ${TOLERANCE_US} µs`);
    // The frames sent during the stop are spread over their real sending time, not bunched at the SIGCONT.
    const first = r.live[0]!.us;
    const lastStopped = r.live[149]!.us;
    assert.ok(lastStopped - first >= 100_000, `the stopped period's frames span ${lastStopped - first} µs`);
  });

  it('a burst that overruns a tiny buffer is counted: frames captured + kernel drops = the frames tcpdump saw', (t) => {
    const r = drops;
    assert.ok(r !== null);
    assert.equal(r.liveCode, 0, r.liveStderr);
    const m = /teardown: ([\d,]+) packets? captured, ([\d,]+) dropped by the kernel/.exec(r.liveStderr);
    assert.ok(m, `no closing line with the kernel drops in:\n${r.liveStderr}`);
    const captured = Number(m[1]!.replace(/,/g, ''));
    const dropped = Number(m[2]!.replace(/,/g, ''));
    t.diagnostic(`${captured} captured, ${dropped} dropped by the kernel, tcpdump saw ${r.reference.length}`);
    assert.equal(r.reference.length, 10_000, 'tcpdump saw every datagram');
    assert.equal(captured, r.live.length, 'every captured frame was saved');
    assert.ok(dropped > 0, 'a 1 KiB buffer cannot hold 10,000 frames sent while the process was stopped');
    assert.equal(captured + dropped, r.reference.length);
    // What was kept is what came first: the buffer filled, and the rest was dropped.
    assert.deepEqual(
      r.live.map((f) => f.seq),
      r.reference.slice(0, captured).map((f) => f.seq),
    );
  });

  it('the interface going down stops the capture with status 3 and says why', async () => {
    const pair = new NetnsPair(`${runBase}x`, 'down');
    let child: ChildProcess | null = null;
    try {
      await pair.create();
      const live = await start('ip', ['netns', 'exec', pair.client, process.execPath, ENTRY, 'live', '-i', CLIENT_IF], /capturing on /);
      child = live.child;
      await runOk('ip', ['-n', pair.client, 'link', 'set', CLIENT_IF, 'down']);
      const deadline = Date.now() + 10_000;
      while (!exited(child) && Date.now() < deadline) await sleep(50);
      assert.ok(exited(child), `still running 10 s after the interface went down:\n${live.stderr()}`);
      assert.equal(child.exitCode, 3, live.stderr());
      assert.match(live.stderr(), /capturing on veth-c failed: .*; stopping/);
      assert.match(live.stderr(), /packets? captured/, 'the summary is printed as for Ctrl-C');
    } finally {
      if (child !== null && !exited(child)) await stopChild(child, 'SIGKILL', 1000);
      await pair.destroy();
    }
  });
});
