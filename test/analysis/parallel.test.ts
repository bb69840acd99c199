/**
 * A parallel run (worker threads, each following a share of the connections) prints exactly what one pass prints:
 * the same counts, services, abnormal connections, ids, evidence and damage reports, for one file or several
 * rotated files whose connections span them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SYNTH, synthesize } from '../../bench/synth-capture.js';
import { spawnSync } from 'node:child_process';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCapturesInParallel } from '../../src/analysis/parallel-run.js';
import { shardOf } from '../../src/analysis/shard.js';
import type { ClassifierOptions } from '../../src/classify/classifier.js';
import { DEFAULT_CLASSIFIER_OPTIONS } from '../../src/classify/classifier.js';
import { runAnalyze, type AnalyzeArgs } from '../../src/cli/analyze-command.js';
import { DEFAULT_TABLE_OPTIONS } from '../../src/conn/connection-table.js';
import { newTcpSegment } from '../../src/decode/segment.js';
import { TextCollector } from '../interop/zeek-corpus.js';
import { CORPUS, REPO, SAMPLES, corpusAvailable } from '../helpers/paths.js';
import { splitCapture } from '../helpers/split-capture.js';

async function table(files: string[], jobs: number, extra: Partial<AnalyzeArgs> = {}): Promise<{ out: string; err: string; status: number }> {
  const out = new TextCollector();
  const err: string[] = [];
  const status = await runAnalyze(
    {
      files,
      format: 'table',
      closeWaitThreshold: DEFAULT_CLASSIFIER_OPTIONS.closeWaitThresholdS,
      finTimeout: DEFAULT_CLASSIFIER_OPTIONS.finTimeoutS,
      maxConnections: DEFAULT_TABLE_OPTIONS.maxConnections,
      verbose: true,
      color: false,
      ascii: true,
      limit: 50,
      jobs,
      ...extra,
    },
    { stdout: out, stderr: { write: (s: string) => err.push(s) }, env: {} },
  );
  return { out: out.text(), err: err.join(''), status };
}

/** The ids listed in the abnormal list ("#12  …"), in order. */
function listedIds(text: string): number[] {
  return [...text.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1]));
}

let dir = '';
let synth = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-parallel-'));
  synth = path.join(dir, 'synth.pcap');
  // Enough connections, interleaved, for every shard to hold many and for ids to alternate between shards.
  synthesize({ ...DEFAULT_SYNTH, out: synth, connections: 4000, duration: 60, seed: 7 });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('shardOf', () => {
  it('puts both directions of a tuple in the same shard and spreads tuples over the shards', () => {
    const a = newTcpSegment();
    const b = newTcpSegment();
    const seen = new Array(3).fill(0);
    for (let i = 0; i < 3000; i++) {
      a.srcAddr.set([0xc0000201 + (i % 7), 0, 0, 0]);
      a.dstAddr.set([0xc6336401, 0, 0, 0]);
      a.srcPort = 1024 + i;
      a.dstPort = 443;
      b.srcAddr.set(a.dstAddr);
      b.dstAddr.set(a.srcAddr);
      b.srcPort = a.dstPort;
      b.dstPort = a.srcPort;
      const s = shardOf(a, 3);
      assert.equal(shardOf(b, 3), s);
      seen[s]++;
    }
    // Each shard gets a fair part (a third, give or take a tenth of it).
    for (const n of seen) assert.ok(n > 900 && n < 1100, `shard sizes ${seen.join(', ')}`);
  });
});

