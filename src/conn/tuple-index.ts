import type { TcpSegment } from '../decode/segment.js';

/**
 * An open-addressing hash index from a TCP 4-tuple (both directions) to a small integer, held in one typed array.
 *
 * Why not a Map from the hash to a chain of connection objects: at tens of thousands of open connections every
 * lookup then missed the cache three times (the Map's bucket, the connection object, its two address arrays).
 * Here an entry keeps its tuple inline, so a lookup reads one or two cache lines of a single array, and nothing
 * is allocated: not on insert, not on removal (linear probing with backward-shift deletion leaves no
 * tombstone entries behind), only when the array doubles.
 *
 * An entry is WORDS 32-bit words: the 32-bit symmetric hash, the value + 1 (0 = free), the IP version, the
 * client address (4 words), the server address (4 words), and the ports (client << 16 | server).
 */
const WORDS = 12;
const W_HASH = 0;
const W_VALUE = 1;
const W_VERSION = 2;
const W_CLIENT = 3;
const W_SERVER = 7;
const W_PORTS = 11;

/** Symmetric hash of the 4-tuple: the same for both directions (the endpoint hashes are added, as gopacket's FastHash). */
export function tupleHash(seg: TcpSegment): number {
  return (endpointHash(seg.srcAddr, seg.srcPort) + endpointHash(seg.dstAddr, seg.dstPort)) | 0;
}

function endpointHash(addr: Uint32Array, port: number): number {
  let h = Math.imul(port ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ addr[0]!, 0xc2b2ae35);
  h = Math.imul(h ^ addr[1]!, 0x85ebca6b);
  h = Math.imul(h ^ addr[2]!, 0xc2b2ae35);
  h = Math.imul(h ^ addr[3]!, 0x85ebca6b);
  return h ^ (h >>> 15);
}

export class TupleIndex {
  private e: Uint32Array;
  private mask: number;
  private shift: number;
  count = 0;
  /** Set by find(): 0 when the segment goes from the entry's client to its server, 1 the other way. */
  dir = 0;
  /** Set by find(): the position of the entry found (valid until the next insert or removal). */
  at = -1;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.e = new Uint32Array(cap * WORDS);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  /** Home position of a hash: the symmetric hash is mixed again (Fibonacci hashing) so that its high bits count. */
  private home(hash: number): number {
    return Math.imul(hash, 0x9e3779b1) >>> this.shift;
  }

  /** The value stored for the segment's tuple, or -1; sets `dir`. */
  find(seg: TcpSegment, hash: number): number {
    const e = this.e;
    const mask = this.mask;
    const h = hash >>> 0;
    const sa = seg.srcAddr;
    const da = seg.dstAddr;
    // The ports of both orientations, packed as an entry stores them (client << 16 | server).
    const fwdPorts = ((seg.srcPort << 16) | seg.dstPort) >>> 0;
    const revPorts = ((seg.dstPort << 16) | seg.srcPort) >>> 0;
    // Bounded: the table is at most half full, so a free entry ends every probe sequence.
    for (let i = this.home(hash); ; i = (i + 1) & mask) {
      const o = i * WORDS;
      const v = e[o + W_VALUE]!;
      if (v === 0) return -1;
      if (e[o + W_HASH] !== h || e[o + W_VERSION] !== seg.ipVersion) continue;
      const ports = e[o + W_PORTS]!;
      if (ports === fwdPorts
        && e[o + W_CLIENT] === sa[0] && e[o + W_CLIENT + 1] === sa[1] && e[o + W_CLIENT + 2] === sa[2] && e[o + W_CLIENT + 3] === sa[3]
        && e[o + W_SERVER] === da[0] && e[o + W_SERVER + 1] === da[1] && e[o + W_SERVER + 2] === da[2] && e[o + W_SERVER + 3] === da[3]) {
        this.dir = 0;
        this.at = i;
        return v - 1;
      }
      if (ports === revPorts
        && e[o + W_CLIENT] === da[0] && e[o + W_CLIENT + 1] === da[1] && e[o + W_CLIENT + 2] === da[2] && e[o + W_CLIENT + 3] === da[3]
        && e[o + W_SERVER] === sa[0] && e[o + W_SERVER + 1] === sa[1] && e[o + W_SERVER + 2] === sa[2] && e[o + W_SERVER + 3] === sa[3]) {
        this.dir = 1;
        this.at = i;
        return v - 1;
      }
    }
  }

  /** Adds an entry (the tuple must not be in the index). `value` is a non-negative integer below 2^32 - 1. */
  insert(hash: number, value: number, ipVersion: number, clientAddr: ArrayLike<number>, serverAddr: ArrayLike<number>, clientPort: number, serverPort: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    this.put(hash >>> 0, value + 1, ipVersion, clientAddr, serverAddr, ((clientPort << 16) | serverPort) >>> 0);
    this.count++;
  }

