/**
 * A parallel run for the summary tables, as a pipeline: this thread reads and decodes every frame once and hands
 * each TCP segment, through a shared-memory ring (segment-ring.ts), to the worker thread whose share of the
 * connections its tuple hashes to; each worker follows its connections and classifies them; the digests add up to
 * what one pass would give.
 *
 * Why a pipeline rather than workers that each read the files: the connection table is most of the cost, and
 * reading and decoding every frame in each worker was a quarter of each one's work (docs/performance.md). It also
 * means standard input can be analysed in parallel: it is read once. This thread follows no connections itself:
 * on this project's machine taking a third of them here was no faster than leaving them all to the worker, and
 * its busy young generation added 14 MB to the peak (docs/performance.md).
 *
 * Why this is the same as one pass: frame numbers and every counter of the summary come from this thread, which
 * sees every frame; a connection's packets all reach the same worker, in order; each worker's table sweeps at the
 * same capture times as one table would, because this thread sends the sweep points (segment-dispatch.ts).
 * Connection ids are renumbered from the frames where each shard's connections began, so they are those of one
 * pass. What can differ is only what depends on the table's bounds, which are divided among the shards: when more
 * connections are open at once than --max-connections, a shard evicts its own least recently active one, not the
 * run's.
 */
import type { Worker } from 'node:worker_threads';
import { NEED_MORE } from '../capture/reader.js';
import { mergeTableDigest, type TableDigest } from '../output/table-digest.js';
import type { AnalyzerOptions } from './analyzer.js';
import { ranksAt } from './frame-bitmap.js';
import type { FilterArgs } from './record-filter.js';
import { bytesOf, closeCaptures, frameSource, openCaptures, type RunResult } from './run.js';
import { SegmentDispatcher } from './segment-dispatch.js';
import type { ShardResult } from './shard-follower.js';
import { newRingBuffer, RingWriter } from './segment-ring.js';
import type { ShardJob, ShardMessage } from './shard-worker.js';
import { SHARD_JOB_MESSAGE, takeShardWorker } from './worker-launch.js';
import { summarize } from './summary.js';

export interface ParallelRunOptions {
  /** Threads: the reading thread and the workers; at least 2. */
  jobs: number;
  filter: FilterArgs;
  abnormalLimit: number;
  onProgress?: (bytesRead: number, totalBytes: number | null, frames: number) => void;
}

export interface ParallelRunResult extends RunResult {
  digest: TableDigest;
}

type Done = Extract<ShardMessage, { type: 'done' }>;

/** More threads than this are not started, whatever --jobs says. */
const MAX_THREADS = 64;

/** How long the reading thread waits for room in a ring before it looks at the workers again (ms). */
const ROOM_WAIT_MS = 50;

interface StartedWorker {
  worker: Worker;
  done: Promise<Done>;
  /** Set when the worker failed or exited before it sent its result. */
  failure: Error | null;
}

/** Starts one shard's worker (or takes one started early); `done` settles with its result, or with its failure. */
function startWorker(job: ShardJob): StartedWorker {
  const worker = takeShardWorker();
  worker.postMessage({ type: SHARD_JOB_MESSAGE, job });
  const started: StartedWorker = { worker, done: Promise.resolve() as unknown as Promise<Done>, failure: null };
  started.done = new Promise<Done>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      settled = true;
      started.failure = err;
      reject(err);
    };
    worker.on('message', (m: ShardMessage) => {
      if (m.type === 'done') {
        settled = true;
        resolve(m);
      } else {
        fail(new Error(`analysis worker failed: ${m.message}`));
      }
    });
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => {
      if (!settled) fail(new Error(`analysis worker exited with code ${code} before it finished`));
    });
  });
  // Awaited below; a failure that arrives while this thread is still reading is seen through `failure`.
  started.done.catch(() => undefined);
  return started;
}

/** Runs the shares and merges what they found. */
export async function analyzeCapturesInParallel(files: string[], opts: AnalyzerOptions, p: ParallelRunOptions): Promise<ParallelRunResult> {
  const threads = Math.min(MAX_THREADS, Math.max(2, Math.floor(p.jobs)));
  const workers = threads - 1;
  const shardOpts: AnalyzerOptions = {
    ...opts,
    table: {
      ...opts.table,
      maxConnections: Math.max(1, Math.ceil(opts.table.maxConnections / workers)),
      maxTombstones: Math.ceil(opts.table.maxTombstones / workers),
      zeek: false,
    },
  };
  const rings = Array.from({ length: workers }, () => newRingBuffer());
  // The workers start (and load their code) while this thread opens the files.
  const started = rings.map((ring) => startWorker({ ring, opts: shardOpts, filter: p.filter, abnormalLimit: p.abnormalLimit }));
  const dispatcher = new SegmentDispatcher(rings.map((r) => new RingWriter(r)));
  const failed = (): Error | null => started.find((w) => w.failure !== null)?.failure ?? null;

  let done: ShardResult[];
  const captures = await openCaptures(files);
  try {
    if (captures.readers.length > 0) {
      const source = frameSource(captures);
      try {
        for (;;) {
          if (!dispatcher.ready()) {
            await dispatcher.waitForRoom(ROOM_WAIT_MS);
            const err = failed();
            if (err !== null) throw err;
            continue;
          }
          const pkt = source.next();
          if (pkt === null) break;
          if (pkt === NEED_MORE) {
            dispatcher.publish();
            if (p.onProgress) {
              const b = bytesOf(captures);
              p.onProgress(b.read, b.total, dispatcher.frames);
            }
            await source.fill();
            const err = failed();
            if (err !== null) throw err;
            continue;
          }
          dispatcher.ingest(pkt);
        }
      } finally {
        for (const r of captures.readers) r.close();
      }
    }
    dispatcher.end(closeCaptures(files, captures));
    done = await Promise.all(started.map((w) => w.done));
  } catch (err) {
    // A worker failed (or this thread did): the others' work is moot.
    await Promise.all(started.map((w) => w.worker.terminate()));
    throw err;
  }

  // Connection ids as one pass numbers them: a connection's id is the count of connections, in every shard, that
  // began at its first frame or before (one frame begins at most one connection).
  for (const d of done) {
    const ids = new Array<number>(d.keptFirstFrames.length).fill(0);
    for (const other of done) ranksAt(other.began, d.keptFirstFrames).forEach((k, i) => (ids[i]! += k));
    d.digest.abnormal.kept.forEach((r, i) => {
      r.id = ids[i]!;
      r.tcpStream = ids[i]! - 1;
    });
  }
  const digest = done[0]!.digest;
  for (let i = 1; i < done.length; i++) mergeTableDigest(digest, done[i]!.digest);
  const counts = { records: 0, evicted: 0, outOfWindowRsts: 0 };
  for (const d of done) {
    counts.records += d.records;
    counts.evicted += d.evicted;
    counts.outOfWindowRsts += d.outOfWindowRsts;
  }
  const d = dispatcher;
  const summary = summarize(
    {
      decoder: d.decoder,
      frames: d.frames,
      firstSec: d.firstSec,
      firstNs: d.firstNs,
      lastSec: d.lastSec,
      lastNs: d.lastNs,
      tsDigits: d.tsDigits,
      ...counts,
    },
    captures.fileSummaries,
    opts.classifier,
  );
  return { summary, errors: captures.errors, problems: d.decoder.stats.problems, digest };
}