describe('a parallel run prints what one pass prints', () => {
  it('a synthetic capture of 4,000 interleaved connections, with 2, 3 and 4 threads', async () => {
    const one = await table([synth], 1, { limit: 400 });
    assert.equal(one.status, 0);
    const ids = listedIds(one.out);
    assert.ok(ids.length === 400, `abnormal entries listed: ${ids.length}`);
    for (const jobs of [2, 3, 4]) {
      const par = await table([synth], jobs, { limit: 400 });
      assert.equal(par.out, one.out, `${jobs} threads`);
      assert.equal(par.status, one.status);
    }
  });

  it('with filters: --only abnormal, --ending, --port, --host', async () => {
    const cases: Partial<AnalyzeArgs>[] = [
      { only: 'abnormal' },
      { ending: ['orphan-timeout-rst', 'close-wait-stuck'] },
      { port: [443] },
      { host: ['198.51.100.7'] },
    ];
    for (const c of cases) {
      const one = await table([synth], 1, c);
      const par = await table([synth], 2, c);
      assert.equal(par.out, one.out, JSON.stringify(c));
    }
  });

  it('rotated files whose connections span them, merged in time order', async () => {
    const whole = await table([synth], 1);
    // Rotation by count with the same writer the benchmark uses: cut the capture into three files.
    const parts = await splitCapture(synth, 3, dir);
    const par = await table(parts.reverse(), 2);
    // The header names the files; everything after it is the analysis.
    const body = (t: string) => t.slice(t.indexOf('Connections'));
    assert.equal(body(par.out), body(whole.out));
  });

  it('every lab sample, with 2 threads', async () => {
    const names = fs.readdirSync(SAMPLES).filter((f) => /\.pcap(ng)?$/.test(f));
    assert.ok(names.length >= 17, `${names.length} samples`);
    for (const name of names) {
      const file = path.join(SAMPLES, name);
      const one = await table([file], 1);
      const par = await table([file], 2);
      assert.equal(par.out, one.out, name);
    }
  });

  it('the shared corpus, with 2 threads', { skip: corpusAvailable() ? false : 'the shared corpus (../shared/corpus) is not here' }, async () => {
    const zeek = path.join(CORPUS, 'zeek');
    const names = fs.readdirSync(zeek).filter((f) => /\.(pcap|pcapng|trace)$/.test(f));
    assert.ok(names.length >= 30, `${names.length} corpus captures`);
    for (const name of names) {
      const file = path.join(zeek, name);
      const one = await table([file], 1);
      const par = await table([file], 2);
      assert.equal(par.out, one.out, name);
      assert.equal(par.err, one.err, name);
    }
  });

  it('a damaged capture: the same error, the same analysis of what came before it, the same status', async () => {
    const bytes = fs.readFileSync(synth);
    const cut = path.join(dir, 'cut.pcap');
    // Cut in the middle of a record: the reader reports the damage and keeps the frames before it.
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2) + 7));
    const one = await table([cut], 1);
    const par = await table([cut], 2);
    assert.equal(one.status, 3);
    assert.equal(par.status, 3);
    assert.equal(par.err, one.err);
    assert.equal(par.out, one.out);
  });

  it('standard input, read once by the reading thread, with --jobs 2', () => {
    const bin = path.join(REPO, 'bin', 'teardown.js');
    const run = (jobs: number) => spawnSync(process.execPath, [bin, 'analyze', '--ascii', '--jobs', String(jobs), '-'], {
      input: fs.readFileSync(synth),
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const one = run(1);
    const par = run(2);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(par.status, 0, par.stderr);
    assert.ok(one.stdout.includes('4,000') || one.stdout.includes('4000'), 'the 4,000 connections are counted');
    assert.equal(par.stdout, one.stdout);
  });
});

describe('a parallel run that fails', () => {
  // A grace period the worker's table cannot add to a time (a BigInt survives the trip to the worker): the worker
  // throws at its first sweep, in the middle of the run.
  const brokenTable = { ...DEFAULT_ANALYZER_OPTIONS, detail: 'summary' as const, table: { ...DEFAULT_TABLE_OPTIONS, graceSeconds: 1n as unknown as number } };
  // A classifier without options throws at the first connection the reading thread classifies.
  const brokenClassifier = { ...DEFAULT_ANALYZER_OPTIONS, detail: 'summary' as const, classifier: null as unknown as ClassifierOptions };

  it('a worker that fails ends the run with its error (the reading thread does not wait on its ring for ever)', { timeout: 60_000 }, async () => {
    for (const jobs of [2, 3]) {
      await assert.rejects(analyzeCapturesInParallel([synth], brokenTable, { jobs, filter: {}, abnormalLimit: 10 }), /analysis worker failed: .*BigInt/s);
    }
  });

  it('a failure while classifying what the workers hand back ends the run, and its workers, with that error', { timeout: 60_000 }, async () => {
    for (const jobs of [2, 3]) {
      // The classifier's first read of its missing options (which one depends on the first connection handed back).
      await assert.rejects(analyzeCapturesInParallel([synth], brokenClassifier, { jobs, filter: {}, abnormalLimit: 10 }), /Cannot read properties of null \(reading '\w+'\)/);
    }
  });
});
