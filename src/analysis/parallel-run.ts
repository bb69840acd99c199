/**
 * A parallel run for the summary tables, as a pipeline: this thread reads and decodes every frame once and hands
 * each TCP segment, through a shared-memory ring (segment-ring.ts), to the worker thread whose share of the
 * connections its tuple hashes to; each worker follows its connections and hands each one its table emits back,
 * unclassified, through a second ring (ended-ring.ts); this thread classifies and counts them into one digest.
 *
 * Why a pipeline rather than workers that each read the files: the connection table is most of the cost, and
 * reading and decoding every frame in each worker was a quarter of each one's work (docs/performance.md). It also
 * means standard input can be analysed in parallel: it is read once. Why this thread classifies: the workers'
 * tables are the critical path, bound by memory latency, and this thread waited for them half the run; it
 * follows no connections itself (taking a third of them here was no faster, and added 14 MB to the peak).
 *
 * Why this is the same as one pass: frame numbers and every counter of the summary come from this thread, which
 * sees every frame; a connection's packets all reach the same worker, in order; each worker's table sweeps at the
 * same capture times as one table would, because this thread sends the sweep points (segment-dispatch.ts), and
 * judges each connection against the capture end the worker's table saw when it emitted it. Connection ids are
 * numbered from the frames where connections began, so they are those of one pass. What can differ is only what
 * depends on the table's bounds, which are divided among the shards: when more connections are open at once than
 * --max-connections, a shard evicts its own least recently active one, not the run's.
 */
import type { Worker } from 'node:worker_threads';
import { NEED_MORE } from '../capture/reader.js';
import { addToTableDigest, newTableDigest, type TableDigest } from '../output/table-digest.js';
import { ConnectionClassifier, type AnalyzerOptions } from './analyzer.js';
import { EndedRingReader, newEndedRing, type EndedHandler } from './ended-ring.js';
import { Doorbell } from './ring-head.js';
import { FrameBitmap, ranksAt } from './frame-bitmap.js';
import { classifiedFilter, type FilterArgs } from './record-filter.js';
import { bytesOf, closeCaptures, frameSource, openCaptures, type RunResult } from './run.js';
import { SegmentDispatcher } from './segment-dispatch.js';
import { newRingBuffer, RingWriter } from './segment-ring.js';
import type { ShardJob, ShardMessage } from './shard-worker.js';
import { MAX_THREADS, SHARD_JOB_MESSAGE, takeShardWorker } from './worker-launch.js';
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

/** How long the reading thread waits for a worker's ended connections, at the end, before it looks again (ms). */
const ENDED_WAIT_MS = 50;
/** Frames between two looks at the ended-connection rings while reading (besides one per chunk and one per wait). */
const DRAIN_EVERY_FRAMES = 4096;

/** Runs the shares, and classifies and counts the connections they hand back. */
export async function analyzeCapturesInParallel(files: string[], opts: AnalyzerOptions, p: ParallelRunOptions): Promise<ParallelRunResult> {
  const threads = Math.min(MAX_THREADS, Math.max(2, Math.floor(p.jobs)));
  const workers = threads - 1;
  const shardTable = {
    ...opts.table,
    maxConnections: Math.max(1, Math.ceil(opts.table.maxConnections / workers)),
    maxTombstones: Math.ceil(opts.table.maxTombstones / workers),
  };
  const rings = Array.from({ length: workers }, () => newRingBuffer());
  const endedRings = Array.from({ length: workers }, () => newEndedRing());
  const doorbell = new Doorbell();
  // The workers start (and load their code) while this thread opens the files.
  const started = rings.map((ring, i) => startWorker({ ring, ended: endedRings[i]!, doorbell: doorbell.sab, table: shardTable }));
  const dispatcher = new SegmentDispatcher(rings.map((r) => new RingWriter(r)));
  const throwIfAWorkerFailed = (): void => {
    const err = started.find((w) => w.failure !== null)?.failure ?? null;
    if (err !== null) throw err;
  };
  // Settles when a worker fails: every wait below races it.
  const aWorkerFailed = new Promise<void>((resolve) => {
    for (const w of started) w.done.catch(() => resolve());
  });

  // What comes back is classified and counted here, as one pass would: the digest of the tables, and the frames
  // where connections began (for their ids).
  const digest = newTableDigest(p.abnormalLimit);
  const keep = classifiedFilter(p.filter);
  const began = new FrameBitmap();
  const classifier = new ConnectionClassifier(opts.classifier, 'summary', (c) => addToTableDigest(digest, c, keep));
  const ended = endedRings.map((r) => new EndedRingReader(r));
  const take: EndedHandler = (conn, reason, captureEnd) => {
    began.set(conn.firstFrame);
    // A shard numbers its own connections; their first frames order them as one pass's ids would (one frame
    // begins at most one connection), and give the ids once every connection is in (below).
    conn.id = conn.firstFrame;
    classifier.take(conn, reason, captureEnd);
  };
  const drain = (): void => {
    for (const r of ended) r.drain(take);
  };

  let done: Done[];
  const captures = await openCaptures(files);
  try {
    if (captures.readers.length > 0) {
      const source = frameSource(captures);
      try {
        for (;;) {
          if (!dispatcher.ready()) {
            // A worker may be stalled on a full ended ring: empty those before waiting for it.
            drain();
            if (dispatcher.ready()) continue;
            await Promise.race([dispatcher.waitForRoom(ROOM_WAIT_MS), doorbell.waitForRing(ROOM_WAIT_MS), aWorkerFailed]);
            throwIfAWorkerFailed();
            continue;
          }
          const pkt = source.next();
          if (pkt === null) break;
          if (pkt === NEED_MORE) {
            dispatcher.publish();
            drain();
            if (p.onProgress) {
              const b = bytesOf(captures);
              p.onProgress(b.read, b.total, dispatcher.frames);
            }
            await source.fill();
            throwIfAWorkerFailed();
            continue;
          }
          dispatcher.ingest(pkt);
          if (dispatcher.frames % DRAIN_EVERY_FRAMES === 0) drain();
        }
      } finally {
        for (const r of captures.readers) r.close();
      }
    }
    dispatcher.end(closeCaptures(files, captures));
    // The workers empty their tables: take what they hand back until each says it is done.
    for (;;) {
      drain();
      const waiting = ended.filter((r) => !r.ended);
      if (waiting.length === 0) break;
      await Promise.race([...waiting.map((r) => r.waitForRecords(ENDED_WAIT_MS)), aWorkerFailed]);
      throwIfAWorkerFailed();
    }
    done = await Promise.all(started.map((w) => w.done));
  } catch (err) {
    // A worker failed (or this thread did): the others' work is moot.
    await Promise.all(started.map((w) => w.worker.terminate()));
    throw err;
  }

  const handedBack = done.reduce((n, d) => n + d.records, 0);
  if (handedBack !== classifier.records) {
    throw new Error(`parallel run: the workers handed back ${handedBack} connections, ${classifier.records} arrived`);
  }
  // Connection ids as one pass numbers them: a connection's id is the count of connections that began at its
  // first frame or before.
  const kept = digest.abnormal.kept;
  ranksAt(began.words, kept.map((r) => r.id)).forEach((id, i) => {
    kept[i]!.id = id;
    kept[i]!.tcpStream = id - 1;
  });
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
      records: classifier.records,
      evicted: done.reduce((n, w) => n + w.evicted, 0),
      outOfWindowRsts: classifier.outOfWindowRsts,
    },
    captures.fileSummaries,
    opts.classifier,
  );
  return { summary, errors: captures.errors, problems: d.decoder.stats.problems, digest };
}
