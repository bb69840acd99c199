/**
 * The body of one worker thread of a parallel run (parallel-run.ts): reads every frame of the captures, follows
 * the connections of its shard, and sends back the digest of the tables, the run's counters, and the frames at
 * which its connections began (to number connections across shards as one pass would).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RunSummary } from '../output/run-summary.js';
import { addToTableDigest, newTableDigest, type TableDigest } from '../output/table-digest.js';
import type { AnalyzerOptions } from './analyzer.js';
import { FrameBitmap, framesOfRanks } from './frame-bitmap.js';
import { classifiedFilter, type FilterArgs } from './record-filter.js';
import { analyzeCaptures } from './run.js';

export interface ShardJob {
  files: string[];
  /** With `shard` set, and the table's bounds already divided among the shards. */
  opts: AnalyzerOptions;
  filter: FilterArgs;
  abnormalLimit: number;
  /** Send progress messages (one worker does, for the progress line). */
  progress: boolean;
}

export type ShardMessage =
  | { type: 'progress'; read: number; total: number | null; frames: number }
  | {
    type: 'done';
    summary: RunSummary;
    errors: { file: string; offset: number; reason: string }[];
    problems: Map<string, { count: number; frames: number[] }>;
    digest: TableDigest;
    /** The frame each record of digest.abnormal.kept began at (its first packet), in the same order. */
    keptFirstFrames: number[];
    /** The frames at which the shard's connections began (FrameBitmap words). */
    began: Uint32Array;
  }
  | { type: 'failed'; message: string };

/** Milliseconds between two progress messages. */
const PROGRESS_INTERVAL_MS = 100;

async function runShard(job: ShardJob): Promise<ShardMessage> {
  const digest = newTableDigest(job.abnormalLimit);
  const keep = classifiedFilter(job.filter);
  const began = new FrameBitmap();
  let lastProgress = 0;
  const result = await analyzeCaptures(job.files, job.opts, {
    onClassified: (c) => {
      began.set(c.conn.firstFrame);
      addToTableDigest(digest, c, keep);
    },
    onProgress: job.progress
      ? (read, total, frames) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        parentPort!.postMessage({ type: 'progress', read, total, frames } satisfies ShardMessage);
      }
      : undefined,
  });
  return {
    type: 'done',
    summary: result.summary,
    errors: result.errors.map((e) => ({ file: e.file, offset: e.offset, reason: e.reason })),
    problems: result.problems,
    digest,
    // The records kept carry this shard's ids, which count its connections in the order they began.
    keptFirstFrames: framesOfRanks(began.words, digest.abnormal.kept.map((r) => r.id)),
    began: began.words,
  };
}

if (parentPort !== null && (workerData as { kind?: string } | null)?.kind === 'teardown-shard') {
  const port = parentPort;
  runShard((workerData as { job: ShardJob }).job).then(
    (msg) => port.postMessage(msg, msg.type === 'done' ? [msg.began.buffer as ArrayBuffer] : []),
    (err: unknown) => port.postMessage({ type: 'failed', message: String((err as Error)?.stack ?? err) } satisfies ShardMessage),
  );
}
