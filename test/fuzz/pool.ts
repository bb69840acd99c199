/**
 * Runs capture fuzz cases in a worker thread with a time limit per case and a heap limit, so that a hang or a
 * runaway allocation in the code under test becomes a finding instead of a stuck or killed test process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CaptureRunOptions, CaptureRunReport } from './harness.js';
import type { WorkerRequest } from './fuzz-worker.js';
import type { PropertyRunResult } from './property-runs.js';

export type CaseOutcome =
  | { kind: 'report'; report: CaptureRunReport }
  | { kind: 'property'; result: PropertyRunResult }
  /** The case did not finish within the limit: the worker was terminated. */
  | { kind: 'hang'; afterMs: number }
  /** The worker died (out of memory under resourceLimits, or a crash outside the harness's try blocks). */
  | { kind: 'crash'; detail: string }
  /** The harness itself failed (a bug in the test code, not in teardown). */
  | { kind: 'harness-error'; detail: string };

export interface PoolOptions {
  /** Old-generation heap limit of the worker (MiB). */
  heapMb: number;
  /** A case running longer than this is a hang (ms). */
  hangMs: number;
}

export class FuzzPool {
  private worker: Worker | null = null;
  private nextId = 1;
  /** Where the worker writes each case's input files (one folder for the pool, whatever the restarts). */
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-fuzz-'));
  private readonly removeDir = () => fs.rmSync(this.dir, { recursive: true, force: true });
  restarts = 0;

  constructor(private readonly opts: PoolOptions) {
    process.once('exit', this.removeDir);
  }

  private spawn(): Worker {
    const w = new Worker(path.join(__dirname, 'fuzz-worker.js'), {
      workerData: { teardownFuzz: true, dir: this.dir },
      resourceLimits: { maxOldGenerationSizeMb: this.opts.heapMb, maxYoungGenerationSizeMb: 32 },
      stdout: false,
      stderr: false,
    });
    w.unref();
    return w;
  }

  /** Runs one capture case (the inputs are analysed merged, as several files are). */
  exec(inputs: readonly Buffer[], options: CaptureRunOptions): Promise<CaseOutcome> {
    const id = this.nextId++;
    return this.send({ id, kind: 'capture', inputs: inputs.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)), options });
  }

  /** Runs `numRuns` cases of a property with fast-check's `seed`. */
  property(which: 'frames' | 'segments', seed: number, numRuns: number): Promise<CaseOutcome> {
    return this.send({ id: this.nextId++, kind: 'property', which, seed, numRuns }, this.opts.hangMs * 4);
  }

  private send(req: WorkerRequest, limitMs = this.opts.hangMs): Promise<CaseOutcome> {
    const w = (this.worker ??= this.spawn());
    const id = req.id;
    const t0 = Date.now();
    return new Promise<CaseOutcome>((resolve) => {
      let done = false;
      const finish = (o: CaseOutcome, kill: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        if (kill) {
          this.worker = null;
          this.restarts++;
          void w.terminate();
        }
        resolve(o);
      };
      const onMessage = (m: { id: number; report?: CaptureRunReport; property?: PropertyRunResult; harnessError?: string }) => {
        if (m.id !== id) return;
        if (m.harnessError !== undefined) finish({ kind: 'harness-error', detail: m.harnessError }, true);
        else if (m.property !== undefined) finish({ kind: 'property', result: m.property }, false);
        else finish({ kind: 'report', report: m.report! }, false);
      };
      const onError = (err: Error) => finish({ kind: 'crash', detail: `${(err as { code?: string }).code ?? err.name}: ${err.message}` }, true);
      const onExit = (code: number) => finish({ kind: 'crash', detail: `worker exited with ${code}` }, true);
      const timer = setTimeout(() => finish({ kind: 'hang', afterMs: Date.now() - t0 }, true), limitMs);
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage(req);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
    this.removeDir();
    process.off('exit', this.removeDir);
  }
}
