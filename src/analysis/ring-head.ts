/**
 * What the two shared-memory rings of a parallel run have in common (segment-ring.ts carries segments to a
 * worker, ended-ring.ts carries ended connections back): a 128-byte head of Atomics counters ahead of fixed-size
 * records, one writer and one reader.
 *
 * The writer publishes the count of records written, the reader the count consumed; each waits on the other's
 * counter when the ring is full or empty, after raising a flag that it waits, and each wakes the other only when
 * that flag is up (a notify costs microseconds). What the writer writes (its counter and its flag) sits on one
 * cache line, what the reader writes on another, so that neither's writes evict the other's line. Counters run
 * modulo 2^30 (a multiple of the power-of-two capacity), so a ring has no end.
 */

export const HEAD_BYTES = 128;
/** Int32 words of the head. */
export const C_WRITTEN = 0;
export const C_WRITER_WAITS = 1;
export const C_READ = 16;
export const C_READER_WAITS = 17;
/** Counters wrap here (so that int32 Atomics never overflow). */
export const COUNTER_MASK = 0x3fff_ffff;

/**
 * A ring's buffer: `records` records (a power of two) of `recordBytes` each. `start` is where both counters begin
 * (tests start them just short of where they wrap).
 */
export function newRingSab(recordBytes: number, records: number, start = 0): SharedArrayBuffer {
  if (records < 16 || (records & (records - 1)) !== 0) throw new RangeError(`ring size ${records} is not a power of two ≥ 16`);
  const sab = new SharedArrayBuffer(HEAD_BYTES + records * recordBytes);
  const head = new Int32Array(sab, 0, HEAD_BYTES / 4);
  head[C_WRITTEN] = start & COUNTER_MASK;
  head[C_READ] = start & COUNTER_MASK;
  return sab;
}

/**
 * Waits (up to `timeoutMs`) for a notify on `word[index]` while it still holds `value`, as Atomics.waitAsync does,
 * but keeps Node's event loop alive meanwhile: a pending waitAsync alone does not, and a notify sent by a thread
 * that then exits could be lost with the loop empty, leaving the waiter pending for ever. A timer of the same
 * length does keep it alive, and is cleared as soon as the wait ends.
 */
export async function waitForNotify(word: Int32Array, index: number, value: number, timeoutMs: number): Promise<void> {
  const w = Atomics.waitAsync(word, index, value, timeoutMs);
  if (!w.async) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([w.value, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One end's asynchronous wait on the other end's counter: raise this end's flag (the other end notifies only
 * when it is up), sleep while the counter still reads `expected`, lower the flag. Raising the flag before looking
 * at the counter again loses no wake-up: an end that moved its counter before it saw the flag did not notify,
 * but its counter is visible by then (sequentially consistent Atomics). A wait given up on (another wake-up won
 * the race it was in) lowers the flag when it ends only if no later wait has raised it since.
 */
export class CounterWait {
  private waits = 0;

  constructor(
    private readonly head: Int32Array,
    private readonly flag: number,
    private readonly counter: number,
  ) {}

  async whileUnchanged(expected: number, timeoutMs: number): Promise<void> {
    const head = this.head;
    const wait = ++this.waits;
    Atomics.store(head, this.flag, 1);
    if (Atomics.load(head, this.counter) === expected) await waitForNotify(head, this.counter, expected, timeoutMs);
    if (wait === this.waits) Atomics.store(head, this.flag, 0);
  }
}

/**
 * A doorbell: one shared word that any worker rings to wake the reading thread, whichever ring that thread is
 * asleep on (a worker about to wait for room in its ring of ended connections rings it: the reading thread may be
 * waiting for room in another worker's segment ring, and would not otherwise wake until that one has room).
 */
export class Doorbell {
  private readonly word: Int32Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.word = new Int32Array(sab, 0, 1);
  }

  ring(): void {
    Atomics.add(this.word, 0, 1);
    Atomics.notify(this.word, 0);
  }

  /** Settles when the bell rings (after this call), or after `timeoutMs`. */
  async waitForRing(timeoutMs: number): Promise<void> {
    await waitForNotify(this.word, 0, Atomics.load(this.word, 0), timeoutMs);
  }
}

/** The views every end of a ring reads and writes through: the head's counters, and the records in four types. */
export class RingViews {
  protected readonly head: Int32Array;
  protected readonly f64: Float64Array;
  protected readonly u32: Uint32Array;
  protected readonly i32: Int32Array;
  protected readonly u8: Uint8Array;
  protected readonly capacity: number;
  protected readonly slotMask: number;

  constructor(sab: SharedArrayBuffer, recordBytes: number) {
    this.head = new Int32Array(sab, 0, HEAD_BYTES / 4);
    this.capacity = (sab.byteLength - HEAD_BYTES) / recordBytes;
    this.slotMask = this.capacity - 1;
    const bytes = this.capacity * recordBytes;
    this.f64 = new Float64Array(sab, HEAD_BYTES, bytes / 8);
    this.u32 = new Uint32Array(sab, HEAD_BYTES, bytes / 4);
    this.i32 = new Int32Array(sab, HEAD_BYTES, bytes / 4);
    this.u8 = new Uint8Array(sab, HEAD_BYTES, bytes);
  }
}

/**
 * What both rings' writing ends share: the count of records written, how much of it the reader has been shown
 * (publish), and the reader's count as last loaded (it only grows, so a stale value only underestimates the room).
 * Records are published in batches — `firstPublish` records, then twice as many each time up to `maxPublish` —
 * because publishing is a sequentially consistent store to the line the reader polls, which then moves between
 * the cores' caches.
 */
export class RingWriterEnd extends RingViews {
  protected written: number;
  protected published: number;
  protected readSeen: number;
  protected publishEvery: number;

  constructor(
    sab: SharedArrayBuffer,
    recordBytes: number,
    firstPublish: number,
    private readonly maxPublish: number,
  ) {
    super(sab, recordBytes);
    this.written = Atomics.load(this.head, C_WRITTEN);
    this.published = this.written;
    this.readSeen = Atomics.load(this.head, C_READ);
    this.publishEvery = firstPublish;
  }

  /** Makes the records written so far visible to the reader, and wakes it if it waits. */
  publish(): void {
    if (this.published === this.written) return;
    this.published = this.written;
    Atomics.store(this.head, C_WRITTEN, this.written);
    if (Atomics.load(this.head, C_READER_WAITS) !== 0) Atomics.notify(this.head, C_WRITTEN);
  }

  /** The slot the next record goes to. */
  protected slot(): number {
    return this.written & this.slotMask;
  }

  /** Counts the record just written into slot(), publishing when a batch is complete. */
  protected advance(): void {
    this.written = (this.written + 1) & COUNTER_MASK;
    if (((this.written - this.published) & COUNTER_MASK) >= this.publishEvery) {
      this.publish();
      if (this.publishEvery < this.maxPublish) this.publishEvery = Math.min(this.maxPublish, this.publishEvery * 2);
    }
  }
}
