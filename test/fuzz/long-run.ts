/**
 * The long fuzz run (`npm run fuzz:long -- --minutes 30`): a feature-guided mutation fuzzer over the capture
 * pipeline, plus batches of the frame and segment-stream properties, until a deadline.
 *
 *  - Cases run in a worker (test/fuzz/pool.ts): a case that exceeds the time limit is a hang, a worker that dies
 *    (the heap limit) is a crash; both are findings like a broken invariant.
 *  - Guidance: each run yields behaviour features (decode problem reasons, reader damage and notes, not-TCP
 *    kinds, endings with causes, evictions, formats…); an input that shows a feature never seen before joins the
 *    corpus and is mutated further. This is cheaper than block coverage per execution and steers the mutations
 *    into the reader's and decoder's rarer paths.
 *  - Findings are grouped by signature. Known bugs (known-bugs.ts) are counted; a new signature is saved with its
 *    inputs and options under OUT/findings/, minimized (bytes removed while the signature persists), ready to
 *    become a regression file in test/fuzz/regressions/.
 *  - At the end, the seeds alone and then the seeds plus the corpus grown by the run are replayed under V8's
 *    coverage (coverage-replay.ts, v8-coverage.ts), and the line and function coverage of src/ is compared.
 *
 * Options: --minutes N (30), --seed N (random), --out DIR (a new folder in the temporary directory),
 * --no-coverage. Does nothing unless started with --long-run (the test runner loads every file under test/).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { signatureOf, type CaptureRunOptions, type Violation } from './harness.js';
import { explain } from './known-bugs.js';
import { captureCaseArb, mutate, type CaptureCase } from './mutate.js';
import { FuzzPool, type CaseOutcome } from './pool.js';
import { allSeeds } from './seeds.js';
import { coverageOf } from './v8-coverage.js';

interface Args {
  minutes: number;
  seed: number;
  out: string;
  coverage: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = Number(get('--seed') ?? (Date.now() % 0x7fffffff));
  return {
    minutes: Number(get('--minutes') ?? 30),
    seed,
    out: get('--out') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-fuzz-long-')),
    coverage: !argv.includes('--no-coverage'),
  };
}

interface Entry {
  bytes: Buffer;
  origin: string;
}

interface Finding {
  signature: string;
  count: number;
  firstAt: number;
  dir: string;
  minimizedBytes: number | null;
}

const HANG_MS = 20_000;

function optionsOf(c: CaptureCase): CaptureRunOptions {
  return { maxConnections: c.maxConnections, graceSeconds: c.graceSeconds, chunkSize: c.chunkSize, stream: c.stream, compare: true, timeBudgetMs: 10_000 };
}

/** Signatures of an outcome that no known bug explains. */
function newSignatures(o: CaseOutcome, inputs: readonly Buffer[]): { sigs: string[]; known: string[] } {
  if (o.kind === 'hang') return { sigs: ['hang: a case ran past the time limit'], known: [] };
  if (o.kind === 'crash') return { sigs: [`crash: ${o.detail.replace(/\d+/g, 'N')}`], known: [] };
  if (o.kind === 'harness-error') return { sigs: [`harness-error: ${o.detail.split('\n')[0]}`], known: [] };
  if (o.kind !== 'report') return { sigs: [], known: [] };
  const e = explain(o.report.violations, inputs);
  return { sigs: [...new Set(e.unexplained.map(signatureOf))], known: [...e.known.keys()] };
}

