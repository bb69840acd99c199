import type { TcpSegment } from '../decode/segment.js';

/**
 * An open-addressing hash index from a TCP 4-tuple (both directions) to a small integer, held in one typed array.
 *
 * Why not a Map from the hash to a chain of connection objects: at tens of thousands of open connections every
 * lookup then missed the cache three times (the Map's bucket, the connection object, its two address arrays).
 * Here an entry is two 32-bit words: the 32-bit symmetric hash and the value + 1 (0 = free). The tuples are not
 * kept here but by the index's user (TupleKeys): a lookup asks it only about entries whose hash matches, which
 * for a 32-bit hash is nearly always the right one — for the connection table, the connection the packet goes
 * to next anyway. At 8 bytes an entry, the index of the benchmark capture (16,000 open connections and 32,768
 * tombstones) takes 1 MB, the size of the L2 cache, where the tuples inline (48 bytes an entry) took 6 MB.
 * Nothing is allocated: not on insert, not on removal (linear probing with backward-shift deletion leaves no
 * deleted markers behind), only when the array doubles.
 */
const WORDS = 2;
const W_HASH = 0;
const W_VALUE = 1;

/** What the index asks of its user about the tuple stored under a value. */
export interface TupleKeys {
  /** 0 when `seg` goes from the tuple's client to its server, 1 the other way, -1 when it is another tuple. */
  tupleDir(value: number, seg: TcpSegment): number;
}

/**
 * Which way `seg` goes on the tuple whose client address is words[clientAt..+4), server address
 * words[serverAt..+4) and ports `clientPort`, `serverPort` (the IP version checked by the caller): 0 from the
 * client, 1 from the server, -1 another tuple. The check behind the index (TupleKeys), for connections and
 * tombstones alike.
 */
export function tupleDirIn(seg: TcpSegment, words: Uint32Array, clientAt: number, serverAt: number, clientPort: number, serverPort: number): number {
  const sa = seg.srcAddr;
  const da = seg.dstAddr;
  const c = clientAt;
  const v = serverAt;
  if (seg.srcPort === clientPort && seg.dstPort === serverPort
    && sa[0] === words[c] && sa[1] === words[c + 1] && sa[2] === words[c + 2] && sa[3] === words[c + 3]
    && da[0] === words[v] && da[1] === words[v + 1] && da[2] === words[v + 2] && da[3] === words[v + 3]) return 0;
  if (seg.srcPort === serverPort && seg.dstPort === clientPort
    && da[0] === words[c] && da[1] === words[c + 1] && da[2] === words[c + 2] && da[3] === words[c + 3]
    && sa[0] === words[v] && sa[1] === words[v + 1] && sa[2] === words[v + 2] && sa[3] === words[v + 3]) return 1;
  return -1;
}

/**
 * 32-bit words of a tuple record (Connection.copyTuple writes one): the IP version, the ports (client << 16 |
 * server), the client's address, the server's. What a tombstone and a hibernated connection keep of their tuple.
 */
export const TUPLE_RECORD_WORDS = 10;

/** tupleDirIn for the tuple record at words[o..o + TUPLE_RECORD_WORDS) (the IP version checked here). */
export function tupleDirOfRecord(seg: TcpSegment, words: Uint32Array, o: number): number {
  if (words[o] !== seg.ipVersion) return -1;
  const ports = words[o + 1]!;
  return tupleDirIn(seg, words, o + 2, o + 6, ports >>> 16, ports & 0xffff);
}

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

  /** An index whose values' tuples `keys` knows. */
  constructor(
    private readonly keys: TupleKeys,
    initialCapacity = 1024,
  ) {
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
    // Bounded: the table is at most half full, so a free entry ends every probe sequence.
    for (let i = this.home(hash); ; i = (i + 1) & mask) {
      const o = i * WORDS;
      const v = e[o + W_VALUE]!;
      if (v === 0) return -1;
      if (e[o + W_HASH] !== h) continue;
      const dir = this.keys.tupleDir(v - 1, seg);
      if (dir < 0) continue;
      this.dir = dir;
      this.at = i;
      return v - 1;
    }
  }

  /**
   * Adds an entry for a value whose tuple the keys know (the tuple must not be in the index already). `value`
   * is a non-negative integer below 2^32 - 1.
   */
  insert(hash: number, value: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const e = this.e;
    const mask = this.mask;
    let i = this.home(hash);
    while (e[i * WORDS + W_VALUE] !== 0) i = (i + 1) & mask;
    e[i * WORDS + W_HASH] = hash >>> 0;
    e[i * WORDS + W_VALUE] = value + 1;
    this.count++;
  }

  /**
   * Sets the value of the entry at position `at` (from find() or position(), with no insert or removal since): a
   * tuple changes hands (a connection becomes its tombstone, or a tombstone gives way to the tuple's next
   * connection) in place, without a removal and an insertion. The new value's tuple must be the same.
   */
  setValueAt(at: number, value: number): void {
    this.e[at * WORDS + W_VALUE] = value + 1;
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
      e[i * WORDS + W_HASH] = e[oj + W_HASH]!;
      e[i * WORDS + W_VALUE] = e[oj + W_VALUE]!;
      i = j;
    }
    e[i * WORDS + W_HASH] = 0;
    e[i * WORDS + W_VALUE] = 0;
    this.count--;
  }

  /** Removes every entry. */
  clear(): void {
    this.e.fill(0);
    this.count = 0;
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
