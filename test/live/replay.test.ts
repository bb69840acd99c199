/**
 * `teardown live` end to end without a network: a recorded capture (samples/mixed.pcap, thirty connections of
 * every kind) is replayed through the live command's machinery in place of libpcap, with its own timestamps as
 * the clock and a tick every millisecond. The live records must be those of offline analysis of the same file —
 * the wall-clock sweeps and the alerts change when records appear, never what they say — and so must the records
 * of the savefile, rotated into several files and merged. A SIGINT ends the session with the summary and status 0.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { newRawPacket, type RawPacket } from '../../src/capture/raw-packet.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { runLive, type LiveArgs, type LiveDeps, type LiveIo } from '../../src/live/run-live.js';
import { eachPacket } from '../helpers/each-packet.js';
import { SAMPLES } from '../helpers/paths.js';

const SAMPLE = path.join(SAMPLES, 'mixed.pcap');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-live-replay-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Frame {
  data: Buffer;
  tsSec: number;
  tsNs: number;
  linkType: number;
  origLen: number;
}

async function readFrames(file: string): Promise<Frame[]> {
  const out: Frame[] = [];
  const error = await eachPacket(file, (p) => {
    out.push({ data: Buffer.from(p.data.subarray(p.offset, p.offset + p.capLen)), tsSec: p.tsSec, tsNs: p.tsNs, linkType: p.linkType, origLen: p.origLen });
  });
  assert.equal(error, null);
  return out;
}

/** A source that replays `frames` a few at a time, between ticks; the clock is the last frame's time. */
function replay(frames: Frame[], onDone: () => void): LiveDeps {
  return {
    tickMs: 1,
    open(_opts, onPacket) {
      const pkt: RawPacket = newRawPacket();
      let i = 0;
      let closed = false;
      let now = frames.length > 0 ? frames[0]!.tsSec + frames[0]!.tsNs * 1e-9 : 0;
      const step = (): void => {
        for (let n = 0; n < 7 && i < frames.length && !closed; n++, i++) {
          const f = frames[i]!;
          pkt.data = f.data;
          pkt.offset = 0;
          pkt.capLen = f.data.length;
          pkt.origLen = f.origLen;
          pkt.linkType = f.linkType;
          pkt.tsSec = f.tsSec;
          pkt.tsNs = f.tsNs;
          pkt.frame = i + 1;
          now = f.tsSec + f.tsNs * 1e-9;
          onPacket(pkt);
        }
        if (i < frames.length && !closed) setTimeout(step, 2);
        else onDone();
      };
      setTimeout(step, 2);
      return {
        linkType: frames[0]?.linkType ?? 1,
        linkTypeName: 'ETHERNET',
        snapLen: 262144,
        stats: () => ({ frames: i, bytes: 0, dropped: null, ifDropped: null }),
        close: () => {
          closed = true;
        },
        // The replay's clock runs a second past the last frame once it is done, as a quiet link would.
        nowSeconds: () => (i >= frames.length ? now + 1.5 : now),
      };
    },
  };
}

function collector(): { io: LiveIo; out: string[]; err: string[]; signals: EventEmitter } {
  const out: string[] = [];
  const err: string[] = [];
  const signals = new EventEmitter();
  const io: LiveIo = {
    stdout: {
      write: (s: string, cb?: (e?: Error | null) => void) => {
        out.push(s);
        cb?.();
        return true;
      },
      once: () => undefined,
      isTTY: false,
    },
    stderr: { write: (s: string) => err.push(s), isTTY: false },
    env: {},
    signals: signals as unknown as NonNullable<LiveIo['signals']>,
  };
  return { io, out, err, signals };
}

function args(over: Partial<LiveArgs>): LiveArgs {
  return {
    iface: 'replay0',
    filter: '',
    write: null,
    fileSizeBytes: null,
    format: 'ndjson',
    analyzer: DEFAULT_ANALYZER_OPTIONS,
    rstBurst: { count: 4, windowS: 5 },
    duration: null,
    count: null,
    bufferBytes: 1 << 20,
    color: false,
    ascii: true,
    limit: 50,
    ...over,
  };
}

const byId = (a: ConnectionRecord, b: ConnectionRecord): number => a.id - b.id;

