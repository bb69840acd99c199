/**
 * The ring that carries segments from the reading thread to a worker: every field the connection table reads
 * arrives as it was written, encapsulation names arrive by number (long ones in several records, the overflow
 * number redefined), sweep points and the end arrive in order, and the counters wrap without losing a record.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TUNNEL_IDS, newRingBuffer, RingReader, RingWriter, type RingHandler } from '../../src/analysis/segment-ring.js';
import { newTcpSegment, TCP_ACK, TCP_FIN, TCP_NS, TCP_PSH, TCP_SYN, type TcpSegment } from '../../src/decode/segment.js';

/** The fields the ring carries, as a plain object. */
function carried(s: TcpSegment): Record<string, unknown> {
  return {
    frame: s.frame,
    tsSec: s.tsSec,
    tsNs: s.tsNs,
    tsDigits: s.tsDigits,
    ipVersion: s.ipVersion,
    srcAddr: [...s.srcAddr],
    dstAddr: [...s.dstAddr],
    srcPort: s.srcPort,
    dstPort: s.dstPort,
    seq: s.seq,
    ack: s.ack,
    flags: s.flags,
    window: s.window,
    windowScale: s.windowScale,
    payloadLen: s.payloadLen,
    checksumOk: s.checksumOk,
    truncated: s.truncated,
    tunnel: s.tunnel,
  };
}

type Event = { kind: 'segment'; seg: Record<string, unknown>; hash: number } | { kind: 'sweep' | 'end'; values: number[] };

function collector(): { events: Event[]; h: RingHandler } {
  const events: Event[] = [];
  return {
    events,
    h: {
      segment: (seg, hash) => events.push({ kind: 'segment', seg: carried(seg), hash }),
      sweep: (t, lastSec, lastNs) => events.push({ kind: 'sweep', values: [t, lastSec, lastNs] }),
      end: (now, lastSec, lastNs, recordedEnd) => events.push({ kind: 'end', values: [now, lastSec, lastNs, recordedEnd] }),
    },
  };
}

function segmentsOf(events: Event[]): Record<string, unknown>[] {
  return events.flatMap((e) => (e.kind === 'segment' ? [e.seg] : []));
}

/** Reads what the ring holds now, without waiting. */
function drain(reader: RingReader, h: RingHandler): boolean {
  return reader.run(newTcpSegment(), h, 1, () => true);
}

function segment(i: number, o: Partial<TcpSegment> = {}): TcpSegment {
  const s = newTcpSegment();
  s.frame = 1 + i * 3;
  s.tsSec = 1_700_000_000 + i;
  s.tsNs = 999_999_999 - i;
  s.srcAddr.set([0xc0000201 + i, 0, 0, 0]);
  s.dstAddr.set([0xc6336407, 0, 0, 0]);
  s.srcPort = 40000 + i;
  s.dstPort = 443;
  s.seq = (0xfffffff0 + i) >>> 0;
  s.ack = i * 1000;
  s.flags = TCP_ACK | TCP_PSH;
  s.window = 65535 - i;
  s.windowScale = -1;
  s.payloadLen = 1448;
  s.checksumOk = 1;
  Object.assign(s, o);
  return s;
}