  /**
   * Overwrites the entry at position `at` (from find() or position(), with no insert or removal since) with
   * another value and tuple of the same hash: a tuple changes hands (a connection becomes its tombstone, or a
   * tombstone gives way to the tuple's next connection) in place, without a removal and an insertion.
   */
  overwrite(at: number, value: number, ipVersion: number, clientAddr: ArrayLike<number>, serverAddr: ArrayLike<number>, clientPort: number, serverPort: number): void {
    const e = this.e;
    const o = at * WORDS;
    e[o + W_VALUE] = value + 1;
    e[o + W_VERSION] = ipVersion;
    e[o + W_CLIENT] = clientAddr[0]!;
    e[o + W_CLIENT + 1] = clientAddr[1]!;
    e[o + W_CLIENT + 2] = clientAddr[2]!;
    e[o + W_CLIENT + 3] = clientAddr[3]!;
    e[o + W_SERVER] = serverAddr[0]!;
    e[o + W_SERVER + 1] = serverAddr[1]!;
    e[o + W_SERVER + 2] = serverAddr[2]!;
    e[o + W_SERVER + 3] = serverAddr[3]!;
    e[o + W_PORTS] = ((clientPort << 16) | serverPort) >>> 0;
  }

  /** Sets the value of the entry at position `at` (from find() or position(), with no insert or removal since). */
  setValueAt(at: number, value: number): void {
    this.e[at * WORDS + W_VALUE] = value + 1;
  }

  private put(h: number, v1: number, ipVersion: number, ca: ArrayLike<number>, sa: ArrayLike<number>, ports: number): void {
    const e = this.e;
    const mask = this.mask;
    let i = this.home(h);
    while (e[i * WORDS + W_VALUE] !== 0) i = (i + 1) & mask;
    const o = i * WORDS;
    e[o + W_HASH] = h;
    e[o + W_VALUE] = v1;
    e[o + W_VERSION] = ipVersion;
    e[o + W_CLIENT] = ca[0]!;
    e[o + W_CLIENT + 1] = ca[1]!;
    e[o + W_CLIENT + 2] = ca[2]!;
    e[o + W_CLIENT + 3] = ca[3]!;
    e[o + W_SERVER] = sa[0]!;
    e[o + W_SERVER + 1] = sa[1]!;
    e[o + W_SERVER + 2] = sa[2]!;
    e[o + W_SERVER + 3] = sa[3]!;
    e[o + W_PORTS] = ports;
  }

  /** Position of the entry holding `value` (stored under `hash`), or -1. */
  position(hash: number, value: number): number {
    const e = this.e;
    const mask = this.mask;
    const v1 = value + 1;
    for (let i = this.home(hash); ; i = (i + 1) & mask) {
      const v = e[i * WORDS + W_VALUE]!;
      if (v === 0) return -1;
      if (v === v1) return i;
    }
  }

  /** Removes the entry holding `value` (stored under `hash`); false when there is none. */
  remove(hash: number, value: number): boolean {
    const i = this.position(hash, value);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /** Removes the entry at position `at` (from find() or position(), with no insert or removal since). */
  removeAt(at: number): void {
    let i = at;
    const e = this.e;
    const mask = this.mask;
    // Backward-shift deletion: move later entries of the run back into the hole when their home allows it, so
    // that no probe sequence is cut short and no deleted-marker is needed.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const oj = j * WORDS;
      if (e[oj + W_VALUE] === 0) break;
      const k = this.home(e[oj + W_HASH]!);
      // The entry at j may fill the hole at i when its home k does not lie cyclically in (i, j].
      const between = i <= j ? i < k && k <= j : i < k || k <= j;
      if (between) continue;
      e.copyWithin(i * WORDS, oj, oj + WORDS);
      i = j;
    }
    e.fill(0, i * WORDS, i * WORDS + WORDS);
    this.count--;
  }

  private grow(): void {
    const old = this.e;
    const cap = (this.mask + 1) * 2;
    this.e = new Uint32Array(cap * WORDS);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    // Entries move word by word: a view per entry (subarray) would make garbage on every growth.
    const e = this.e;
    const mask = this.mask;
    for (let o = 0; o < old.length; o += WORDS) {
      if (old[o + W_VALUE] === 0) continue;
      let i = this.home(old[o + W_HASH]!);
      while (e[i * WORDS + W_VALUE] !== 0) i = (i + 1) & mask;
      const n = i * WORDS;
      for (let k = 0; k < WORDS; k++) e[n + k] = old[o + k]!;
    }
  }
}
