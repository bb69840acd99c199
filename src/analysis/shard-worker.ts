/**
 * The body of one worker thread of a parallel run (parallel-run.ts): takes its share of the TCP segments from its
 * ring (segment-ring.ts) as the reading thread decodes them, follows those connections (shard-follower.ts), and
 * sends back what it found.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newTcpSegment } from '../decode/segment.js';
import type { AnalyzerOptions } from './analyzer.js';
import type { FilterArgs } from './record-filter.js';
import { RingReader } from './segment-ring.js';
import { ShardFollower, type ShardResult } from './shard-follower.js';
import { SHARD_JOB_MESSAGE } from './worker-launch.js';

export interface ShardJob {
  /** The ring this worker reads (segment-ring.ts). */
  ring: SharedArrayBuffer;
  /** With the table's bounds already divided among the shares. */
  opts: AnalyzerOptions;
  filter: FilterArgs;
  abnormalLimit: number;
}

export type ShardMessage = ({ type: 'done' } & ShardResult) | { type: 'failed'; message: string };

if (parentPort !== null && (workerData as { kind?: string } | null)?.kind === 'teardown-shard') {
  const port = parentPort;
  // Started ahead of its job (worker-launch.ts): the code is loaded; the job comes as a message.
  port.once('message', (m: { type?: string; job?: ShardJob }) => {
    let msg: ShardMessage;
    try {
      if (m?.type !== SHARD_JOB_MESSAGE || m.job === undefined) throw new Error('expected a shard job');
      const job = m.job;
      const follower = new ShardFollower(job.opts, job.filter, job.abnormalLimit);
      new RingReader(job.ring).run(newTcpSegment(), follower);
      msg = { type: 'done', ...follower.result() };
    } catch (err) {
      msg = { type: 'failed', message: String((err as Error)?.stack ?? err) };
    }
    port.postMessage(msg, msg.type === 'done' ? [msg.began.buffer as ArrayBuffer] : []);
  });
}
