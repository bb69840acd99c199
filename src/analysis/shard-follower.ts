import type { ConnectionTableOptions } from '../conn/connection-table.js';
import type { TcpSegment } from '../decode/segment.js';
import { TableFollower } from './analyzer.js';
import type { EndedRingWriter } from './ended-ring.js';
import type { RingHandler } from './segment-ring.js';

/** What one share of a parallel run counted besides the connections it handed back. */
export interface ShardResult {
  /** Connections handed back (the reading thread checks it received as many). */
  records: number;
  /** Connections evicted before they ended. */
  evicted: number;
}

/**
 * Follows one share of the connections of a parallel run, in a worker: segments come from the reading thread
 * through the worker's segment ring, and each connection the table emits goes back, unclassified, through its
 * ended-connection ring (ended-ring.ts). Sweep points and the end come from the reading thread, which sees every
 * frame (segment-dispatch.ts).
 */
export class ShardFollower implements RingHandler {
  private readonly follower: TableFollower;
  private handedBack = 0;

  /**
   * `table`: the share's bounds; it keeps no ladder trace and no Zeek view (nothing downstream reads them). Its
   * finished connections are parked in the ring (conn/parked.ts).
   */
  constructor(table: ConnectionTableOptions, private readonly out: EndedRingWriter) {
    const follower = new TableFollower({ ...table, trace: false, zeek: false }, (conn, reason, captureEnd) => {
      this.handedBack++;
      out.connection(conn, reason, captureEnd);
    });
    this.follower = follower;
    parkInto(follower, out, () => {
      this.handedBack++;
    });
  }

  /** Out of segments for now: what the table handed back meanwhile must be visible to the reading thread. */
  idle(): void {
    this.out.publish();
  }

  segment(seg: TcpSegment, hash: number): void {
    this.follower.ingestSegment(seg, hash);
  }

  /** A sweep point: the capture's latest timestamp as the reading thread saw it (all frames), then the sweep. */
  sweep(t: number, lastSec: number, lastNs: number): void {
    this.follower.noteTimestamp(lastSec, lastNs);
    this.follower.table.advanceTo(t);
  }

  end(now: number, lastSec: number, lastNs: number, recordedEnd: number): void {
    const f = this.follower;
    f.noteTimestamp(lastSec, lastNs);
    f.recordedEnd = recordedEnd;
    // The clock of a table that saw every segment (no sweep is due: the last one came as a sweep point).
    f.table.now = Math.max(f.table.now, now);
    f.finish();
    this.out.end();
  }

  /** After end(). */
  result(): ShardResult {
    return { records: this.handedBack, evicted: this.follower.evicted };
  }
}

/**
 * Has `follower`'s table park its finished connections in `out` (conn/parked.ts), whose emitted connections go
 * to `out` too; `committed` counts each parked connection as it is handed back.
 */
export function parkInto(follower: TableFollower, out: EndedRingWriter, committed: () => void): void {
  const table = follower.table;
  // A parked connection is emitted as 'finished': judged against the capture's end, as TableFollower.emit does.
  table.useParking(out, (token) => {
    committed();
    out.commit(token, follower.captureEnd());
  });
  out.onStuck = () => table.unparkAll();
}