describe('live session replaying samples/mixed.pcap', () => {
  let frames: Frame[] = [];
  let offline: ConnectionRecord[] = [];

  before(async () => {
    frames = await readFrames(SAMPLE);
    const res = await analyzeCaptures([SAMPLE], DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void offline.push(r) });
    assert.deepEqual(res.errors, []);
    offline = offline.sort(byId);
  });

  it('ndjson: the live records equal offline analysis; so do the rotated savefiles merged; SIGINT ends it with 0', async () => {
    const c = collector();
    const base = path.join(dir, 'mixed-live.pcap');
    let replayed = false;
    let recordsWhenDone = -1;
    const deps = replay(frames, () => {
      replayed = true;
      // Stop only after a few ticks of quiet, as an operator would after the traffic.
      setTimeout(() => {
        recordsWhenDone = c.out.length;
        c.signals.emit('SIGINT');
      }, 30);
    });
    // About twelve files, so that shell-glob order (FILE, FILE1, FILE10, FILE11, FILE2 …) is not time order.
    const total = frames.reduce((n, f) => n + 16 + f.data.length, 24);
    const status = await runLive(args({ write: base, fileSizeBytes: Math.floor(total / 12) }), c.io, deps);
    assert.equal(status, 0);
    assert.ok(replayed);
    const lines = c.out.join('').split('\n').filter((l) => l !== '');
    const live = lines.map((l) => JSON.parse(l) as ConnectionRecord).sort(byId);
    assert.equal(live.length, offline.length);
    assert.deepEqual(live, offline);
    // Records came out while the capture ran (packet-driven and wall-clock sweeps), not only at the stop.
    assert.ok(recordsWhenDone > 0, `records before SIGINT: ${recordsWhenDone}`);

    const files = fs.readdirSync(dir).filter((f) => f.startsWith('mixed-live.pcap')).map((f) => path.join(dir, f));
    assert.ok(files.length >= 11, `rotated into ${files.length} files`);
    const saved: ConnectionRecord[] = [];
    // Named in shell-glob order (FILE, FILE1, FILE10, FILE2 …): the merge orders frames by time.
    const res = await analyzeCaptures(files.sort(), DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void saved.push(r) });
    assert.deepEqual(res.errors, []);
    assert.equal(res.summary.packetsRead, frames.length);
    assert.deepEqual(saved.sort(byId), live);

    const stderr = c.err.join('');
    assert.match(stderr, /capturing on replay0/);
    // The closing tables go to standard error with ndjson (standard output carries records only).
    assert.match(stderr, /\| ending +\| client/);
    assert.match(stderr, /Abnormal connections: \d+/);
    assert.match(stderr, new RegExp(`${frames.length} packets captured`));
    assert.match(stderr, /kernel drops not reported/);
    // Alerts are JSON lines on standard error in ndjson mode: the RST burst on the main service.
    const alerts = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { alert: string; service?: { port: number } });
    assert.ok(alerts.some((a) => a.alert === 'rst-burst' && a.service?.port === 9999), stderr);
  });

  it('table: one line per printed record (--only abnormal), the closing tables on standard output', async () => {
    const c = collector();
    const deps = replay(frames, () => setTimeout(() => c.signals.emit('SIGTERM'), 5));
    const status = await runLive(args({ format: 'table', only: 'abnormal', rstBurst: null }), c.io, deps);
    assert.equal(status, 0);
    const text = c.out.join('');
    const abnormal = offline.filter((r) => !['graceful-fin', 'half-closed', 'open'].includes(r.ending));
    const lines = text.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3}  #\d+/.test(l));
    assert.equal(lines.length, abnormal.length);
    for (const r of abnormal) assert.ok(lines.some((l) => l.includes(`#${r.id}  `) && l.includes(r.ending)), `#${r.id} ${r.ending}`);
    assert.match(text, /\| ending +\| client/);
    assert.match(text, /\| service +\| conns/);
  });

  it('--count stops the session by itself after N frames', async () => {
    const c = collector();
    const base = path.join(dir, 'count.pcap');
    const status = await runLive(args({ count: 25, write: base }), c.io, replay(frames, () => undefined));
    assert.equal(status, 0);
    const res = await analyzeCaptures([base], DEFAULT_ANALYZER_OPTIONS, { onRecord: () => undefined });
    assert.equal(res.summary.packetsRead, 25);
    assert.match(c.err.join(''), /25 frames saved to/);
  });
});
