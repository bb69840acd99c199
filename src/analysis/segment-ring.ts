/**
 * A one-writer, one-reader ring of decoded TCP segments in a SharedArrayBuffer: how the thread that reads and
 * decodes the captures hands each connection table worker its share of the segments (parallel-run.ts).
 *
 * Why a ring of fixed records rather than postMessage: a message per segment, or per batch of segment objects,
 * is structured-cloned and allocated on both sides; here the writer fills 80-byte slots in place and publishes
 * a count, and the reader decodes each slot into its one reused TcpSegment. Nothing is allocated per segment.
 *
 * Only what the connection table and the TCP state read is carried (the table-output runs keep neither Zeek's
 * view nor the ladder trace, which read more of the segment): times, frame, tuple, sequence numbers, flags,
 * window, window-scale option, payload length, checksum and truncation facts, the encapsulation (by a number
 * defined earlier in the ring), and the tuple's hash. Besides segments, the ring carries the capture clock's sweep
 * points and the end of the input, so that a worker's table emits connections exactly when a table holding all
 * of them would (see Kind).
 *
 * Synchronisation: the counters and wait flags of ring-head.ts (a notify at every hand-over was 3 % of the
 * reader's time; now each side wakes the other only when it waits).
 */
import type { TcpSegment } from '../decode/segment.js';
import { C_READ, C_READER_WAITS, C_WRITER_WAITS, C_WRITTEN, COUNTER_MASK, CounterWait, newRingSab, RingViews, RingWriterEnd } from './ring-head.js';

/** Bytes of one record: 10 float64 words, or 20 uint32 words, over the same bytes. */
const RECORD_BYTES = 80;
const RECORD_F64 = RECORD_BYTES / 8;
const RECORD_U32 = RECORD_BYTES / 4;

