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
 * A worker's table also parks finished connections here (conn/parked.ts): their records are written a moment
 * after they finish but are published only when the table commits them at the end of their grace period; one
 * whose connection a late packet takes back is voided, and the reader skips it. Records are published in order,
 * so the reader sees nothing past the oldest record not yet committed.
 *
 * Synchronisation as ring-head.ts says. Here the writer (a worker) blocks while the ring is full, and the reader
 * (the reading thread) polls: between chunks of input, and before it waits for room in a segment ring. A worker
 * about to block wakes the reading thread first (its `beforeWait` rings the doorbell of ring-head.ts).
 */
import { CONNECTION_BUFFER_WORDS, CONNECTION_STATE_WORDS, Connection } from '../conn/connection.js';
import type { EmitReason } from '../conn/connection-table.js';
import type { ParkingSink } from '../conn/parked.js';
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
  /** A parked connection taken back by its table (it will come again): nothing to read. */
  Void: 3,
} as const;

/** The reasons, by the number a record carries. */
const REASONS: readonly EmitReason[] = ['finished', 'evicted', 'superseded', 'end-of-capture'];

/**
 * Records a ring holds by default (5 MB): the connections parked in it during their grace period (about 1,000 on
 * the benchmark capture), and about as many as a worker's table emits between two of the reading thread's looks at
 * the ring in the middle of a run. With 2,048 the parked records crowded the others and the worker waited for
 * room; 8,192 was faster still but took the benchmark's 10 x capture over its memory goal (docs/performance.md).
 * A sweep, or the flush at the end, can emit tens of thousands at once: the worker then waits for room.
 */
export const DEFAULT_ENDED_RECORDS = 4096;

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
export class EndedRingWriter extends RingWriterEnd implements ParkingSink {
  /** `beforeWait` runs each time the writer is about to block for room. */
  constructor(sab: SharedArrayBuffer, private readonly beforeWait: () => void = () => undefined) {
    super(sab, RECORD_BYTES, PUBLISH_EVERY, PUBLISH_EVERY);
  }

  /** Parked records not yet committed or voided, by slot; how many; and the counter of the oldest of them. */
  private readonly pending = new Uint8Array(this.capacity);
  private pendingCount = 0;
  private firstPending = 0;
  /** Each slot's connection buffer, viewed once (for restore: Connection.loadState copies it with one set). */
  private buffers: Float64Array[] | null = null;
  /**
   * Called when the ring is full and parked records wait to be committed: the reader cannot pass them, and only
   * the table's next sweep would commit them, so the table must take them back (ConnectionTable.unparkAll).
   */
  onStuck: () => void = () => undefined;

  get parkCapacity(): number {
    return this.capacity;
  }

  /** An ended connection, why it left the table, and the capture end it is to be judged against. */
  connection(conn: Connection, reason: EmitReason, captureEnd: number): void {
    const s = this.claim();
    this.write(s, conn, reason);
    this.f64[s * RECORD_F64 + CAPTURE_END] = captureEnd;
    this.advance();
  }

  /** Room for a parked record: the ring at most half full, so that the records that are final never wait long. */
  canPark(): boolean {
    if (((this.written - this.readSeen) & COUNTER_MASK) < this.capacity >> 1) return true;
    this.readSeen = Atomics.load(this.head, C_READ);
    return ((this.written - this.readSeen) & COUNTER_MASK) < this.capacity >> 1;
  }

  /** A finished connection's record, not visible until commit(); its slot is the token. After canPark(). */
  park(conn: Connection): number {
    const s = this.slot();
    this.write(s, conn, 'finished');
    if (this.pendingCount++ === 0) this.firstPending = this.written;
    this.pending[s] = 1;
    this.advance();
    return s;
  }

  /** The parked record in slot `s` back into `conn` (a reset, untraced connection); the record is voided. */
  restore(s: number, conn: Connection): void {
    const at = s * RECORD_F64;
    const meta = this.f64[at + META]!;
    const buffers = (this.buffers ??= slotBuffers(this.f64, this.capacity));
    conn.loadState(buffers[s]!, this.f64, at);
    conn.tunnel = tunnelAt(this.u8, s, meta >>> 8);
    this.f64[at + META] = Kind.Void;
    this.settle(s);
  }

  /** The parked record in slot `s` is final, to be judged against `captureEnd`. */
  commit(s: number, captureEnd: number): void {
    this.f64[s * RECORD_F64 + CAPTURE_END] = captureEnd;
    this.settle(s);
  }

  /** Slot `s` is no longer pending: the records up to the next pending one may be published. */
  private settle(s: number): void {
    this.pending[s] = 0;
    this.pendingCount--;
    while (this.pendingCount > 0 && this.pending[this.firstPending & this.slotMask] === 0) {
      this.firstPending = (this.firstPending + 1) & COUNTER_MASK;
    }
    if (((this.publishable() - this.published) & COUNTER_MASK) >= this.publishEvery) this.publish();
  }

  /** The counter up to which records are final. */
  private publishable(): number {
    return this.pendingCount > 0 ? this.firstPending : this.written;
  }

  /** Makes the final records written so far visible to the reader (not past a parked record), and wakes it. */
  override publish(): void {
    const upTo = this.publishable();
    if (this.published === upTo) return;
    this.published = upTo;
    Atomics.store(this.head, C_WRITTEN, upTo);
    if (Atomics.load(this.head, C_READER_WAITS) !== 0) Atomics.notify(this.head, C_WRITTEN);
  }

  private write(s: number, conn: Connection, reason: EmitReason): void {
    const at = s * RECORD_F64;
    conn.saveState(this.f64, at);
    const tunnel = conn.tunnel;
    const n = Math.min(tunnel.length, MAX_TUNNEL_NAME);
    const b = s * RECORD_BYTES + TUNNEL_BYTE;
    for (let i = 0; i < n; i++) this.u8[b + i] = tunnel.charCodeAt(i) & 0x7f;
    this.f64[at + META] = Kind.Connection | (REASONS.indexOf(reason) << 4) | (n << 8);
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
      if (this.pendingCount > 0 && this.readSeen === this.firstPending) {
        // The reader has read everything final: what is left is parked, and waits for a sweep that this wait holds up.
        this.onStuck();
        if (this.pendingCount > 0) throw new Error('ended-connection ring: full of parked records that nothing takes back');
      }
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
  private readonly buffers: Float64Array[] = slotBuffers(this.f64, this.capacity);
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
        c.tunnel = tunnelAt(this.u8, s, meta >>> 8);
        take(c, REASONS[(meta >>> 4) & 15]!, this.f64[at + CAPTURE_END]!);
      } else if (kind === Kind.End) {
        this.isEnded = true;
      } else if (kind !== Kind.Void) {
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
}

/** A view of each slot's saved connection buffer (what Connection.loadState copies from, with one set). */
function slotBuffers(f64: Float64Array, capacity: number): Float64Array[] {
  return Array.from({ length: capacity }, (_, s) => new Float64Array(f64.buffer, f64.byteOffset + s * RECORD_BYTES, CONNECTION_BUFFER_WORDS));
}

/** The encapsulation name of the record in slot `s`, `n` bytes long. */
function tunnelAt(u8: Uint8Array, s: number, n: number): string {
  if (n === 0) return '';
  const b = s * RECORD_BYTES + TUNNEL_BYTE;
  let name = '';
  for (let i = 0; i < n; i++) name += String.fromCharCode(u8[b + i]!);
  return name;
}
