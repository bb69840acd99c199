/**
 * Worker thread of the fuzzer: runs one case at a time (a capture case through the harness, or a batch of a
 * property) and posts the result back. A worker lets the pool stop a case that hangs (an endless synchronous
 * loop cannot be interrupted from inside) and bound the heap (resourceLimits): the pool terminates and replaces it.
 *
 * The test runner also loads every file under test/: on the main thread this file does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runCaptureCase, type CaptureRunOptions } from './harness.js';
import { runProperty } from './property-runs.js';

export type WorkerRequest =
  | { id: number; kind: 'capture'; inputs: Uint8Array[]; options: CaptureRunOptions }
  | { id: number; kind: 'property'; which: 'frames' | 'segments'; seed: number; numRuns: number };

const data = workerData as { teardownFuzz?: boolean; dir?: string } | null;
if (!isMainThread && parentPort !== null && data?.teardownFuzz === true && data.dir !== undefined) {
  const port = parentPort;
  // The pool's folder: the pool removes it (a terminated worker runs no exit handler).
  const dir = data.dir;
  const fail = (id: number, err: unknown) => port.postMessage({ id, harnessError: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  port.on('message', (msg: WorkerRequest) => {
    if (msg.kind === 'property') {
      try {
        port.postMessage({ id: msg.id, property: runProperty(msg.which, msg.seed, msg.numRuns) });
      } catch (err) {
        fail(msg.id, err);
      }
      return;
    }
    const inputs = msg.inputs.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
    runCaptureCase(inputs, msg.options, dir).then(
      (report) => port.postMessage({ id: msg.id, report }),
      (err: unknown) => fail(msg.id, err),
    );
  });
}
