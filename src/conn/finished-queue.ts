/**
 * The connection table's queue of finished connections waiting out their grace period: (slot, id) pairs in the
 * order they finished, in typed arrays used as a ring that doubles when full.
 *
 * Why not two JS arrays with a head index: the queue lives for the whole run, and an array compacted with slice()
 * and grown again by push() allocates a new backing store every few hundred connections. On the benchmark capture
 * that was a third of everything the worker allocated, and its young-generation collections are on the critical
 * path of a parallel run. This ring allocates only when it grows past its largest size so far.
 *
 * Positions are absolute (they only grow; `head` is the first entry still queued, `tail` one past the last), so
 * that a reader walking the queue (the parking pass) can keep its place across pushes and pops.
 */
export class FinishedQueue {
  /** The entry at position p: its slot in slots[p & mask], its id in ids[p & mask] (ids are not bounded to 32 bits). */
  private slots: Int32Array;
  private ids: Float64Array;
  private mask: number;
  head = 0;
  tail = 0;

  constructor(capacity = 1024) {
    if (capacity < 1 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`capacity ${capacity} is not a power of two`);
    this.slots = new Int32Array(capacity);
    this.ids = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  get length(): number {
    return this.tail - this.head;
  }

  push(slot: number, id: number): void {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.slots[i] = slot;
    this.ids[i] = id;
    this.tail++;
  }

  /** The slot of the entry at position p (head <= p < tail). */
  slotAt(p: number): number {
    return this.slots[p & this.mask]!;
  }

  /** The id of the entry at position p (head <= p < tail). */
  idAt(p: number): number {
    return this.ids[p & this.mask]!;
  }

  clear(): void {
    this.head = 0;
    this.tail = 0;
  }

  /** Twice the room; the entries keep their positions. */
  private grow(): void {
    const capacity = this.mask + 1;
    const slots = new Int32Array(2 * capacity);
    const ids = new Float64Array(2 * capacity);
    const mask = 2 * capacity - 1;
    for (let p = this.head; p < this.tail; p++) {
      slots[p & mask] = this.slots[p & this.mask]!;
      ids[p & mask] = this.ids[p & this.mask]!;
    }
    this.slots = slots;
    this.ids = ids;
    this.mask = mask;
  }
}
