/**
 * A one-writer, one-reader ring of ended connections in a SharedArrayBuffer: how a parallel run's worker hands
 * each connection its table emits back to the reading thread, which classifies and counts it (parallel-run.ts).
 *
 * Why the reading thread classifies: the workers' tables are the run's critical path, bound by memory latency,
 * while the reading thread waits for them about half the time; classifying and counting the connections was a
 * quarter of a worker's time (docs/performance.md). A record is the connection's state as Connection.saveState
 * writes it (one copy of both ends and the addresses, then the fields: 1.2 KB), why the table emitted it, the
 * capture end it is judged against, and its encapsulation name. Nothing is allocated per connection on either
 * side: the reader loads each record into one reused Connection.
 *
 * Synchronisation as ring-head.ts says. Here the writer (a worker) blocks while the ring is full, and the reader
 * (the reading thread) polls: between chunks of input, and before it waits for room in a segment ring. A worker
 * about to block wakes the reading thread first (its `beforeWait` rings the doorbell of ring-head.ts).
 */
import { CONNECTION_BUFFER_WORDS, CONNECTION_STATE_WORDS, Connection } from '../conn/connection.js';
import type { EmitReason } from '../conn/connection-table.js';
import { C_READ, C_READER_WAITS, C_WRITER_WAITS, C_WRITTEN, COUNTER_MASK, CounterWait, newRingSab, RingViews, RingWriterEnd } from './ring-head.js';
import { MAX_TUNNEL_NAME } from './segment-ring.js';

/** Word after the state: the record's kind (low 4 bits), the reason (next 4), the tunnel name's length (above). */
const META = CONNECTION_STATE_WORDS;
const CAPTURE_END = META + 1;
const TUNNEL_BYTE = (META + 2) * 8;
/** Whole cache lines, so that records never share one. */
const RECORD_BYTES = Math.ceil((TUNNEL_BYTE + MAX_TUNNEL_NAME) / 64) * 64;
const RECORD_F64 = RECORD_BYTES / 8;

const Kind = {
  Connection: 1,
  /** The worker's table has emitted its last connection. */
  End: 2,
} as const;

/** The reasons, by the number a record carries. */
const REASONS: readonly EmitReason[] = ['finished', 'evicted', 'superseded', 'end-of-capture'];

/**
 * Records a ring holds by default (3 MB): about as many connections as a worker's table emits between two of the
 * reading thread's looks at the ring in the middle of a run. A sweep, or the flush at the end, can emit tens of
 * thousands at once: the worker then waits for room.
 */
export const DEFAULT_ENDED_RECORDS = 2048;

/** How long the blocked writer sleeps at a time before it looks again (so that terminate() is not held up). */
const WAIT_SLICE_MS = 100;

/** A new ring's buffer, for `records` records (a power of two); `start` as newRingSab's. */
export function newEndedRing(records = DEFAULT_ENDED_RECORDS, start = 0): SharedArrayBuffer {
  return newRingSab(RECORD_BYTES, records, start);
}

/** Records written before the writer publishes them (besides before it waits, and at the end; RingWriterEnd). */
const PUBLISH_EVERY = 64;

/**
 * The writing end (a worker). Records are published in batches: every PUBLISH_EVERY, when the ring is full,
 * at the end, and whenever the worker asks (publish(): before it waits for segments).
 */
export class EndedRingWriter extends RingWriterEnd {
  /** `beforeWait` runs each time the writer is about to block for room. */
  constructor(sab: SharedArrayBuffer, private readonly beforeWait: () => void = () => undefined) {
    super(sab, RECORD_BYTES, PUBLISH_EVERY, PUBLISH_EVERY);
  }

  /** An ended connection, why it left the table, and the capture end it is to be judged against. */
  connection(conn: Connection, reason: EmitReason, captureEnd: number): void {
    const s = this.claim();
    const at = s * RECORD_F64;
    conn.saveState(this.f64, at);
    const tunnel = conn.tunnel;
    const n = Math.min(tunnel.length, MAX_TUNNEL_NAME);
    const b = s * RECORD_BYTES + TUNNEL_BYTE;
    for (let i = 0; i < n; i++) this.u8[b + i] = tunnel.charCodeAt(i) & 0x7f;
    this.f64[at + META] = Kind.Connection | (REASONS.indexOf(reason) << 4) | (n << 8);
    this.f64[at + CAPTURE_END] = captureEnd;
    this.advance();
  }