/** Record kinds (low 4 bits of word 4). */
export const Kind = {
  /** A TCP segment of the reader's share. */
  Segment: 1,
  /**
   * The capture clock reached a sweep point: the first TCP segment (of any share) at or past the table's next
   * sweep. Carries that segment's time and the capture's latest timestamp so far (every frame counts), which a
   * connection emitted by the sweep is classified against.
   */
  Sweep: 2,
  /** Characters of an encapsulation name, continued by the next record. */
  TunnelPart: 3,
  /** The last characters of an encapsulation name, and the number segments refer to it by. */
  TunnelDef: 4,
  /** The end of the input: the table's final clock, the capture's last timestamp and its recorded end. */
  End: 5,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Characters of an encapsulation name one record carries (words 5..19). */
const TUNNEL_CHARS_PER_RECORD = 60;
/** Encapsulation numbers up to this are kept for good; the last one is redefined before each use past them. */
export const MAX_TUNNEL_IDS = 0xffff;

/** Longest encapsulation name carried (far beyond what the decoder builds: eight layers of short names). */
export const MAX_TUNNEL_NAME = 300;

/** Records a ring holds by default (1.3 MB): room for a few chunks' worth of segments between hand-overs. */
export const DEFAULT_RING_RECORDS = 16384;

/** A new ring's buffer, for `records` records (a power of two); `start` as newRingSab's. */
export function newRingBuffer(records = DEFAULT_RING_RECORDS, start = 0): SharedArrayBuffer {
  return newRingSab(RECORD_BYTES, records, start);
}

/** Records written since the writer last published before it publishes anyway (so the reader starts early). */
const PUBLISH_EVERY = 512;
/**
 * The first publication comes after this many records, and each next one after twice as many, up to
 * PUBLISH_EVERY: at the start the decoder still runs unoptimised code, and the worker, which has nothing else to
 * do, would wait for 512 records (10–30 ms) before its first.
 */
const FIRST_PUBLISH = 16;

/**
 * The writing end (the decoding thread). Writes never block: the caller asks hasRoom() first and, when there is
 * none, awaits waitForRoom(), which lets the event loop run (a worker that died is noticed there).
 */
export class RingWriter extends RingWriterEnd {
  constructor(sab: SharedArrayBuffer) {
    super(sab, RECORD_BYTES, FIRST_PUBLISH, PUBLISH_EVERY);
  }

  /** Whether `n` more records fit. */
  hasRoom(n: number): boolean {
    if (this.capacity - ((this.written - this.readSeen) & COUNTER_MASK) >= n) return true;
    this.readSeen = Atomics.load(this.head, C_READ);
    return this.capacity - ((this.written - this.readSeen) & COUNTER_MASK) >= n;
  }

  private readonly roomWait = new CounterWait(this.head, C_WRITER_WAITS, C_READ);

  /** Publishes what was written, then waits (up to `timeoutMs`) for the reader to consume some. */
  async waitForRoom(timeoutMs: number): Promise<void> {
    this.publish();
    await this.roomWait.whileUnchanged(this.readSeen, timeoutMs);
    this.readSeen = Atomics.load(this.head, C_READ);
  }

  /**
   * A segment of the reader's share; `tunnelId` as defined by defineTunnel (0 for none), `hash` its tuple's
   * (tupleHash: the reading thread computes it anyway to pick the share, and the worker need not again).
   */
  segment(seg: TcpSegment, tunnelId: number, hash: number): void {
    const s = this.slot();
    const f = s * RECORD_F64;
    const w = s * RECORD_U32;
    const u = this.u32;
    this.f64[f] = seg.tsSec;
    this.f64[f + 1] = seg.frame;
    u[w + 4] = (Kind.Segment | ((seg.flags & 0x1ff) << 4) | (seg.ipVersion === 6 ? 1 << 13 : 0)
      | ((seg.checksumOk + 1) << 14) | (seg.truncated ? 1 << 16 : 0) | ((seg.tsDigits & 0x1f) << 17)
      | (((seg.windowScale + 1) & 0x1ff) << 22)) >>> 0;
    u[w + 5] = seg.tsNs;
    const sa = seg.srcAddr;
    const da = seg.dstAddr;
    u[w + 6] = sa[0]!;
    u[w + 7] = sa[1]!;
    u[w + 8] = sa[2]!;
    u[w + 9] = sa[3]!;
    u[w + 10] = da[0]!;
    u[w + 11] = da[1]!;
    u[w + 12] = da[2]!;
    u[w + 13] = da[3]!;
    u[w + 14] = ((seg.srcPort << 16) | seg.dstPort) >>> 0;
    u[w + 15] = seg.seq;
    u[w + 16] = seg.ack;
    u[w + 17] = ((tunnelId << 16) | (seg.window & 0xffff)) >>> 0;
    u[w + 18] = seg.payloadLen;
    this.i32[w + 19] = hash;
    this.advance();
  }

  /** A sweep point: the TCP time `t` that reached it, and the capture's latest timestamp so far. */
  sweep(t: number, lastSec: number, lastNs: number): void {
    const s = this.slot();
    this.f64[s * RECORD_F64] = t;
    this.f64[s * RECORD_F64 + 1] = lastSec;
    this.u32[s * RECORD_U32 + 4] = Kind.Sweep;
    this.u32[s * RECORD_U32 + 5] = lastNs;
    this.advance();
  }

  /** Defines encapsulation number `id` (1..MAX_TUNNEL_IDS) as `name` (ASCII, as the decoder builds them). */
  defineTunnel(id: number, name: string): void {
    let from = 0;
    do {
      const part = Math.min(TUNNEL_CHARS_PER_RECORD, name.length - from);
      const last = from + part >= name.length;
      const s = this.slot();
      const w = s * RECORD_U32;
      this.u32[w + 4] = (last ? Kind.TunnelDef : Kind.TunnelPart) | (part << 4) | (id << 12);
      const b = s * RECORD_BYTES + 20;
      for (let i = 0; i < part; i++) this.u8[b + i] = name.charCodeAt(from + i) & 0x7f;
      from += part;
      this.advance();
    } while (from < name.length);
  }

  /** The end: the table's final clock (latest TCP time), the capture's last timestamp and recorded end. */
  end(now: number, lastSec: number, lastNs: number, recordedEnd: number): void {
    const s = this.slot();
    const f = s * RECORD_F64;
    this.f64[f] = now;
    this.f64[f + 1] = lastSec;
    this.u32[s * RECORD_U32 + 4] = Kind.End;
    this.u32[s * RECORD_U32 + 5] = lastNs;
    this.f64[f + 3] = recordedEnd;
    this.advance();
    this.publish();
  }
}

/** What the reading end calls for each record. */
export interface RingHandler {
  /** A segment, and its tuple's hash (tupleHash). */
  segment(seg: TcpSegment, hash: number): void;
  sweep(t: number, lastSec: number, lastNs: number): void;
  end(now: number, lastSec: number, lastNs: number, recordedEnd: number): void;
  /** The ring is empty: the reader is about to wait for the writer. */
  idle?(): void;
}

/** Records consumed before the reader hands their slots back to the writer. */
const RELEASE_EVERY = 1024;

/**
 * The reading end (a worker): decodes records into one reused TcpSegment and hands them to a handler, blocking
 * (Atomics.wait, in slices so that terminate() is not held up) while the ring is empty.
 */
export class RingReader extends RingViews {
  constructor(sab: SharedArrayBuffer) {
    super(sab, RECORD_BYTES);
  }

  private read = Atomics.load(this.head, C_READ);
  private readonly tunnels: string[] = [''];
  private tunnelChars = '';

  /**
   * Reads records until the End record (returns true), or until `shouldStop()` says so while waiting for more
   * (returns false). `seg` is filled for each segment.
   */
  run(seg: TcpSegment, h: RingHandler, waitSliceMs = 100, shouldStop: () => boolean = () => false): boolean {
    const head = this.head;
    for (;;) {
      const written = Atomics.load(head, C_WRITTEN);
      if (written === this.read) {
        if (shouldStop()) return false;
        h.idle?.();
        // As the writer does: raise the flag, look again, then sleep.
        Atomics.store(head, C_READER_WAITS, 1);
        if (Atomics.load(head, C_WRITTEN) === written) Atomics.wait(head, C_WRITTEN, written, waitSliceMs);
        Atomics.store(head, C_READER_WAITS, 0);
        continue;
      }
      let sinceRelease = 0;
      while (this.read !== written) {
        const s = this.read & this.slotMask;
        const kind = this.u32[s * RECORD_U32 + 4]! & 0xf;
        if (kind === Kind.Segment) {
          this.decodeSegment(s, seg);
          h.segment(seg, this.i32[s * RECORD_U32 + 19]!);
        } else if (kind === Kind.Sweep) {
          h.sweep(this.f64[s * RECORD_F64]!, this.f64[s * RECORD_F64 + 1]!, this.u32[s * RECORD_U32 + 5]!);
        } else if (kind === Kind.TunnelPart || kind === Kind.TunnelDef) {
          this.readTunnel(s, kind);
        } else if (kind === Kind.End) {
          const f = s * RECORD_F64;
          const now = this.f64[f]!;
          const lastSec = this.f64[f + 1]!;
          const lastNs = this.u32[s * RECORD_U32 + 5]!;
          const recordedEnd = this.f64[f + 3]!;
          this.read = (this.read + 1) & COUNTER_MASK;
          this.release(true);
          h.end(now, lastSec, lastNs, recordedEnd);
          return true;
        } else {
          throw new Error(`segment ring: unknown record kind ${kind}`);
        }
        this.read = (this.read + 1) & COUNTER_MASK;
        if (++sinceRelease === RELEASE_EVERY) {
          sinceRelease = 0;
          this.release(false);
        }
      }
      this.release(true);
    }
  }

  /**
   * Hands the slots read back to the writer. A writer waiting for room is woken once the ring is at most half
   * full (or the reader has caught up, `drained`), not at every hand-over: it then writes half a ring before it
   * waits again, instead of a thousand records (a wake-up costs tens of microseconds on both sides).
   */
  private release(drained: boolean): void {
    const head = this.head;
    Atomics.store(head, C_READ, this.read);
    if (Atomics.load(head, C_WRITER_WAITS) === 0) return;
    if (drained || ((Atomics.load(head, C_WRITTEN) - this.read) & COUNTER_MASK) * 2 <= this.capacity) {
      Atomics.notify(head, C_READ);
    }
  }

  private decodeSegment(s: number, seg: TcpSegment): void {
    const f = s * RECORD_F64;
    const w = s * RECORD_U32;
    const u = this.u32;
    seg.tsSec = this.f64[f]!;
    seg.frame = this.f64[f + 1]!;
    const m = u[w + 4]!;
    seg.flags = (m >>> 4) & 0x1ff;
    seg.ipVersion = (m & (1 << 13)) !== 0 ? 6 : 4;
    seg.checksumOk = ((m >>> 14) & 3) - 1;
    seg.truncated = (m & (1 << 16)) !== 0;
    seg.tsDigits = (m >>> 17) & 0x1f;
    seg.tsNs = u[w + 5]!;
    const sa = seg.srcAddr;
    const da = seg.dstAddr;
    sa[0] = u[w + 6]!;
    sa[1] = u[w + 7]!;
    sa[2] = u[w + 8]!;
    sa[3] = u[w + 9]!;
    da[0] = u[w + 10]!;
    da[1] = u[w + 11]!;
    da[2] = u[w + 12]!;
    da[3] = u[w + 13]!;
    const ports = u[w + 14]!;
    seg.srcPort = ports >>> 16;
    seg.dstPort = ports & 0xffff;
    seg.seq = u[w + 15]!;
    seg.ack = u[w + 16]!;
    const wt = u[w + 17]!;
    seg.window = wt & 0xffff;
    seg.tunnel = this.tunnels[wt >>> 16] ?? '';
    seg.payloadLen = u[w + 18]!;
    seg.windowScale = ((m >>> 22) & 0x1ff) - 1;
  }

  private readTunnel(s: number, kind: number): void {
    const m = this.u32[s * RECORD_U32 + 4]!;
    const part = (m >>> 4) & 0xff;
    const b = s * RECORD_BYTES + 20;
    let chars = '';
    for (let i = 0; i < part; i++) chars += String.fromCharCode(this.u8[b + i]!);
    this.tunnelChars += chars;
    if (kind === Kind.TunnelDef) {
      this.tunnels[m >>> 12] = this.tunnelChars;
      this.tunnelChars = '';
    }
  }
}
