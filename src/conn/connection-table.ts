import { TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../decode/segment.js';
import { Connection } from './connection.js';
import { toSeconds } from './time.js';

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
  /** Reuse emitted connection objects (default true; off only to check that reuse changes nothing). */
  reuseConnections?: boolean;
}

/** Connections kept for reuse at most (a few MB; beyond it emitted connections are left to the collector). */
const POOL_MAX = 1024;

/** Capture seconds between two sweeps of finished connections while packets flow. */
export const SWEEP_INTERVAL_S = 1;

export const DEFAULT_TABLE_OPTIONS: ConnectionTableOptions = {
  maxConnections: 100_000,
  // Short, because at tens of thousands of connections a second every second of grace holds that many finished
  // connections in memory; stragglers after it still find the connection's tombstone.
  graceSeconds: 2,
  maxTombstones: 32_768,
};

/** Why a connection left the table. */
export type EmitReason = 'finished' | 'evicted' | 'superseded' | 'end-of-capture';

export type EmitFn = (conn: Connection, reason: EmitReason, nowSec: number) => void;

/**
 * What is kept of an evicted connection: enough to recognise its later packets (so they continue it instead of
 * opening a phantom connection) and to count them.
 */
interface Tombstone {
  hash: number;
  id: number;
  ipVersion: 4 | 6;
  /** Copies of the addresses (the connection object itself is reused for another connection). */
  readonly clientAddr: Uint32Array;
  readonly serverAddr: Uint32Array;
  clientPort: number;
  serverPort: number;
  /** Why it left: evicted (its later packets continue it) or finished (they are stragglers). */
  evicted: boolean;
  /** The client's ISN (a SYN with it again is a retransmission, not a new connection) and the incarnation. */
  clientIsn: number;
  hasClientIsn: boolean;
  incarnation: number;
  laterPackets: number;
  next: Tombstone | null;
  /** In the lookup map (false once dropped or overwritten). */
  linked: boolean;
}

/** Symmetric hash of the 4-tuple: the same for both directions (the endpoint hashes are added). */
function endpointHash(addr: Uint32Array, port: number): number {
  let h = Math.imul(port ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ addr[0]!, 0xc2b2ae35);
  h = Math.imul(h ^ addr[1]!, 0x85ebca6b);
  h = Math.imul(h ^ addr[2]!, 0xc2b2ae35);
  h = Math.imul(h ^ addr[3]!, 0x85ebca6b);
  return h ^ (h >>> 15);
}