  /** The table's last connection has been written. */
  end(): void {
    const s = this.claim();
    this.f64[s * RECORD_F64 + META] = Kind.End;
    this.advance();
    this.publish();
  }

  /** The slot to write next, once there is room (blocking until the reader makes some). */
  private claim(): number {
    const head = this.head;
    while (((this.written - this.readSeen) & COUNTER_MASK) >= this.capacity) {
      this.readSeen = Atomics.load(head, C_READ);
      if (((this.written - this.readSeen) & COUNTER_MASK) < this.capacity) break;
      this.publish();
      this.beforeWait();
      // Raise the flag, then look again: a reader that drained before it saw the flag did not wake us, but its
      // counter is visible now.
      Atomics.store(head, C_WRITER_WAITS, 1);
      const seen = Atomics.load(head, C_READ);
      if (seen === this.readSeen) Atomics.wait(head, C_READ, seen, WAIT_SLICE_MS);
      Atomics.store(head, C_WRITER_WAITS, 0);
      this.readSeen = Atomics.load(head, C_READ);
    }
    return this.slot();
  }
}

/** What the reading end hands each ended connection to (the connection is reused: valid during the call). */
export type EndedHandler = (conn: Connection, reason: EmitReason, captureEnd: number) => void;

/** Records read before the reader hands their slots back to a writer that may be waiting. */
const RELEASE_EVERY = 256;

/** The reading end (the reading thread): polls, never blocks. */
export class EndedRingReader extends RingViews {
  constructor(sab: SharedArrayBuffer) {
    super(sab, RECORD_BYTES);
  }

  private read = Atomics.load(this.head, C_READ);
  private readonly conn = new Connection(false);
  /** Each slot's saved connection buffer, viewed once (Connection.loadState copies it with one set). */
  private readonly buffers: Float64Array[] = Array.from({ length: this.capacity }, (_, s) =>
    new Float64Array(this.f64.buffer, this.f64.byteOffset + s * RECORD_BYTES, CONNECTION_BUFFER_WORDS));
  private isEnded = false;

  /** Whether the End record has been read: the worker's table will emit nothing more. */
  get ended(): boolean {
    return this.isEnded;
  }

  /** Hands every connection written so far to `take`; returns how many records were read. */
  drain(take: EndedHandler): number {
    const written = Atomics.load(this.head, C_WRITTEN);
    let count = 0;
    while (this.read !== written) {
      const s = this.read & this.slotMask;
      const at = s * RECORD_F64;
      const meta = this.f64[at + META]!;
      const kind = meta & 15;
      if (kind === Kind.Connection) {
        const c = this.conn;
        c.loadState(this.buffers[s]!, this.f64, at);
        c.tunnel = this.tunnelAt(s, meta >>> 8);
        take(c, REASONS[(meta >>> 4) & 15]!, this.f64[at + CAPTURE_END]!);
      } else if (kind === Kind.End) {
        this.isEnded = true;
      } else {
        throw new Error(`ended-connection ring: unknown record kind ${kind}`);
      }
      this.read = (this.read + 1) & COUNTER_MASK;
      if (++count % RELEASE_EVERY === 0) this.release();
    }
    if (count > 0) this.release();
    return count;
  }

  private readonly recordWait = new CounterWait(this.head, C_READER_WAITS, C_WRITTEN);

  /** Waits (up to `timeoutMs`) until the writer has written something not yet read. */
  async waitForRecords(timeoutMs: number): Promise<void> {
    await this.recordWait.whileUnchanged(this.read, timeoutMs);
  }

  private release(): void {
    Atomics.store(this.head, C_READ, this.read);
    if (Atomics.load(this.head, C_WRITER_WAITS) !== 0) Atomics.notify(this.head, C_READ);
  }

  private tunnelAt(s: number, n: number): string {
    if (n === 0) return '';
    const b = s * RECORD_BYTES + TUNNEL_BYTE;
    let name = '';
    for (let i = 0; i < n; i++) name += String.fromCharCode(this.u8[b + i]!);
    return name;
  }
}
