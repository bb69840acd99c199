/**
 * Starting the worker threads of a parallel run, and starting them early. This module loads nothing but Node's
 * own: bin/teardown.js calls prestartShardWorkers before it loads the rest of the CLI, so that a run that will
 * want workers has them load their code (about 70 ms) while the CLI loads and parses its arguments, instead of
 * after (docs/performance.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/** Below this many bytes of capture a second thread costs more (its start) than it saves. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/** Young-generation size of a worker, MB (measured: 4 MB costs time, 16 MB adds 25 MB of peak for 2 workers). */
export const WORKER_YOUNG_GENERATION_MB = 6;

/** Threads worth running on this machine: one per core, at most `cap`. */
export function defaultJobs(cap = 4): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cap, cores));
}

/** What a worker is sent to start: its job (shard-worker.ts reads it). */
export const SHARD_JOB_MESSAGE = 'teardown-shard-job';

/** Workers started ahead of their job, not yet taken. */
const spares: Worker[] = [];

/** A new worker, waiting for its job (sendShardJob). */
function newShardWorker(): Worker {
  return new Worker(path.join(__dirname, 'shard-worker.js'), {
    workerData: { kind: 'teardown-shard' },
    // A small young generation: the workers allocate little per connection, and V8's default (tens of MB per
    // isolate) would be most of what a second thread adds to the peak (docs/performance.md).
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
}

/**
 * Starts `n` workers ahead of a run that will want them. They do not keep the process alive: a run that does not
 * take them (the guess from the command line was wrong) leaves them to end with the process. Never throws.
 */
export function prestartShardWorkers(n: number): void {
  try {
    for (let i = 0; i < n; i++) {
      const w = newShardWorker();
      w.unref();
      // A spare that fails before it is taken is dropped; the run then starts one of its own.
      w.on('error', () => dropSpare(w));
      w.on('exit', () => dropSpare(w));
      spares.push(w);
    }
  } catch {
    // Nothing lost: the run starts its workers itself.
  }
}

function dropSpare(w: Worker): void {
  const i = spares.indexOf(w);
  if (i >= 0) spares.splice(i, 1);
}

/** A worker for a run: a spare started early if there is one, else a new one. It keeps the process alive. */
export function takeShardWorker(): Worker {
  const w = spares.shift() ?? newShardWorker();
  w.removeAllListeners('error');
  w.removeAllListeners('exit');
  w.ref();
  return w;
}

/** More threads than this are not started, whatever --jobs says (the prestart's guess included). */
export const MAX_THREADS = 64;

/**
 * How many threads a table-output analysis of `files` will use: `jobs` when given (at most MAX_THREADS), else one per core (at most
 * four) when the files add up to PARALLEL_MIN_BYTES, else one; one for standard input unless `jobs` says
 * otherwise (its size is not known).
 */
export function threadsFor(files: readonly string[], jobs: number | undefined): number {
  if (jobs !== undefined && jobs > 0) return Math.min(MAX_THREADS, Math.floor(jobs));
  if (files.includes('-')) return 1;
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += fs.statSync(f).size;
    } catch {
      // Unreadable: the run reports it.
    }
  }
  return bytes >= PARALLEL_MIN_BYTES ? defaultJobs() : 1;
}
