/**
 * Parked connections: finished connections whose state has already been handed back (into a parallel run's ring
 * of ended connections, ended-ring.ts) while they wait out their grace period.
 *
 * Why: a finished connection waits two seconds of capture time for stragglers before the table emits it. By then
 * the connection's memory has gone cold, and emitting it (the copy of its state, its reset for reuse) was about a
 * third of a parallel run's worker profile (docs/performance.md). Parking copies the state a moment after the
 * connection finished, while its cache lines are still warm, and gives the connection object back to the pool at
 * once, so that the next connection reuses warm memory too, and its index entry becomes its tombstone then
 * (flagged parked), while the index line is warm. The table keeps the rest as it was: the connection's slot, its
 * place in the activity order and in the finished queue. The sweep that
 * would have emitted the connection commits the record instead (it becomes visible to the reader then, with the
 * capture end of that moment); a packet that arrives for a parked connection before then takes the state back
 * into a connection object (the record is voided) and the connection goes on as if it had never left. So a
 * parked connection is emitted at the same sweep, with the same state, as one that was not parked.
 *
 * One difference from a table that does not park: the tombstone is claimed when the connection is parked, not
 * when it is emitted, so the bounded ring of tombstones (ConnectionTable) holds up to the sink's capacity fewer
 * tombstones of emitted connections. A straggler of a connection that ended more than some 30,000 connections
 * earlier may then open a new connection where it would have been counted as late.
 *
 * This module keeps what the table needs of a parked connection without touching its record: its id and slot,
 * its tombstone, and the times the sweep reads. Entries are numbered by the token the sink gave (a slot of the
 * sink's ring), so the store is bounded by the sink's capacity.
 */
import type { Connection } from './connection.js';

/** Where parked state goes: a ring of ended connections whose records become visible only once committed. */
export interface ParkingSink {
  /** Entries the sink can hold at once (tokens are below it). */
  readonly parkCapacity: number;
  /** Whether there is room to park one more without crowding the records that are final. */
  canPark(): boolean;
  /** Copies the finished connection's state into a record not yet visible; returns its token. */
  park(conn: Connection): number;
  /** Copies the record's state back into `conn` (a reset connection) and voids the record. */
  restore(token: number, conn: Connection): void;
  /** Makes the record visible, to be judged against `captureEnd`. */
  commit(token: number, captureEnd: number): void;
}

/** What the table keeps of each parked connection, by token (its tuple and what else its tombstone needs are in the tombstone). */
export class ParkedConnections {
  /** The connection's id: the finished queue's entries name a connection by table slot and id. */
  readonly id: Float64Array;
  /** The table slot it keeps (-1: no parked connection under this token). */
  readonly tableSlot: Int32Array;
  /** The tombstone that holds its index entry while it is parked. */
  readonly tombstone: Int32Array;
  readonly finishedTime: Float64Array;
  readonly lastTime: Float64Array;
  /** Parked connections now held. */
  count = 0;

  constructor(readonly capacity: number) {
    this.id = new Float64Array(capacity);
    this.tableSlot = new Int32Array(capacity).fill(-1);
    this.tombstone = new Int32Array(capacity);
    this.finishedTime = new Float64Array(capacity);
    this.lastTime = new Float64Array(capacity);
  }

  /** Notes what the table will need of `conn`, parked under `token` from table slot `slot`, its tombstone `pos`. */
  keep(token: number, conn: Connection, slot: number, pos: number): void {
    this.id[token] = conn.id;
    this.tableSlot[token] = slot;
    this.tombstone[token] = pos;
    this.finishedTime[token] = conn.finishedTime;
    this.lastTime[token] = conn.lastTime;
    this.count++;
  }

  /** The entry is gone (committed, or its state taken back). */
  drop(token: number): void {
    this.tableSlot[token] = -1;
    this.count--;
  }
}
