/**
 * Replays fuzz inputs for a coverage measurement: long-run.ts starts this file in a child process with
 * NODE_V8_COVERAGE set, then reads V8's coverage of src/ (v8-coverage.ts). With `--replay seeds-only` the seeds
 * alone; with `--replay DIR` the seeds, every input of a grown corpus folder (and one pair in seven merged, read as
 * a stream) and fixed batches of the frame and segment-stream properties. Does nothing unless started with --replay (the test runner loads every file under
 * test/).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCaptureCase } from './harness.js';
import { runProperty } from './property-runs.js';
import { allSeeds } from './seeds.js';

async function main(replay: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-fuzz-replay-'));
  const inputs = allSeeds().seeds.map((s) => s.bytes);
  if (replay !== 'seeds-only') for (const f of fs.readdirSync(replay).sort()) inputs.push(fs.readFileSync(path.join(replay, f)));
  const opts = { maxConnections: 64, graceSeconds: 2, chunkSize: 65536, stream: false, compare: true, timeBudgetMs: 60_000 };
  for (const b of inputs) await runCaptureCase([b], opts, dir);
  // As the run does for one case in seven: two inputs analysed merged (the merge reader), and a stream read.
  if (replay !== 'seeds-only') {
    for (let i = 0; i + 1 < inputs.length; i += 7) await runCaptureCase([inputs[i]!, inputs[i + 1]!], { ...opts, stream: true, chunkSize: 4096 }, dir);
  }
  if (replay !== 'seeds-only') {
    runProperty('frames', 1, 3000);
    runProperty('segments', 1, 3000);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`replayed ${inputs.length} inputs\n`);
}

const at = process.argv.indexOf('--replay');
if (at >= 0) {
  main(process.argv[at + 1] ?? 'seeds-only').catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
