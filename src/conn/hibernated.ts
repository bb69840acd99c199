/**
 * Hibernated connections: open connections that have been idle for a while, their state kept in slabs of plain
 * numbers instead of in connection objects, until a packet (or the end of the capture) wakes them.
 *
 * Why: a capture with many connections left open for minutes (the server that never closes its CLOSE_WAIT
 * sockets, idle pools, keepalive sessions) otherwise holds a connection object for each: tens of thousands of
 * objects, built once each because the table's pool never has enough, copied by every young-generation collection
 * until they are promoted, and scattered, so that the end of the capture reads each one through a chain of cache
 * misses. Here an idle connection's state is copied (Connection.saveState, the format a parallel run's worker
 * hands back) into a slab record while it is still warm, its object goes back to the pool for the next connection,
 * and the records lie in a few large chunks rather than in tens of thousands of small objects.
 *
 * The table (ConnectionTable) keeps everything else as it was: the connection's slot, its index entry and its place
 * in the activity order. A record also keeps the connection's tuple, so that the index can check a candidate
 * without waking it (the tuple record tombstones keep too, tuple-index.ts). Records are numbered; the slabs grow a
 * chunk at a time (never copied, so growing never holds two copies) up to the most connections hibernated at
 * once, and numbers are freed and reused in any order.
 */
import type { TcpSegment } from '../decode/segment.js';
import { CONNECTION_BUFFER_WORDS, CONNECTION_STATE_WORDS, type Connection } from './connection.js';
import { TUPLE_RECORD_WORDS, tupleDirOfRecord } from './tuple-index.js';

/** Records per chunk (a power of two): 256 records of 1.2 KB, 300 KB a chunk. */
const CHUNK_SHIFT = 8;
const CHUNK_RECORDS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_RECORDS - 1;

export class HibernatedConnections {
  /** The state slabs: chunk k holds records k * CHUNK_RECORDS onwards, CONNECTION_STATE_WORDS words each. */
  private readonly chunks: Float64Array[] = [];
  private tuple = new Uint32Array(0);
  private hash = new Int32Array(0);
  /** Encapsulation names (saveState leaves them to the caller). */
  private readonly tunnel: string[] = [];
  /** Free record numbers (a stack). */
  private free = new Int32Array(0);
  private freeCount = 0;
  /** Records hibernated now. */
  count = 0;

  /** Records the slabs hold (in use or free). */
  get capacity(): number {
    return this.chunks.length * CHUNK_RECORDS;
  }

  /** Keeps `conn`'s state (an untraced connection without Zeek's view) in a record; returns the record's number. */
  put(conn: Connection): number {
    if (this.freeCount === 0) this.grow();
    const r = this.free[--this.freeCount]!;
    conn.saveState(this.chunks[r >>> CHUNK_SHIFT]!, (r & CHUNK_MASK) * CONNECTION_STATE_WORDS);
    conn.copyTuple(this.tuple, r * TUPLE_RECORD_WORDS);
    this.hash[r] = conn.hash;
    this.tunnel[r] = conn.tunnel;
    this.count++;
    return r;
  }

  /**
   * Takes record `r`'s state back into `conn` (reset, untraced) with its hash and encapsulation name; the record
   * is free afterwards.
   */
  take(r: number, conn: Connection): void {
    const chunk = this.chunks[r >>> CHUNK_SHIFT]!;
    const at = (r & CHUNK_MASK) * CONNECTION_STATE_WORDS;
    // A view made per wake (a young object, cheap) rather than one kept per record (a chunk's worth made at once).
    conn.loadState(chunk.subarray(at, at + CONNECTION_BUFFER_WORDS), chunk, at);
    conn.tunnel = this.tunnel[r]!;
    conn.hash = this.hash[r]!;
    this.tunnel[r] = '';
    this.free[this.freeCount++] = r;
    this.count--;
  }

  /** Which way `seg` goes on record `r`'s tuple: 0 from its client, 1 from its server, -1 another tuple. */
  tupleDir(r: number, seg: TcpSegment): number {
    return tupleDirOfRecord(seg, this.tuple, r * TUPLE_RECORD_WORDS);
  }

  /** One more chunk, its records free (lowest numbers taken first). */
  private grow(): void {
    const first = this.capacity;
    const chunk = new Float64Array(CHUNK_RECORDS * CONNECTION_STATE_WORDS);
    this.chunks.push(chunk);
    for (let i = 0; i < CHUNK_RECORDS; i++) this.tunnel.push('');
    const cap = this.capacity;
    // The per-record arrays double (a copy per chunk would cost the square of the records).
    if (this.hash.length < cap) {
      const n = Math.max(cap, this.hash.length * 2);
      const tuple = new Uint32Array(n * TUPLE_RECORD_WORDS);
      tuple.set(this.tuple);
      this.tuple = tuple;
      const hash = new Int32Array(n);
      hash.set(this.hash);
      this.hash = hash;
      const free = new Int32Array(n);
      free.set(this.free.subarray(0, this.freeCount));
      this.free = free;
    }
    for (let r = cap - 1; r >= first; r--) this.free[this.freeCount++] = r;
  }
}
