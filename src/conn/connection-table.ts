import { TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../decode/segment.js';
import { Connection } from './connection.js';
import { FinishedQueue } from './finished-queue.js';
import { HibernatedConnections } from './hibernated.js';
import { ParkedConnections, type ParkingSink } from './parked.js';
import { toSeconds } from './time.js';
import { TUPLE_RECORD_WORDS, TupleIndex, tupleDirOfRecord, tupleHash } from './tuple-index.js';

export interface ConnectionTableOptions {
  /** Connections held at once; beyond it the least recently active are classified and evicted. */
  maxConnections: number;
  /** Capture-time seconds a finished connection stays, for late retransmissions and RSTs, before it is emitted. */
  graceSeconds: number;
  /**
   * Tombstones kept of emitted and evicted connections, so that their stragglers (a FIN retransmitted after the
   * grace period, a late RST) are counted against them instead of opening phantom connections.
   */
  maxTombstones: number;
  /** Follow Zeek's view of each connection (default true; off when no output reads it, to save its cost). */
  zeek?: boolean;
  /**
   * Keep each connection's ladder trace and its ends' state changes (default true; off when no record will carry
   * them, e.g. the summary tables' 'summary' detail: they are almost half of a connection's memory).
   */
  trace?: boolean;
  /** Reuse emitted connection objects (default true; off only to check that reuse changes nothing). */
  reuseConnections?: boolean;
  /**
   * Put open connections idle for a while into slab records, their objects back to the pool (hibernated.ts).
   * Default true, for a table that keeps no ladder trace and no Zeek view (the state it saves has neither);
   * false only to check that it changes nothing.
   */
  hibernate?: boolean;
}

/** Connections kept for reuse at most (a few MB; beyond it emitted connections are left to the collector). */
const POOL_MAX = 1024;

/**
 * With a parking sink (parked.ts): capture seconds a finished connection stays in its object before its state is
 * parked, and how often the table looks for such connections. Short, so that the connection's memory is still
 * warm; long enough that the packets that follow an end at once (the last ACK, the RST answering data in flight)
 * mostly find the connection still in its object. Neither changes what is emitted, only when the copy is made.
 */
const PARK_DELAY_S = 0.1;
const PARK_INTERVAL_S = 0.05;

/**
 * Hibernation (hibernated.ts): capture seconds an open connection stays idle before its state goes into a slab
 * record and its object back to the pool, and how often the table looks for such connections. Neither changes
 * what is emitted: a packet, an eviction or the end of the capture wakes the connection as it was.
 */
const HIBERNATE_AFTER_S = 2;
const HIBERNATE_INTERVAL_S = 0.5;

/** Capture seconds between two sweeps of finished connections while packets flow. */
export const SWEEP_INTERVAL_S = 1;

/**
 * Whether a packet at capture time `t` sweeps the table, its next sweep being due at `nextSweep` (the sweep then
 * happens at `t`, and the next is due SWEEP_INTERVAL_S later). A clock that stepped back (one far-future frame,
 * then the real times) must not put sweeps off for good. The sweep points depend only on the times of the TCP
 * segments, so a thread that sees them all can tell the tables of a parallel run when to sweep.
 */
export function sweepDue(t: number, nextSweep: number): boolean {
  return t >= nextSweep || t < nextSweep - 2 * SWEEP_INTERVAL_S;
}

export const DEFAULT_TABLE_OPTIONS: ConnectionTableOptions = {
  maxConnections: 100_000,
  // Short, because at tens of thousands of connections a second every second of grace holds that many finished
  // connections in memory; stragglers after it still find the connection's tombstone.
  graceSeconds: 2,
  maxTombstones: 32_768,
};

/** Tombstone flag bits. */
const TOMB_LINKED = 1;
const TOMB_EVICTED = 2;
const TOMB_HAS_ISN = 4;
/** The tombstone of a parked connection (parked.ts): a packet for its tuple takes the connection back. */
const TOMB_PARKED = 8;

/** Index values from TOMB_TAG up are tombstones (ring position + TOMB_TAG); below, connection slots. */
const TOMB_TAG = 0x4000_0000;


/** What takes a removed connection's place in the index. */
const NO_TOMBSTONE = 0;
const TOMB_OF_FINISHED = 1;
const TOMB_OF_EVICTED = 2;
type TombKind = typeof NO_TOMBSTONE | typeof TOMB_OF_FINISHED | typeof TOMB_OF_EVICTED;

/** Why a connection left the table. */
export type EmitReason = 'finished' | 'evicted' | 'superseded' | 'end-of-capture';

export type EmitFn = (conn: Connection, reason: EmitReason, nowSec: number) => void;

/** How the table emits a parked connection: by the token its sink gave (the reason is always 'finished'). */
export type EmitParkedFn = (token: number, nowSec: number) => void;

/**
 * The connection table: finds the connection of each segment (no allocation on lookup: an open-addressing index
 * of the tuples' hashes in a typed array, tuple-index.ts), starts new incarnations on port reuse, emits finished
 * connections after a grace period in capture time, and bounds memory by evicting the least recently active
 * connections.
 */
export class ConnectionTable {
  /**
   * The connections held and the tombstones, by tuple: the index maps a tuple to a slot of `conns`, or to a
   * tombstone (TOMB_TAG + its ring position). A tuple has one entry at most: a connection becomes its tombstone,
   * and a tombstone gives way to the tuple's next connection, in place.
   */
  private readonly index = new TupleIndex(this);
  private readonly conns: (Connection | null)[] = [];
  /** Free slots of `conns` (a stack). */
  private freeSlots = new Int32Array(64);
  private freeCount = 0;
  /**
   * Tombstones, a ring reused oldest first (bounded, and no garbage once it is full), in typed arrays: the tuple
   * hash (to remove one from the index when it is overwritten), the tuple (a tuple record, tuple-index.ts: the IP
   * version, the ports (client << 16 | server), the client's and the server's address; the index keeps none),
   * the client's ISN, the incarnation, and flag bits.
   */
  private tombHash = new Int32Array(0);
  private tombTuple = new Uint32Array(0);
  private tombIsn = new Uint32Array(0);
  private tombIncarnation = new Int32Array(0);
  private tombFlags = new Uint8Array(0);
  /** For a parked connection's tombstone, the parking token. */
  private tombToken = new Int32Array(0);
  private tombstonePos = 0;
  /**
   * Activity order (least recently active first, for eviction and the end of the capture) without a linked list
   * through the connections, whose upkeep touched two or three other connections' cache lines per packet: each
   * packet stamps its connection's slot with the next tick and appends (slot, tick) to a queue; an entry whose
   * tick is no longer its slot's stamp is stale and skipped. The queue is compacted when full, so it stays within
   * a small multiple of the connections held.
   */
  private slotStamp = new Float64Array(64);
  private actSlot = new Int32Array(1024);
  private actStamp = new Float64Array(1024);
  private actHead = 0;
  private actTail = 0;
  private tick = 0;
  /**
   * Finished connections waiting out their grace period, each by its table slot and its id (an entry is stale
   * once that slot holds another connection, or the connection has left the queue). Slot and id rather than the
   * object, because a parked connection has none.
   */
  private readonly finishedQueue = new FinishedQueue();
  /** Parking (parked.ts): the sink, what the table keeps of each parked connection, and by slot its token + 1. */
  private parking: ParkingSink | null = null;
  private parked: ParkedConnections | null = null;
  private emitParked: EmitParkedFn = () => undefined;
  private parkedToken = new Int32Array(64);
  /** The finished queue's first entry the parking pass has not looked at, and when the pass is next due. */
  private parkHead = 0;
  private nextPark = 0;
  /** Connections whose state was parked, and taken back by a late packet (or because the sink was stuck). */
  parkedCount = 0;
  unparkedCount = 0;
  /**
   * Hibernation (hibernated.ts): the records, by slot the record + 1 of a hibernated connection (its `conns`
   * entry is null, its index entry still the slot), the activity queue's first entry the hibernation pass has not
   * looked at, and when the pass is next due.
   */
  private hibernated: HibernatedConnections | null = null;
  private hibernatedRecord = new Int32Array(64);
  private hibernateCursor = 0;
  private nextHibernate = 0;
  /** Connections hibernated, and woken again (by a packet, an eviction or the end of the capture). */
  hibernatedCount = 0;
  wokenCount = 0;
  /** Emitted connections kept for reuse: creating one is the costliest allocation of the hot path. */
  private readonly pool: Connection[] = [];
  private nextId = 1;
  private nextSweep = 0;
  size = 0;
  peakSize = 0;
  evicted = 0;
  /** Packets that arrived for a connection after it was evicted (counted against it, not analysed). */
  packetsOfEvicted = 0;
  /** Packets that arrived for a connection after it finished and was emitted (late retransmissions, RSTs). */
  latePackets = 0;
  /** Latest capture time seen (float seconds). */
  now = 0;

  constructor(
    private readonly opts: ConnectionTableOptions,
    private readonly emit: EmitFn,
  ) {
    if (opts.hibernate !== false && opts.trace === false && opts.zeek === false) this.hibernated = new HibernatedConnections();
  }

  /**
   * Moves capture time on to `t` (float seconds) as a packet does, sweeping finished connections when a sweep is
   * due. onSegment calls it; a table that holds only a share of the connections (one worker's shard) is also
   * called at the sweep points of the other shares' packets, so that its connections are emitted exactly when a
   * table holding all would.
   */
  advanceTo(t: number): void {
    if (t > this.now) this.now = t;
    // Emit connections whose grace period is over before this segment is looked up, so that a segment arriving
    // after the grace period opens a new connection instead of extending a finished one.
    if (sweepDue(t, this.nextSweep)) {
      this.nextSweep = t + SWEEP_INTERVAL_S;
      this.sweep(t);
    }
    if (this.parking !== null && (t >= this.nextPark || t < this.nextPark - 2 * PARK_INTERVAL_S)) {
      this.nextPark = t + PARK_INTERVAL_S;
      this.park(this.now);
    }
    if (this.hibernated !== null && (t >= this.nextHibernate || t < this.nextHibernate - 2 * HIBERNATE_INTERVAL_S)) {
      this.nextHibernate = t + HIBERNATE_INTERVAL_S;
      this.hibernateIdle(this.now);
    }
  }

  /**
   * Parks finished connections into `sink` (parked.ts) a moment after they finish; `emitParked` then emits them,
   * at the sweep that would have emitted them. For a table whose emissions go to the sink (a parallel run's
   * worker), before its first segment.
   */
  useParking(sink: ParkingSink, emitParked: EmitParkedFn): void {
    if (this.opts.trace !== false || this.opts.zeek !== false) throw new Error('ConnectionTable.useParking: only for tables that keep no ladder trace and no Zeek view');
    // A parked connection's index entry is its tombstone.
    if (this.opts.maxTombstones <= 0) return;
    this.parking = sink;
    this.parked = new ParkedConnections(sink.parkCapacity);
    this.emitParked = emitParked;
  }

  /** Feeds one TCP segment; `hash` is its tuple's (tupleHash), passed when the caller has it already. */
  onSegment(seg: TcpSegment, hash = tupleHash(seg)): void {
    const t = toSeconds(seg.tsSec, seg.tsNs);
    this.advanceTo(t);
    let found = this.index.find(seg, hash);
    let conn: Connection | null = null;
    if (found >= TOMB_TAG) {
      // A parked connection's tombstone: the connection comes back to its slot and goes on.
      if ((this.tombFlags[found - TOMB_TAG]! & TOMB_PARKED) !== 0) found = this.unpark(found - TOMB_TAG, this.index.at);
    }
    if (found >= 0 && found < TOMB_TAG) conn = this.conns[found] ?? this.wake(found);
    const dir = this.index.dir;

    const flags = seg.flags;
    const bareSyn = (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
    if (conn !== null) {
      // Port reuse: a SYN from the client with a new ISN starts a new incarnation (never a continuation); a SYN
      // with the same ISN is a retransmission. A SYN from the "server" side with a new ISN is the reverse tuple
      // being opened anew after the connection ended.
      if (bareSyn && (!conn.client.hasIsn || conn.client.isn !== seg.seq || dir === 1) && this.isNewIncarnation(conn, dir)) {
        const incarnation = conn.incarnation + 1;
        this.remove(conn, NO_TOMBSTONE);
        this.emit(conn, 'superseded', t);
        this.recycle(conn);
        conn = this.create(seg, hash, -1, -1);
        conn.incarnation = incarnation;
        this.tracked(conn);
        return;
      }
      conn.onSegment(seg, dir === 1);
      this.tracked(conn);
    } else {
      const tomb = found >= TOMB_TAG ? found - TOMB_TAG : -1;
      this.lastConnection = null;
      // A packet of a connection already emitted or evicted counts against it — a retransmitted SYN (same ISN)
      // too — unless it is a SYN opening the tuple anew, which starts the next incarnation.
      if (tomb >= 0 && !(bareSyn && this.opensAnew(tomb, seg))) {
        if ((this.tombFlags[tomb]! & TOMB_EVICTED) !== 0) this.packetsOfEvicted++;
        else this.latePackets++;
      } else {
        const incarnation = tomb >= 0 ? this.tombIncarnation[tomb]! + 1 : 1;
        conn = this.create(seg, hash, tomb, tomb >= 0 ? this.index.at : -1);
        conn.incarnation = incarnation;
        this.tracked(conn);
      }
    }
  }

  /**
   * After a segment went to `conn` (an existing connection, or one it created): the most recently active, the one
   * lastConnection names, and queued for its grace period once it has ended — also when its first segment ended
   * it (a lone RST).
   */
  private tracked(conn: Connection): void {
    this.touch(conn);
    this.lastConnection = conn;
    if (conn.finished && !conn.inFinishedQueue) {
      conn.inFinishedQueue = true;
      this.finishedQueue.push(conn.slot, conn.id);
    }
  }

  private isNewIncarnation(conn: Connection, dir: number): boolean {
    // A SYN with a different ISN from the same client: the old incarnation is over (closed, TIME_WAIT, reset,
    // or abandoned — a client only reuses the tuple once its side is gone).
    if (dir === 0) return true;
    // From the server side: only once the connection has ended (the tuple is reused in reverse).
    return conn.finished;
  }

  /** A new connection for `seg`; `tomb` is the tuple's tombstone (-1: none) and `at` its index position. */
  private create(seg: TcpSegment, hash: number, tomb: number, at: number): Connection {
    const conn = this.pool.pop() ?? new Connection(this.opts.trace !== false);
    conn.zeekTracked = this.opts.zeek !== false;
    const senderIsServer = conn.init(seg, this.nextId++, hash);
    const slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount]! : this.conns.length;
    if (slot === this.conns.length) {
      this.conns.push(conn);
      if (slot === this.slotStamp.length) {
        const grown = new Float64Array(this.slotStamp.length * 2);
        grown.set(this.slotStamp);
        this.slotStamp = grown;
        const tokens = new Int32Array(this.parkedToken.length * 2);
        tokens.set(this.parkedToken);
        this.parkedToken = tokens;
        const records = new Int32Array(this.hibernatedRecord.length * 2);
        records.set(this.hibernatedRecord);
        this.hibernatedRecord = records;
      }
    } else {
      this.conns[slot] = conn;
    }
    // Not active yet (touch follows): no entry of the slot's earlier connections may count for it.
    this.slotStamp[slot] = -1;
    conn.slot = slot;
    // The index keeps only the hash: it checks a candidate against the connection's own words (tupleDir).
    if (tomb >= 0) {
      // A tuple emitted or evicted earlier and now opened anew: the tombstone has done its job and gives way.
      this.tombFlags[tomb] = this.tombFlags[tomb]! & ~TOMB_LINKED;
      this.index.setValueAt(at, slot);
    } else {
      this.index.insert(hash, slot);
    }
    this.size++;
    if (this.size > this.peakSize) this.peakSize = this.size;
    conn.onSegment(seg, senderIsServer);
    if (this.size > this.opts.maxConnections) this.evictOldest(toSeconds(seg.tsSec, seg.tsNs), conn);
    return conn;
  }

  /** Makes a connection the most recently active. */
  private touch(conn: Connection): void {
    const slot = conn.slot;
    // Already the most recent: nothing changes (bursts of one connection's packets add no entries).
    if (this.slotStamp[slot] === this.tick) return;
    const stamp = ++this.tick;
    this.slotStamp[slot] = stamp;
    if (this.actTail === this.actSlot.length) this.compactActivity();
    this.actSlot[this.actTail] = slot;
    this.actStamp[this.actTail] = stamp;
    this.actTail++;
  }

  /** Drops stale entries from the activity queue, and doubles it when more than half of it is live. */
  private compactActivity(): void {
    const slots = this.actSlot;
    const stamps = this.actStamp;
    let n = 0;
    // The hibernation pass's place moves with the entries (to the first live entry at or after it).
    const cursor = this.hibernateCursor;
    this.hibernateCursor = -1;
    for (let i = this.actHead; i < this.actTail; i++) {
      const slot = slots[i]!;
      if (i >= cursor && this.hibernateCursor < 0) this.hibernateCursor = n;
      if (this.slotStamp[slot] !== stamps[i]) continue;
      slots[n] = slot;
      stamps[n] = stamps[i]!;
      n++;
    }
    this.actHead = 0;
    this.actTail = n;
    if (this.hibernateCursor < 0) this.hibernateCursor = n;
    if (n * 2 > slots.length) {
      const s2 = new Int32Array(slots.length * 2);
      s2.set(slots.subarray(0, n));
      this.actSlot = s2;
      const t2 = new Float64Array(stamps.length * 2);
      t2.set(stamps.subarray(0, n));
      this.actStamp = t2;
    }
  }

  /**
   * The slot of the least recently active connection (parked ones included) other than the one in slot `skip`,
   * or -1; drops the stale entries it passes.
   */
  private oldestSlot(skip: number): number {
    while (this.actHead < this.actTail) {
      const slot = this.actSlot[this.actHead]!;
      if (this.slotStamp[slot] === this.actStamp[this.actHead]) break;
      this.actHead++;
    }
    for (let i = this.actHead; i < this.actTail; i++) {
      const slot = this.actSlot[i]!;
      if (this.slotStamp[slot] !== this.actStamp[i]) continue;
      if (slot !== skip) return slot;
    }
    return -1;
  }

  /**
   * Takes a connection out of the table; `tomb` says whether a tombstone takes its place in the index (its later
   * packets are then counted against it) and why it left.
   */
  private remove(conn: Connection, tomb: TombKind): void {
    if (conn.slot >= 0) {
      // Claim the ring position first: dropping the oldest tombstone from the index may move this entry.
      const pos = tomb !== NO_TOMBSTONE ? this.claimTombstone() : -1;
      const at = this.index.position(conn.hash, conn.slot);
      if (at >= 0) {
        if (pos >= 0) {
          this.fillTombstone(pos, conn, tomb === TOMB_OF_EVICTED);
          this.index.setValueAt(at, TOMB_TAG + pos);
        } else {
          this.index.removeAt(at);
        }
      }
      this.freeSlot(conn.slot);
      conn.slot = -1;
    }
    // Whatever removed it (superseded by a new incarnation, evicted, emitted), its finished-queue entry is void.
    conn.inFinishedQueue = false;
  }

  /** Gives a slot back (its index entry is the caller's). */
  private freeSlot(slot: number): void {
    this.conns[slot] = null;
    if (this.freeCount === this.freeSlots.length) {
      const grown = new Int32Array(this.freeSlots.length * 2);
      grown.set(this.freeSlots);
      this.freeSlots = grown;
    }
    this.freeSlots[this.freeCount++] = slot;
    // Its activity entries are stale from now on.
    this.slotStamp[slot] = -1;
    this.size--;
  }

  /** Emits finished connections whose grace period has passed. */
  private sweep(now: number): void {
    const queue = this.finishedQueue;
    const grace = this.opts.graceSeconds;
    const parked = this.parked;
    let requeue: number[] | null = null;
    while (queue.head < queue.tail) {
      const slot = queue.slotAt(queue.head);
      const id = queue.idAt(queue.head);
      const conn = this.conns[slot] ?? null;
      // A parked connection is judged by the times it was parked with (a later packet would have taken it back).
      const token = conn === null ? this.parkedToken[slot]! - 1 : -1;
      // Gone since it was queued (superseded, evicted, or already emitted and its slot reused).
      if (conn !== null ? conn.id !== id || !conn.inFinishedQueue : token < 0 || parked!.id[token] !== id) {
        queue.head++;
        continue;
      }
      const finishedTime = conn !== null ? conn.finishedTime : parked!.finishedTime[token]!;
      if (finishedTime > now + grace) {
        // It ended "later" than now: the capture's clock has stepped back since. Queued behind the others, it
        // would hold them all back until the clock came round again; it waits at the end of the queue instead.
        queue.head++;
        (requeue ??= []).push(slot, id);
        continue;
      }
      if (finishedTime + grace > now) break;
      queue.head++;
      if ((conn !== null ? conn.lastTime : parked!.lastTime[token]!) + grace > now) {
        // Late packets arrived after it finished: give it another grace period.
        (requeue ??= []).push(slot, id);
        continue;
      }
      if (conn === null) {
        this.emitParkedSlot(slot, now);
        continue;
      }
      conn.inFinishedQueue = false;
      this.remove(conn, TOMB_OF_FINISHED);
      this.emit(conn, 'finished', now);
      this.recycle(conn);
    }
    if (requeue !== null) {
      for (let i = 0; i < requeue.length; i += 2) queue.push(requeue[i]!, requeue[i + 1]!);
    }
  }

  /**
   * Parks the finished connections that ended PARK_DELAY_S or more before `now` and have had no packet since:
   * their state goes to the sink while it is warm, their objects back to the pool, and their index entries become
   * their tombstones. Their slots, activity entries and finished-queue entries stay (parked.ts).
   */
  private park(now: number): void {
    const sink = this.parking!;
    const queue = this.finishedQueue;
    let i = Math.max(this.parkHead, queue.head);
    for (; i < queue.tail; i++) {
      const slot = queue.slotAt(i);
      const conn = this.conns[slot] ?? null;
      if (conn === null || conn.id !== queue.idAt(i) || !conn.inFinishedQueue) continue;
      // Queued in the order they finished: the rest ended later still.
      if (conn.finishedTime + PARK_DELAY_S > now) break;
      // Still busy (late packets): it stays in its object; the sweep requeues it, and this pass meets it again.
      if (conn.lastTime + PARK_DELAY_S > now) continue;
      if (!sink.canPark()) break;
      // Its index entry becomes its tombstone now, while the line is warm (claimed first: dropping the oldest
      // tombstone from the index may move this entry).
      const pos = this.claimTombstone();
      const at = this.index.position(conn.hash, slot);
      this.fillTombstone(pos, conn, false);
      this.tombFlags[pos] = this.tombFlags[pos]! | TOMB_PARKED;
      this.index.setValueAt(at, TOMB_TAG + pos);
      const token = sink.park(conn);
      this.tombToken[pos] = token;
      this.parked!.keep(token, conn, slot, pos);
      this.parkedToken[slot] = token + 1;
      this.conns[slot] = null;
      if (this.lastConnection === conn) this.lastConnection = null;
      conn.inFinishedQueue = false;
      conn.slot = -1;
      this.parkedCount++;
      this.recycle(conn);
    }
    this.parkHead = i;
  }

  /**
   * Hibernates the open connections idle for HIBERNATE_AFTER_S or more at `now` (hibernated.ts), walking the
   * activity queue from where the last pass stopped: least recently active first, so the pass stops at the first
   * connection active since. Finished connections are left to parking and the sweep.
   */
  private hibernateIdle(now: number): void {
    const slots = this.actSlot;
    const stamps = this.actStamp;
    let i = Math.max(this.hibernateCursor, this.actHead);
    for (; i < this.actTail; i++) {
      const slot = slots[i]!;
      if (this.slotStamp[slot] !== stamps[i]) continue;
      const conn = this.conns[slot] ?? null;
      if (conn === null) continue;
      if (conn.lastTime + HIBERNATE_AFTER_S > now) break;
      if (conn.finished || conn.inFinishedQueue) continue;
      this.hibernatedRecord[slot] = this.hibernated!.put(conn) + 1;
      this.conns[slot] = null;
      if (this.lastConnection === conn) this.lastConnection = null;
      conn.slot = -1;
      this.hibernatedCount++;
      this.recycle(conn);
    }
    this.hibernateCursor = i;
  }

  /** Takes the hibernated connection in `slot` back into an object, as it was; returns it. */
  private wake(slot: number): Connection {
    const conn = this.untracedConnection();
    this.hibernated!.take(this.hibernatedRecord[slot]! - 1, conn);
    this.hibernatedRecord[slot] = 0;
    conn.slot = slot;
    conn.inFinishedQueue = false;
    this.conns[slot] = conn;
    this.wokenCount++;
    return conn;
  }

  /**
   * Takes the parked connection whose tombstone is `pos` (its index entry at position `at`) back into an object,
   * in its slot, as it was before it was parked; the index entry is the slot's again. Returns the slot.
   */
  private unpark(pos: number, at: number): number {
    const token = this.tombToken[pos]!;
    const parked = this.parked!;
    const slot = parked.tableSlot[token]!;
    const conn = this.untracedConnection();
    this.parking!.restore(token, conn);
    conn.slot = slot;
    conn.hash = this.tombHash[pos]!;
    conn.inFinishedQueue = true;
    this.conns[slot] = conn;
    this.parkedToken[slot] = 0;
    // The tombstone is done: the ring reuses its position in turn, with nothing to take out of the index.
    this.tombFlags[pos] = 0;
    this.index.setValueAt(at, slot);
    parked.drop(token);
    this.unparkedCount++;
    return slot;
  }

  /** unpark, for a parked connection's tombstone `pos` found by position rather than by a packet. */
  private unparkTombstone(pos: number): void {
    this.unpark(pos, this.index.position(this.tombHash[pos]!, TOMB_TAG + pos));
  }

  /**
   * Takes every parked connection back into an object: the sink calls it when it would otherwise wait for room
   * behind parked records that only a later sweep can commit.
   */
  unparkAll(): void {
    const parked = this.parked;
    if (parked === null || parked.count === 0) return;
    for (let token = 0; token < parked.capacity; token++) {
      if (parked.tableSlot[token]! >= 0) this.unparkTombstone(parked.tombstone[token]!);
    }
    // Their finished-queue entries are behind the parking pass's position: it looks at them again.
    this.parkHead = this.finishedQueue.head;
  }

  /**
   * Emits the parked connection in `slot`: it leaves the table as a finished connection does (its tombstone, in
   * the index since it was parked, is now an ordinary one), and its record is committed.
   */
  private emitParkedSlot(slot: number, now: number): void {
    const token = this.parkedToken[slot]! - 1;
    const parked = this.parked!;
    const pos = parked.tombstone[token]!;
    this.tombFlags[pos] = this.tombFlags[pos]! & ~TOMB_PARKED;
    this.parkedToken[slot] = 0;
    this.freeSlot(slot);
    parked.drop(token);
    this.emitParked(token, now);
  }

  /** A reset connection without trace or Zeek view (a pooled one if any) for parked or hibernated state to go into. */
  private untracedConnection(): Connection {
    const conn = this.pool.pop() ?? new Connection(false);
    conn.zeekTracked = false;
    return conn;
  }

  /** Keeps an emitted connection for reuse (its record has been built: nothing refers to it any more). */
  private recycle(conn: Connection): void {
    if (this.pool.length >= POOL_MAX || this.opts.reuseConnections === false) return;
    conn.reset();
    this.pool.push(conn);
  }

  private evictOldest(now: number, keep: Connection): void {
    const slot = this.oldestSlot(keep.slot);
    if (slot < 0) return;
    const victim = this.conns[slot] ?? (this.hibernatedRecord[slot] !== 0 ? this.wake(slot) : null);
    if (victim === null) {
      // Parked: it had finished, so it just leaves before its grace period is over, as a finished one does.
      this.emitParkedSlot(slot, now);
      return;
    }
    victim.inFinishedQueue = false;
    this.remove(victim, victim.finished ? TOMB_OF_FINISHED : TOMB_OF_EVICTED);
    // Counted as evicted only when it had not ended: a finished one just leaves before its grace period is over.
    if (!victim.finished) this.evicted++;
    this.emit(victim, victim.finished ? 'finished' : 'evicted', now);
    this.recycle(victim);
  }

  /** The ring position for a new tombstone (its oldest one leaves the index), or -1 when none are kept. */
  private claimTombstone(): number {
    const cap = this.opts.maxTombstones;
    if (cap <= 0) return -1;
    const pos = this.tombstonePos;
    if (pos >= this.tombFlags.length) this.growTombstones(cap);
    // A parked connection still holds the oldest (tens of thousands ended within its grace period): it comes back
    // into an object, and leaves the position free.
    if ((this.tombFlags[pos]! & TOMB_PARKED) !== 0) this.unparkTombstone(pos);
    // The oldest tombstone makes room.
    if ((this.tombFlags[pos]! & TOMB_LINKED) !== 0) this.index.remove(this.tombHash[pos]!, TOMB_TAG + pos);
    this.tombFlags[pos] = 0;
    this.tombstonePos = (pos + 1) % cap;
    return pos;
  }

  private fillTombstone(pos: number, conn: Connection, evicted: boolean): void {
    this.tombHash[pos] = conn.hash;
    const t = this.tombTuple;
    conn.copyTuple(t, pos * TUPLE_RECORD_WORDS);
    this.tombIsn[pos] = conn.client.isn;
    this.tombIncarnation[pos] = conn.incarnation;
    this.tombFlags[pos] = TOMB_LINKED | (evicted ? TOMB_EVICTED : 0) | (conn.client.hasIsn ? TOMB_HAS_ISN : 0);
  }

  /** The ring's arrays grow by doubling up to the cap, so that a short capture does not pay for a full ring. */
  private growTombstones(cap: number): void {
    const n = Math.min(cap, Math.max(1024, this.tombFlags.length * 2));
    const hash = new Int32Array(n);
    hash.set(this.tombHash);
    this.tombHash = hash;
    const tuple = new Uint32Array(n * TUPLE_RECORD_WORDS);
    tuple.set(this.tombTuple);
    this.tombTuple = tuple;
    const isn = new Uint32Array(n);
    isn.set(this.tombIsn);
    this.tombIsn = isn;
    const inc = new Int32Array(n);
    inc.set(this.tombIncarnation);
    this.tombIncarnation = inc;
    const flags = new Uint8Array(n);
    flags.set(this.tombFlags);
    this.tombFlags = flags;
    const tokens = new Int32Array(n);
    tokens.set(this.tombToken);
    this.tombToken = tokens;
  }

  /**
   * For the index (TupleKeys): whether `seg` is of the tuple of the connection in slot `value`, or of tombstone
   * `value - TOMB_TAG`, and which way it goes (0 from its client, 1 from its server; -1 another tuple).
   */
  tupleDir(value: number, seg: TcpSegment): number {
    if (value < TOMB_TAG) {
      const conn = this.conns[value] ?? null;
      return conn !== null ? conn.tupleDir(seg) : this.hibernated!.tupleDir(this.hibernatedRecord[value]! - 1, seg);
    }
    return tupleDirOfRecord(seg, this.tombTuple, (value - TOMB_TAG) * TUPLE_RECORD_WORDS);
  }

  /** Is this SYN (no ACK) a new connection on a tuple that has a tombstone, rather than a retransmission? */
  private opensAnew(tomb: number, seg: TcpSegment): boolean {
    // index.find set dir for this segment.
    const fromClient = this.index.dir === 0;
    return !fromClient || (this.tombFlags[tomb]! & TOMB_HAS_ISN) === 0 || seg.seq !== this.tombIsn[tomb];
  }

  /**
   * Emits the finished connections whose grace period ended by `t` (float seconds), without moving `now` or the
   * packet-driven sweep schedule: live capture calls it as the wall clock moves on while no packet arrives.
   */
  sweepBefore(t: number): void {
    this.sweep(t);
  }

  /** Visits every connection held, least recently active first (the close-wait watcher of live capture). */
  forEach(fn: (conn: Connection) => void): void {
    // Up to the entries that exist now: whatever fn does, the walk stays bounded.
    const end = this.actTail;
    for (let i = this.actHead; i < end && i < this.actTail; i++) {
      const slot = this.actSlot[i]!;
      const live = this.slotStamp[slot] === this.actStamp[i];
      const conn = this.conns[slot] ?? (live && this.hibernatedRecord[slot] !== 0 ? this.wake(slot) : null);
      // Parked connections have finished: nothing to watch.
      if (live && conn !== null) fn(conn);
    }
  }

  /** The connection the last segment went to, or null (it was a straggler of an emitted or evicted one). */
  lastConnection: Connection | null = null;

  /**
   * Emits every connection still held (end of the capture), oldest activity first. The table is empty afterwards
   * and has forgotten its tombstones: the index is cleared once at the end instead of losing an entry per
   * connection (a cache miss each, a third of the flush's time: tens of thousands of connections at once).
   */
  flush(): void {
    const now = this.now;
    for (let slot = this.oldestSlot(-1); slot >= 0; slot = this.oldestSlot(-1)) {
      const conn = this.conns[slot] ?? (this.hibernatedRecord[slot] !== 0 ? this.wake(slot) : null);
      if (conn === null) {
        this.emitParkedSlot(slot, now);
        continue;
      }
      conn.inFinishedQueue = false;
      this.freeSlot(slot);
      conn.slot = -1;
      this.emit(conn, conn.finished ? 'finished' : 'end-of-capture', now);
      this.recycle(conn);
    }
    this.index.clear();
    this.tombFlags.fill(0);
    this.finishedQueue.clear();
    this.parkHead = 0;
  }
}
