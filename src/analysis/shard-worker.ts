/**
 * The body of one worker thread of a parallel run (parallel-run.ts): takes its share of the TCP segments from its
 * segment ring (segment-ring.ts) as the reading thread decodes them, follows those connections
 * (shard-follower.ts), hands each ended connection back through its ended-connection ring (ended-ring.ts), and
 * reports its counts when its table is empty.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ConnectionTableOptions } from '../conn/connection-table.js';
import { newTcpSegment } from '../decode/segment.js';
import { EndedRingWriter } from './ended-ring.js';
import { Doorbell } from './ring-head.js';
import { RingReader } from './segment-ring.js';
import { ShardFollower, type ShardResult } from './shard-follower.js';
import { SHARD_JOB_MESSAGE } from './worker-launch.js';

export interface ShardJob {
  /** The ring this worker reads segments from (segment-ring.ts). */
  ring: SharedArrayBuffer;
  /** The ring it writes ended connections to (ended-ring.ts). */
  ended: SharedArrayBuffer;
  /** The reading thread's doorbell (ring-head.ts). */
  doorbell: SharedArrayBuffer;
  /** With the table's bounds already divided among the shares. */
  table: ConnectionTableOptions;
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
      // About to wait for room to hand connections back, the worker wakes the reading thread, which may be asleep
      // on a segment ring.
      const bell = new Doorbell(job.doorbell);
      const follower = new ShardFollower(job.table, new EndedRingWriter(job.ended, () => bell.ring()));
      new RingReader(job.ring).run(newTcpSegment(), follower);
      msg = { type: 'done', ...follower.result() };
    } catch (err) {
      msg = { type: 'failed', message: String((err as Error)?.stack ?? err) };
    }
    port.postMessage(msg);
  });
}
