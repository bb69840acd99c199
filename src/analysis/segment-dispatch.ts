import type { RawPacket } from '../capture/raw-packet.js';
import { SWEEP_INTERVAL_S, sweepDue } from '../conn/connection-table.js';
import { toSeconds } from '../conn/time.js';
import { tupleHash } from '../conn/tuple-index.js';
import { FrameDecoder } from './frame-decoder.js';
import { MAX_TUNNEL_IDS, MAX_TUNNEL_NAME, RingWriter } from './segment-ring.js';
import { shardOfHash } from './shard.js';

/**
 * Records one frame can add to a ring: a sweep point, an encapsulation name (the decoder builds them from at most
 * eight short names, so two records) and the segment. The reading loop checks for this much room in every ring
 * before each frame, so that writing never has to wait in the middle of one.
 */
export const RECORDS_PER_FRAME = 8;

/**
 * The reading thread of a parallel run: numbers and decodes every frame, counts what the run's summary needs
 * (as Analyzer does), and writes each TCP segment to the ring of the worker whose share its tuple hashes to.
 *
 * It also keeps the clock every worker's table would keep if it saw every segment: the sweep points (the first
 * segment at or past each due sweep, sweepDue) go to every ring, with the capture's latest timestamp at that
 * point, so each worker emits its finished connections at the same capture times as one table holding them all.
 */
export class SegmentDispatcher extends FrameDecoder {
  /** The latest TCP time (the tables' clock) and the next sweep point. */
  private now = 0;
  private nextSweep = 0;
  /** Encapsulation names defined in each ring, by number ('' is 0 and never defined). */
  private readonly tunnelIds: Map<string, number>[];

  /** One ring per worker: share k of the connections (shardOf) goes to rings[k]. */
  constructor(private readonly rings: RingWriter[]) {
    super();
    this.tunnelIds = rings.map(() => new Map<string, number>());
  }

  /** Whether every ring has room for what the next frame can add. */
  ready(): boolean {
    for (const r of this.rings) if (!r.hasRoom(RECORDS_PER_FRAME)) return false;
    return true;
  }

  /** Waits (up to `timeoutMs`) until a ring without room has some. */
  async waitForRoom(timeoutMs: number): Promise<void> {
    for (const r of this.rings) {
      if (!r.hasRoom(RECORDS_PER_FRAME)) {
        // Everything written so far must reach the other workers too, or they could sit idle meanwhile.
        for (const o of this.rings) o.publish();
        await r.waitForRoom(timeoutMs);
        return;
      }
    }
  }

  /** Makes everything written visible to the workers (before the reading thread waits for input). */
  publish(): void {
    for (const r of this.rings) r.publish();
  }

  /** One frame. Call only when ready() said so. */
  ingest(pkt: RawPacket): void {
    if (!this.decodeFrame(pkt)) return;
    const seg = this.seg;
    const t = toSeconds(seg.tsSec, seg.tsNs);
    if (t > this.now) this.now = t;
    if (sweepDue(t, this.nextSweep)) {
      this.nextSweep = t + SWEEP_INTERVAL_S;
      for (const r of this.rings) r.sweep(t, this.lastSec, this.lastNs);
    }
    const hash = tupleHash(seg);
    const k = this.rings.length === 1 ? 0 : shardOfHash(hash, this.rings.length);
    const ring = this.rings[k]!;
    ring.segment(seg, seg.tunnel === '' ? 0 : this.tunnelId(k, ring, seg.tunnel), hash);
  }

  /** Ends every ring: the tables' final clock, the capture's last timestamp and the end a file recorded. */
  end(recordedEnd: number): void {
    for (const r of this.rings) r.end(this.now, this.lastSec, this.lastNs, recordedEnd);
  }

  /** The number of an encapsulation name in ring `k`, defining it there first if need be. */
  private tunnelId(k: number, ring: RingWriter, name: string): number {
    const ids = this.tunnelIds[k]!;
    let id = ids.get(name);
    if (id !== undefined) return id;
    const text = name.length > MAX_TUNNEL_NAME ? name.slice(0, MAX_TUNNEL_NAME) : name;
    if (ids.size < MAX_TUNNEL_IDS - 1) {
      id = ids.size + 1;
      ids.set(name, id);
    } else {
      // Numbers used up (hostile input): the last one is redefined before each segment that needs it.
      id = MAX_TUNNEL_IDS;
    }
    ring.defineTunnel(id, text);
    return id;
  }
}