describe('segment ring', () => {
  it('carries every field the connection table reads', () => {
    const sab = newRingBuffer(64);
    const w = new RingWriter(sab);
    const v6 = segment(1, { ipVersion: 6, tsDigits: 9, flags: TCP_SYN | TCP_NS, windowScale: 14, checksumOk: -1, truncated: true, payloadLen: 100_000 });
    v6.srcAddr.set([0x20010db8, 0, 0, 1]);
    v6.dstAddr.set([0x20010db8, 0xffffffff, 0x12345678, 0x9abcdef0]);
    const segs = [
      segment(0),
      v6,
      segment(2, { flags: TCP_FIN | TCP_ACK, checksumOk: 0, windowScale: 255, frame: 2 ** 40, tsSec: 2 ** 33 }),
      segment(3, { window: 0, payloadLen: 0, seq: 0, ack: 0xffffffff }),
    ];
    // The tuple hashes the reading thread passes along: any 32-bit integer.
    const hashes = [0, -1, 0x7fffffff, -0x80000000];
    w.sweep(1_700_000_000.5, 1_700_000_001, 123);
    segs.forEach((s, i) => w.segment(s, 0, hashes[i]!));
    w.end(1_700_000_003.25, 1_700_000_004, 456, 1_700_000_009);
    const { events, h } = collector();
    assert.equal(drain(new RingReader(sab), h), true);
    assert.deepEqual(events, [
      { kind: 'sweep', values: [1_700_000_000.5, 1_700_000_001, 123] },
      ...segs.map((s, i) => ({ kind: 'segment' as const, seg: carried(s), hash: hashes[i]! })),
      { kind: 'end', values: [1_700_000_003.25, 1_700_000_004, 456, 1_700_000_009] },
    ]);
  });

  it('names encapsulations by number; a long name spans records; the overflow number is redefined before each use', () => {
    const sab = newRingBuffer(64);
    const w = new RingWriter(sab);
    const long = Array.from({ length: 12 }, (_, i) => `gre${i}/vxlan`).join('/');
    assert.ok(long.length > 2 * 60, 'the name spans three records');
    w.defineTunnel(1, 'vxlan');
    w.defineTunnel(2, long);
    w.segment(segment(0), 1, 7);
    w.segment(segment(1), 2, 7);
    w.segment(segment(2), 0, 7);
    w.defineTunnel(MAX_TUNNEL_IDS, 'gre');
    w.segment(segment(3), MAX_TUNNEL_IDS, 7);
    w.defineTunnel(MAX_TUNNEL_IDS, 'mpls/gre');
    w.segment(segment(4), MAX_TUNNEL_IDS, 7);
    w.segment(segment(5), 1, 7);
    w.end(0, 0, 0, 0);
    const { events, h } = collector();
    drain(new RingReader(sab), h);
    const tunnels = segmentsOf(events).map((s) => s.tunnel);
    assert.deepEqual(tunnels, ['vxlan', long, '', 'gre', 'mpls/gre', 'vxlan']);
  });

  it('wraps its counters and its slots without losing or repeating a record', () => {
    // Counters start 40 records short of where they wrap; 16 slots are reused many times over.
    const sab = newRingBuffer(16, 0x3fff_ffff - 40);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const { events, h } = collector();
    let written = 0;
    for (let round = 0; round < 20; round++) {
      // Fill what room there is (the writer sees the reader's progress), then drain.
      while (written < 200 && w.hasRoom(1)) w.segment(segment(written++), 0, 7);
      if (written < 200) assert.equal(w.hasRoom(1), false, 'the ring was filled');
      w.publish();
      assert.equal(drain(r, h), false);
    }
    assert.equal(written, 200);
    w.end(1, 2, 3, 4);
    assert.equal(drain(r, h), true);
    const frames = segmentsOf(events).map((s) => s.frame);
    assert.deepEqual(frames, Array.from({ length: 200 }, (_, i) => 1 + i * 3));
  });

  it('a writer waiting for room is woken when the reader consumes', async () => {
    const sab = newRingBuffer(16);
    const w = new RingWriter(sab);
    let n = 0;
    while (w.hasRoom(1)) w.segment(segment(n++), 0, 7);
    assert.equal(n, 16);
    const r = new RingReader(sab);
    // The reader consumes on the next turn of the event loop; the writer waits far longer than that at most.
    setTimeout(() => drain(r, collector().h), 5);
    const t0 = Date.now();
    await w.waitForRoom(10_000);
    assert.ok(w.hasRoom(16), 'room after the reader consumed');
    assert.ok(Date.now() - t0 < 5_000, 'woken, not timed out');
  });

  it('refuses a size that is not a power of two', () => {
    assert.throws(() => newRingBuffer(1000), RangeError);
    assert.throws(() => newRingBuffer(8), RangeError);
  });
});
