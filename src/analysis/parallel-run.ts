/**
 * A parallel run for the summary tables: one worker thread per shard of the connections, each reading every frame
 * (reading and decoding are a small part of the cost) and following only the connections whose tuple hashes to
 * its shard; the digests add up to what one pass would give.
 *
 * Why this is the same as one pass: every worker sees every frame, so frame numbers, capture time and the table's
 * sweeps move exactly as in one pass, and a connection's packets all reach the same worker. Connection ids are
 * renumbered from the frames where each shard's connections began, so they are those of one pass. What can differ
 * is only what depends on the table's bounds, which are divided among the shards: when more connections are
 * open at once than --max-connections, a shard evicts its own least recently active one, not the run's.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CaptureError } from '../capture/raw-packet.js';
import { mergeTableDigest, type TableDigest } from '../output/table-digest.js';
import { ranksAt } from './frame-bitmap.js';
import type { AnalyzerOptions } from './analyzer.js';
import type { FilterArgs } from './record-filter.js';
import type { RunResult } from './run.js';
import type { ShardJob, ShardMessage } from './shard-worker.js';

export interface ParallelRunOptions {
  /** Worker threads (shards); at least 2. */
  jobs: number;
  filter: FilterArgs;
  abnormalLimit: number;
  onProgress?: (bytesRead: number, totalBytes: number | null, frames: number) => void;
}

export interface ParallelRunResult extends RunResult {
  digest: TableDigest;
}

/** Below this many bytes of capture a second thread costs more (its start, a second read) than it saves. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/** Worker threads worth starting on this machine for a run: one per core, at most `cap`. */
export function defaultJobs(cap = 4): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cap, cores));
}

/** Young-generation size of a worker, MB (measured: 4 MB costs time, 16 MB adds 25 MB of peak for 2 workers). */
export const WORKER_YOUNG_GENERATION_MB = 6;

type Done = Extract<ShardMessage, { type: 'done' }>;

/** Starts one shard's worker; `done` settles with its result, or with its failure. */
function startWorker(job: ShardJob, onProgress?: ParallelRunOptions['onProgress']): { worker: Worker; done: Promise<Done> } {
  const worker = new Worker(path.join(__dirname, 'shard-worker.js'), {
    workerData: { kind: 'teardown-shard', job },
    // A small young generation: the workers allocate little per connection, and V8's default (tens of MB per
    // isolate) would be most of what a second thread adds to the peak (docs/performance.md).
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  const done = new Promise<Done>((resolve, reject) => {
    let settled = false;
    worker.on('message', (m: ShardMessage) => {
      if (m.type === 'progress') onProgress?.(m.read, m.total, m.frames);
      else if (m.type === 'done') {
        settled = true;
        resolve(m);
      } else {
        settled = true;
        reject(new Error(`analysis worker failed: ${m.message}`));
      }
    });
    worker.on('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`analysis worker exited with code ${code} before it finished`));
    });
  });
  return { worker, done };
}

/** Runs the shards and merges what they found. Files must be files (standard input cannot be read twice). */
export async function analyzeCapturesInParallel(files: string[], opts: AnalyzerOptions, p: ParallelRunOptions): Promise<ParallelRunResult> {
  const n = Math.max(2, Math.floor(p.jobs));
  const jobs: ShardJob[] = [];
  for (let i = 0; i < n; i++) {
    jobs.push({
      files,
      opts: {
        ...opts,
        shard: { index: i, count: n },
        table: {
          ...opts.table,
          maxConnections: Math.max(1, Math.ceil(opts.table.maxConnections / n)),
          maxTombstones: Math.ceil(opts.table.maxTombstones / n),
          zeek: false,
        },
      },
      filter: p.filter,
      abnormalLimit: p.abnormalLimit,
      progress: i === 0 && p.onProgress !== undefined,
    });
  }
  const started = jobs.map((j) => startWorker(j, p.onProgress));
  let done: Done[];
  try {
    done = await Promise.all(started.map((w) => w.done));
  } catch (err) {
    // One share failed: the others' work is moot.
    await Promise.all(started.map((w) => w.worker.terminate()));
    throw err;
  }

  // Connection ids as one pass numbers them: a connection's id is the count of connections, in every shard, that
  // began at its first frame or before (one frame begins at most one connection).
  for (const d of done) {
    const ids = new Array<number>(d.keptFirstFrames.length).fill(0);
    for (const other of done) ranksAt(other.began, d.keptFirstFrames).forEach((n, i) => (ids[i]! += n));
    d.digest.abnormal.kept.forEach((r, i) => {
      r.id = ids[i]!;
      r.tcpStream = ids[i]! - 1;
    });
  }
  const first = done[0]!;
  const digest = first.digest;
  const summary = first.summary;
  for (let i = 1; i < done.length; i++) {
    const d = done[i]!;
    mergeTableDigest(digest, d.digest);
    summary.connections += d.summary.connections;
    summary.evictedConnections += d.summary.evictedConnections;
    summary.outOfWindowRstsIgnored += d.summary.outOfWindowRstsIgnored;
  }
  return {
    summary,
    errors: first.errors.map((e) => new CaptureError(e.file, e.offset, e.reason)),
    problems: first.problems,
    digest,
  };
}
