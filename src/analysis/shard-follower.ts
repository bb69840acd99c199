import type { TcpSegment } from '../decode/segment.js';
import { addToTableDigest, newTableDigest, type TableDigest } from '../output/table-digest.js';
import { Analyzer, type AnalyzerOptions } from './analyzer.js';
import { FrameBitmap, framesOfRanks } from './frame-bitmap.js';
import { classifiedFilter, type FilterArgs } from './record-filter.js';
import type { RingHandler } from './segment-ring.js';

/** What one share of a parallel run found: the digest of its tables, its counters, and where its connections began. */
export interface ShardResult {
  /** Connections classified, evicted before they ended, and RSTs ignored as out of window. */
  records: number;
  evicted: number;
  outOfWindowRsts: number;
  digest: TableDigest;
  /** The frame each record of digest.abnormal.kept began at (its first packet), in the same order. */
  keptFirstFrames: number[];
  /** The frames at which the shard's connections began (FrameBitmap words). */
  began: Uint32Array;
}

/**
 * Follows one share of the connections of a parallel run, from segments decoded by the reading thread: a worker
 * feeds it from its ring, the reading thread feeds its own share directly. Sweep points and the end come from the
 * reading thread, which sees every frame (segment-dispatch.ts).
 */
export class ShardFollower implements RingHandler {
  private readonly digest: TableDigest;
  private readonly began = new FrameBitmap();
  private readonly analyzer: Analyzer;

  constructor(opts: AnalyzerOptions, filter: FilterArgs, abnormalLimit: number) {
    const digest = (this.digest = newTableDigest(abnormalLimit));
    const keep = classifiedFilter(filter);
    const began = this.began;
    this.analyzer = new Analyzer(opts, null, (c) => {
      began.set(c.conn.firstFrame);
      addToTableDigest(digest, c, keep);
    });
  }

  segment(seg: TcpSegment): void {
    this.analyzer.ingestSegment(seg);
  }

  /** A sweep point: the capture's latest timestamp as the reading thread saw it (all frames), then the sweep. */
  sweep(t: number, lastSec: number, lastNs: number): void {
    this.analyzer.noteTimestamp(lastSec, lastNs);
    this.analyzer.table.advanceTo(t);
  }

  end(now: number, lastSec: number, lastNs: number, recordedEnd: number): void {
    const a = this.analyzer;
    a.noteTimestamp(lastSec, lastNs);
    a.recordedEnd = recordedEnd;
    // The clock of a table that saw every segment (no sweep is due: the last one came as a sweep point).
    a.table.now = Math.max(a.table.now, now);
    a.finish();
  }

  /** After end(). */
  result(): ShardResult {
    const a = this.analyzer;
    return {
      records: a.records,
      evicted: a.evicted,
      outOfWindowRsts: a.outOfWindowRsts,
      digest: this.digest,
      // The records kept carry this shard's ids, which count its connections in the order they began.
      keptFirstFrames: framesOfRanks(this.began.words, this.digest.abnormal.kept.map((r) => r.id)),
      began: this.began.words,
    };
  }
}