function sameAddr(a: Uint32Array, b: Uint32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** 0 when `seg` belongs to the tuple with `seg` from the client, 1 from the server, -1 not this tuple. */
function direction(
  seg: TcpSegment,
  ipVersion: number,
  clientAddr: Uint32Array,
  serverAddr: Uint32Array,
  clientPort: number,
  serverPort: number,
): number {
  if (seg.ipVersion !== ipVersion) return -1;
  if (seg.srcPort === clientPort && seg.dstPort === serverPort && sameAddr(seg.srcAddr, clientAddr) && sameAddr(seg.dstAddr, serverAddr)) return 0;
  if (seg.srcPort === serverPort && seg.dstPort === clientPort && sameAddr(seg.srcAddr, serverAddr) && sameAddr(seg.dstAddr, clientAddr)) return 1;
  return -1;
}

/** Is this SYN (no ACK) a new connection on a tuple that has a tombstone, rather than a retransmission? */
function opensAnew(tomb: Tombstone, seg: TcpSegment): boolean {
  const fromClient = direction(seg, tomb.ipVersion, tomb.clientAddr, tomb.serverAddr, tomb.clientPort, tomb.serverPort) === 0;
  return !fromClient || !tomb.hasClientIsn || seg.seq !== tomb.clientIsn;
}

/**
 * The connection table: finds the connection of each segment (no allocation on lookup: a Map from the 32-bit
 * symmetric hash to a chain), starts new incarnations on port reuse, emits finished connections after a grace
 * period in capture time, and bounds memory by evicting the least recently active connections.
 */
export class ConnectionTable {
  private readonly buckets = new Map<number, Connection>();
  private readonly tombstones = new Map<number, Tombstone>();
  /** A ring of tombstone objects, reused oldest first: bounded, and no garbage once it is full. */
  private readonly tombstoneRing: Tombstone[] = [];
  private tombstonePos = 0;
  private lruHead: Connection | null = null;
  private lruTail: Connection | null = null;
  /** Finished connections waiting out their grace period, with the generation each was queued in. */
  private finishedQueue: Connection[] = [];
  private finishedGens: number[] = [];
  private finishedHead = 0;
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
  ) {}

  /**
   * Moves capture time on to `t` (float seconds) as a packet does, sweeping finished connections when a sweep is
   * due. onSegment calls it; a table that holds only a share of the connections (one worker's shard) calls it for
   * the other shares' packets, so that its connections are emitted exactly when a table holding all would.
   */
  advanceTo(t: number): void {
    if (t > this.now) this.now = t;
    // Emit connections whose grace period is over before this segment is looked up, so that a segment arriving
    // after the grace period opens a new connection instead of extending a finished one.
    if (t >= this.nextSweep) {
      this.nextSweep = t + SWEEP_INTERVAL_S;
      this.sweep(t);
    }
  }

  /** Feeds one TCP segment. */
  onSegment(seg: TcpSegment): void {
    const t = toSeconds(seg.tsSec, seg.tsNs);
    this.advanceTo(t);
    const hash = (endpointHash(seg.srcAddr, seg.srcPort) + endpointHash(seg.dstAddr, seg.dstPort)) | 0;

    let conn = this.buckets.get(hash) ?? null;
    let dir = -1;
    while (conn !== null) {
      dir = direction(seg, conn.ipVersion, conn.clientAddr, conn.serverAddr, conn.clientPort, conn.serverPort);
      if (dir >= 0) break;
      conn = conn.bucketNext;
    }

    const flags = seg.flags;
    const bareSyn = (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
    if (conn !== null) {
      // Port reuse: a SYN from the client with a new ISN starts a new incarnation (never a continuation); a SYN
      // with the same ISN is a retransmission. A SYN from the "server" side with a new ISN is the reverse tuple
      // being opened anew after the connection ended.
      if (bareSyn && (!conn.client.hasIsn || conn.client.isn !== seg.seq || dir === 1) && this.isNewIncarnation(conn, dir)) {
        const incarnation = conn.incarnation + 1;
        this.remove(conn);
        this.emit(conn, 'superseded', t);
        this.recycle(conn);
        conn = this.create(seg, hash);
        conn.incarnation = incarnation;
        this.touch(conn);
        this.lastConnection = conn;
        return;
      }
      conn.onSegment(seg, dir === 1);
      this.touch(conn);
      this.lastConnection = conn;
      if (conn.finished && !conn.inFinishedQueue) {
        conn.inFinishedQueue = true;
        this.finishedQueue.push(conn);
        this.finishedGens.push(conn.generation);
      }
    } else {
      const tomb = this.findTombstone(seg, hash);
      this.lastConnection = null;
      // A packet of a connection already emitted or evicted counts against it — a retransmitted SYN (same ISN)
      // too — unless it is a SYN opening the tuple anew, which starts the next incarnation.
      if (tomb !== null && !(bareSyn && opensAnew(tomb, seg))) {
        tomb.laterPackets++;
        if (tomb.evicted) this.packetsOfEvicted++;
        else this.latePackets++;
      } else {
        const incarnation = tomb !== null ? tomb.incarnation + 1 : 1;
        conn = this.create(seg, hash);
        conn.incarnation = incarnation;
        this.touch(conn);
        this.lastConnection = conn;
      }
    }

  }

  private isNewIncarnation(conn: Connection, dir: number): boolean {
    // A SYN with a different ISN from the same client: the old incarnation is over (closed, TIME_WAIT, reset,
    // or abandoned — a client only reuses the tuple once its side is gone).
    if (dir === 0) return true;
    // From the server side: only once the connection has ended (the tuple is reused in reverse).
    return conn.finished;
  }

  private create(seg: TcpSegment, hash: number): Connection {
    const conn = this.pool.pop() ?? new Connection();
    conn.zeekTracked = this.opts.zeek !== false;
    const senderIsServer = conn.init(seg, this.nextId++, hash);
    conn.bucketNext = this.buckets.get(hash) ?? null;
    this.buckets.set(hash, conn);
    this.size++;
    if (this.size > this.peakSize) this.peakSize = this.size;
    // A tuple evicted earlier and now reopened by a SYN: the tombstone has done its job.
    this.dropTombstone(seg, hash);
    conn.onSegment(seg, senderIsServer);
    if (this.size > this.opts.maxConnections) this.evictOldest(toSeconds(seg.tsSec, seg.tsNs), conn);
    return conn;
  }

  /** Moves a connection to the most-recent end of the LRU list. */
  private touch(conn: Connection): void {
    if (this.lruTail === conn) return;
    if (conn.lruPrev !== null || conn.lruNext !== null || this.lruHead === conn) this.unlinkLru(conn);
    conn.lruPrev = this.lruTail;
    conn.lruNext = null;
    if (this.lruTail !== null) this.lruTail.lruNext = conn;
    this.lruTail = conn;
    if (this.lruHead === null) this.lruHead = conn;
  }

  private unlinkLru(conn: Connection): void {
    if (conn.lruPrev !== null) conn.lruPrev.lruNext = conn.lruNext;
    else if (this.lruHead === conn) this.lruHead = conn.lruNext;
    if (conn.lruNext !== null) conn.lruNext.lruPrev = conn.lruPrev;
    else if (this.lruTail === conn) this.lruTail = conn.lruPrev;
    conn.lruPrev = null;
    conn.lruNext = null;
  }

  private remove(conn: Connection): void {
    let prev: Connection | null = null;
    let cur = this.buckets.get(conn.hash) ?? null;
    while (cur !== null && cur !== conn) {
      prev = cur;
      cur = cur.bucketNext;
    }
    if (cur === conn) {
      if (prev === null) {
        if (conn.bucketNext === null) this.buckets.delete(conn.hash);
        else this.buckets.set(conn.hash, conn.bucketNext);
      } else {
        prev.bucketNext = conn.bucketNext;
      }
      this.size--;
    }
    conn.bucketNext = null;
    // Whatever removed it (superseded by a new incarnation, evicted, emitted), its finished-queue entry is void.
    conn.inFinishedQueue = false;
    this.unlinkLru(conn);
  }

  /** Emits finished connections whose grace period has passed. */
  private sweep(now: number): void {
    const q = this.finishedQueue;
    const gens = this.finishedGens;
    const grace = this.opts.graceSeconds;
    let requeue: Connection[] | null = null;
    while (this.finishedHead < q.length) {
      const conn = q[this.finishedHead]!;
      // Gone since it was queued (superseded, evicted, or already emitted and reused for another connection).
      if (gens[this.finishedHead] !== conn.generation || !conn.inFinishedQueue) {
        this.finishedHead++;
        continue;
      }
      if (conn.finishedTime + grace > now) break;
      this.finishedHead++;
      if (conn.lastTime + grace > now) {
        // Late packets arrived after it finished: give it another grace period.
        (requeue ??= []).push(conn);
        continue;
      }
      conn.inFinishedQueue = false;
      this.remove(conn);
      this.addTombstone(conn, false);
      this.emit(conn, 'finished', now);
      this.recycle(conn);
    }
    if (requeue !== null) {
      for (const c of requeue) {
        q.push(c);
        gens.push(c.generation);
      }
    }
    if (this.finishedHead > 1024 && this.finishedHead * 2 > q.length) {
      this.finishedQueue = q.slice(this.finishedHead);
      this.finishedGens = gens.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }

  /** Keeps an emitted connection for reuse (its record has been built: nothing refers to it any more). */
  private recycle(conn: Connection): void {
    if (this.pool.length >= POOL_MAX || this.opts.reuseConnections === false) return;
    conn.reset();
    this.pool.push(conn);
  }

  private evictOldest(now: number, keep: Connection): void {
    let victim = this.lruHead;
    if (victim === keep) victim = victim.lruNext;
    if (victim === null) return;
    victim.inFinishedQueue = false;
    this.remove(victim);
    this.evicted++;
    this.addTombstone(victim, !victim.finished);
    this.emit(victim, victim.finished ? 'finished' : 'evicted', now);
    this.recycle(victim);
  }

  private addTombstone(conn: Connection, evicted: boolean): void {
    const cap = this.opts.maxTombstones;
    if (cap <= 0) return;
    let tomb = this.tombstoneRing[this.tombstonePos];
    if (tomb === undefined) {
      tomb = {
        hash: 0,
        id: 0,
        ipVersion: 4,
        clientAddr: new Uint32Array(4),
        serverAddr: new Uint32Array(4),
        clientPort: 0,
        serverPort: 0,
        evicted: false,
        clientIsn: 0,
        hasClientIsn: false,
        incarnation: 0,
        laterPackets: 0,
        next: null,
        linked: false,
      };
      this.tombstoneRing.push(tomb);
    } else if (tomb.linked) {
      // The oldest tombstone makes room.
      this.unlinkTombstone(tomb);
    }
    this.tombstonePos = (this.tombstonePos + 1) % cap;
    tomb.hash = conn.hash;
    tomb.id = conn.id;
    tomb.ipVersion = conn.ipVersion;
    tomb.clientAddr.set(conn.clientAddr);
    tomb.serverAddr.set(conn.serverAddr);
    tomb.clientPort = conn.clientPort;
    tomb.serverPort = conn.serverPort;
    tomb.evicted = evicted;
    tomb.clientIsn = conn.client.isn;
    tomb.hasClientIsn = conn.client.hasIsn;
    tomb.incarnation = conn.incarnation;
    tomb.laterPackets = 0;
    tomb.next = this.tombstones.get(conn.hash) ?? null;
    tomb.linked = true;
    this.tombstones.set(conn.hash, tomb);
  }

  private unlinkTombstone(tomb: Tombstone): void {
    let prev: Tombstone | null = null;
    let cur = this.tombstones.get(tomb.hash) ?? null;
    while (cur !== null && cur !== tomb) {
      prev = cur;
      cur = cur.next;
    }
    tomb.linked = false;
    if (cur === null) return;
    if (prev === null) {
      if (tomb.next === null) this.tombstones.delete(tomb.hash);
      else this.tombstones.set(tomb.hash, tomb.next);
    } else {
      prev.next = tomb.next;
    }
    tomb.next = null;
  }

  private findTombstone(seg: TcpSegment, hash: number): Tombstone | null {
    let t = this.tombstones.get(hash) ?? null;
    while (t !== null) {
      if (direction(seg, t.ipVersion, t.clientAddr, t.serverAddr, t.clientPort, t.serverPort) >= 0) return t;
      t = t.next;
    }
    return null;
  }

  private dropTombstone(seg: TcpSegment, hash: number): void {
    const t = this.findTombstone(seg, hash);
    if (t !== null) this.unlinkTombstone(t);
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
    for (let c = this.lruHead; c !== null; c = c.lruNext) fn(c);
  }

  /** The connection the last segment went to, or null (it was a straggler of an emitted or evicted one). */
  lastConnection: Connection | null = null;

  /** Emits every connection still held (end of the capture), oldest activity first. */
  flush(): void {
    const now = this.now;
    while (this.lruHead !== null) {
      const conn = this.lruHead;
      conn.inFinishedQueue = false;
      this.remove(conn);
      this.emit(conn, conn.finished ? 'finished' : 'end-of-capture', now);
      this.recycle(conn);
    }
    this.finishedQueue = [];
    this.finishedGens = [];
    this.finishedHead = 0;
  }
}