/** Removes bytes from each input while the signature still shows (at most `budget` executions). */
async function minimize(pool: FuzzPool, inputs: Buffer[], opts: CaptureRunOptions, sig: string, budget: number): Promise<Buffer[]> {
  let execs = 0;
  const still = async (cand: Buffer[]) => {
    execs++;
    const o = await pool.exec(cand, opts);
    return newSignatures(o, cand).sigs.includes(sig);
  };
  const cur = inputs.map((b) => Buffer.from(b));
  for (let k = 0; k < cur.length; k++) {
    let chunk = Math.max(1, cur[k]!.length >> 1);
    while (chunk >= 1 && execs < budget) {
      let changed = false;
      for (let start = 0; start < cur[k]!.length && execs < budget; ) {
        const b = cur[k]!;
        const cand = Buffer.concat([b.subarray(0, start), b.subarray(start + chunk)]);
        const trial = cur.slice();
        trial[k] = cand;
        if (cand.length < b.length && (await still(trial))) {
          cur[k] = cand;
          changed = true;
        } else start += chunk;
      }
      if (!changed) chunk >>= 1;
    }
  }
  return cur;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv);
  fs.mkdirSync(args.out, { recursive: true });
  for (const d of ['corpus', 'findings', 'known']) fs.mkdirSync(path.join(args.out, d), { recursive: true });
  const log = (line: string) => {
    process.stdout.write(`${line}\n`);
    fs.appendFileSync(path.join(args.out, 'progress.log'), `${line}\n`);
  };
  const { seeds, corpusPresent } = allSeeds();
  log(`fuzz:long seed ${args.seed}, ${args.minutes} min, ${seeds.length} seeds${corpusPresent ? '' : ' (shared corpus absent: samples and generated seeds only)'}, out ${args.out}`);

  const pool = new FuzzPool({ heapMb: 1024, hangMs: HANG_MS });
  const started = Date.now();
  const deadline = started + args.minutes * 60_000;
  const features = new Set<string>();
  const corpus: Entry[] = seeds.map((s) => ({ bytes: s.bytes, origin: s.name }));
  const seedBytes = seeds.map((s) => s.bytes);
  let corpusBytes = 0;
  let execs = 0;
  const propertyRuns = { frames: 0, segments: 0 };
  let hangs = 0;
  let crashes = 0;
  const knownCounts: Record<string, number> = {};
  const knownSaved: Record<string, number> = {};
  const findings = new Map<string, Finding>();
  const featureGrowth: { atS: number; features: number }[] = [];

  const record = async (o: CaseOutcome, inputs: Buffer[], opts: CaptureRunOptions | null, what: string) => {
    if (o.kind === 'hang') hangs++;
    if (o.kind === 'crash') crashes++;
    const { sigs, known } = newSignatures(o, inputs);
    for (const id of known) {
      knownCounts[id] = (knownCounts[id] ?? 0) + 1;
      if ((knownSaved[id] ?? 0) < 3 && inputs.length > 0) {
        knownSaved[id] = (knownSaved[id] ?? 0) + 1;
        inputs.forEach((b, i) => fs.writeFileSync(path.join(args.out, 'known', `${id}-${knownSaved[id]}-${i}.bin`), b));
      }
    }
    for (const sig of sigs) {
      const f = findings.get(sig);
      if (f !== undefined) {
        f.count++;
        continue;
      }
      const h = createHash('sha1').update(sig).digest('hex').slice(0, 10);
      const dir = path.join(args.out, 'findings', h);
      fs.mkdirSync(dir, { recursive: true });
      const violations: Violation[] = o.kind === 'report' ? o.report.violations : [];
      fs.writeFileSync(path.join(dir, 'finding.json'), JSON.stringify({ signature: sig, what, options: opts, outcome: o.kind, violations }, null, 2));
      inputs.forEach((b, i) => fs.writeFileSync(path.join(dir, `input-${i}.bin`), b));
      const finding: Finding = { signature: sig, count: 1, firstAt: (Date.now() - started) / 1000, dir, minimizedBytes: null };
      findings.set(sig, finding);
      log(`NEW FINDING ${h}: ${sig}`);
      if (opts !== null && o.kind === 'report' && inputs.length > 0) {
        const min = await minimize(pool, inputs, opts, sig, 400);
        min.forEach((b, i) => fs.writeFileSync(path.join(dir, `minimized-${i}.bin`), b));
        finding.minimizedBytes = min.reduce((s, b) => s + b.length, 0);
        log(`  minimized ${inputs.reduce((s, b) => s + b.length, 0)} → ${finding.minimizedBytes} bytes`);
      }
    }
  };

  // Every seed once, unmutated: the features the seeds already show.
  for (const s of seeds) {
    const opts: CaptureRunOptions = { maxConnections: 100_000, graceSeconds: 2, chunkSize: 1 << 20, stream: false, compare: true, timeBudgetMs: 10_000 };
    const o = await pool.exec([s.bytes], opts);
    execs++;
    if (o.kind === 'report') for (const f of o.report.features) features.add(f);
    await record(o, [s.bytes], opts, `seed ${s.name}`);
  }
  const seedFeatures = features.size;
  log(`seeds show ${seedFeatures} features`);

  let batch: CaptureCase[] = [];
  let batchNo = 0;
  let lastProgress = Date.now();
  let lastProperty = Date.now();
  let rnd = args.seed >>> 0 || 1;
  const random = () => {
    rnd ^= rnd << 13;
    rnd ^= rnd >>> 17;
    rnd ^= rnd << 5;
    rnd >>>= 0;
    return rnd / 4294967296;
  };
  while (Date.now() < deadline) {
    if (Date.now() - lastProperty > 30_000) {
      lastProperty = Date.now();
      for (const [which, n] of [['frames', 300], ['segments', 1000]] as const) {
        const seed = Math.floor(random() * 0x7fffffff);
        const o = await pool.property(which, seed, n);
        if (o.kind === 'property') {
          propertyRuns[which] += o.result.runs;
          for (const [id, c] of Object.entries(o.result.known)) knownCounts[id] = (knownCounts[id] ?? 0) + c;
          if (o.result.failure !== null) {
            for (const sig of o.result.failure.signatures.length ? o.result.failure.signatures : ['property failed without a signature']) {
              const key = `${which}: ${sig}`;
              const f = findings.get(key);
              if (f) f.count++;
              else {
                const h = createHash('sha1').update(key).digest('hex').slice(0, 10);
                const dir = path.join(args.out, 'findings', h);
                fs.mkdirSync(dir, { recursive: true });
                fs.writeFileSync(path.join(dir, 'finding.json'), JSON.stringify({ signature: key, property: which, seed, counterexample: o.result.failure.counterexample }, null, 2));
                findings.set(key, { signature: key, count: 1, firstAt: (Date.now() - started) / 1000, dir, minimizedBytes: null });
                log(`NEW FINDING ${h}: ${key}`);
              }
            }
          }
        } else await record(o, [], null, `property ${which} seed ${seed}`);
      }
    }
    if (batch.length === 0) batch = fc.sample(captureCaseArb(corpus.length), { seed: args.seed + batchNo++, numRuns: 512 });
    const c = batch.pop()!;
    // Half the time a corpus entry grown by the run (recent ones first), else any entry.
    const grown = corpus.length - seeds.length;
    const pick = grown > 0 && random() < 0.5 ? seeds.length + Math.floor(grown * Math.sqrt(random())) : c.seed % corpus.length;
    const inputs = [mutate(corpus[pick]!.bytes, c.mutations, seedBytes, c.gzip)];
    if (c.second !== null) inputs.push(mutate(corpus[c.second.seed % corpus.length]!.bytes, c.second.mutations, seedBytes));
    const opts = optionsOf(c);
    const o = await pool.exec(inputs, opts);
    execs++;
    if (o.kind === 'report') {
      let fresh = false;
      for (const f of o.report.features) {
        if (!features.has(f)) {
          features.add(f);
          fresh = true;
        }
      }
      if (fresh && inputs.length === 1 && inputs[0]!.length <= 4 << 20 && corpusBytes < 256 << 20) {
        corpus.push({ bytes: inputs[0]!, origin: `mutant of ${corpus[pick]!.origin}` });
        corpusBytes += inputs[0]!.length;
        fs.writeFileSync(path.join(args.out, 'corpus', `${String(corpus.length - seeds.length).padStart(5, '0')}.bin`), inputs[0]!);
      }
    }
    await record(o, inputs, opts, `mutant of ${corpus[pick]!.origin}`);
    if (Date.now() - lastProgress > 60_000) {
      lastProgress = Date.now();
      const el = (Date.now() - started) / 1000;
      featureGrowth.push({ atS: Math.round(el), features: features.size });
      log(
        `${(el / 60).toFixed(1)} min: ${execs} cases (${(execs / el).toFixed(1)}/s), property runs ${propertyRuns.frames}+${propertyRuns.segments}, corpus +${corpus.length - seeds.length}, features ${features.size}, known ${JSON.stringify(knownCounts)}, new findings ${findings.size}, hangs ${hangs}, crashes ${crashes}`,
      );
    }
  }
  await pool.close();
  const elapsedS = (Date.now() - started) / 1000;
  const summary = {
    seed: args.seed,
    minutes: args.minutes,
    elapsedS: Math.round(elapsedS),
    seeds: seeds.length,
    corpusPresent,
    captureCases: execs,
    casesPerSecond: Number((execs / elapsedS).toFixed(1)),
    propertyRuns,
    corpusGrown: corpus.length - seeds.length,
    featuresFromSeeds: seedFeatures,
    features: features.size,
    featureGrowth,
    knownBugHits: knownCounts,
    newFindings: [...findings.values()],
    hangs,
    crashes,
    workerRestarts: pool.restarts,
    coverage: null as null | Record<string, unknown>,
  };
  if (args.coverage) summary.coverage = replayCoverage(args.out);
  fs.writeFileSync(path.join(args.out, 'summary.json'), JSON.stringify(summary, null, 2));
  log(`done: ${JSON.stringify(summary, null, 2)}`);
}

/**
 * Replays the seeds alone, then the seeds plus the corpus grown by the run and fixed property batches, each in a
 * child process under NODE_V8_COVERAGE, and computes the coverage of src/ (v8-coverage.ts).
 */
function replayCoverage(out: string): Record<string, unknown> {
  const script = path.join(__dirname, 'coverage-replay.js');
  const distSrc = path.resolve(__dirname, '..', '..', 'src');
  const result: Record<string, unknown> = {};
  for (const [label, arg] of [['seeds', 'seeds-only'], ['seeds+corpus+properties', path.join(out, 'corpus')]] as const) {
    const covDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-fuzz-cov-'));
    const r = spawnSync(process.execPath, [script, '--replay', arg], {
      env: { ...process.env, NODE_V8_COVERAGE: covDir },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 30 * 60_000,
    });
    result[label] = r.status === 0 ? coverageOf(covDir, distSrc) : { error: `replay exited ${r.status}: ${r.stderr.slice(0, 2000)}` };
    fs.rmSync(covDir, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(out, 'coverage.json'), JSON.stringify(result, null, 2));
  return result;
}

if (process.argv.includes('--long-run')) {
  main().catch((err: unknown) => {
    process.stderr.write(`fuzz:long failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
