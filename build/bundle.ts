/**
 * The build's last step, after tsc: bundles the compiled CLI into dist/bundle/ and trains its code caches.
 *
 *   node dist/build/bundle.js          (npm run build does it)
 *
 * Why: a run used to spend about 100 ms loading a hundred modules one by one, and compiling them, before it read a
 * byte, on the main thread and again in each worker (docs/performance.md). A bundle is one file to read and
 * compile, and its code cache (src/cli/cached-require.ts) skips most of the compiling.
 *
 * What dist/bundle/ holds:
 * - main.js: the CLI (src/cli/main.ts and all it loads, yargs and cli-table3 included), which bin/teardown.js
 *   loads through requireCached.
 * - prestart.js: what bin/teardown.js runs first to start the workers early (src/cli/prestart.ts).
 * - worker-launch.js: shared by the two above, not copied into each: the workers started early wait in its list
 *   for the run to take them. Its folder is where it looks for the worker's file.
 * - shard-worker.js: the file a worker thread starts (a few lines, written here), which loads
 *   shard-worker-code.js, the worker's own bundle, through requireCached.
 * - main.js.cache and shard-worker-code.js.cache: V8 code caches, written by a training run of the bundled CLI
 *   over the samples on two threads (analyze --jobs 2), so that they hold what a parallel table run compiles.
 * - ../locales/: yargs' translations of its own messages, where the bundled yargs looks for them (beside its
 *   code's folder), so that a German locale gets German usage errors from the bundle as from yargs itself.
 *
 * The unbundled files in dist/src stay what the library and the tests load.
 */
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CODE_CACHE_SUFFIX, WRITE_CODE_CACHE_ENV } from '../src/cli/cached-require.js';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'bundle');
const SAMPLES = path.join(ROOT, 'samples');

const COMMON: esbuild.BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The optional native capture module is found at run time, from the package's node_modules.
  external: ['teardown-libpcap'],
  logLevel: 'warning',
  outdir: OUT,
};

/** Every import of worker-launch.js becomes a require of dist/bundle/worker-launch.js (one copy, see above). */
const workerLaunchShared: esbuild.Plugin = {
  name: 'worker-launch-shared',
  setup(build) {
    build.onResolve({ filter: /(^|\/)worker-launch\.js$/ }, () => ({ path: './worker-launch.js', external: true }));
  },
};

const WORKER_STUB = `'use strict';
// Written by build/bundle.ts: a parallel run's worker thread starts here and loads its bundle with its code cache.
require('../src/cli/cached-require.js').requireCached(require('node:path').join(__dirname, 'shard-worker-code.js'));
`;

async function main(): Promise<void> {
  fs.rmSync(OUT, { recursive: true, force: true });
  await esbuild.build({
    ...COMMON,
    entryPoints: {
      main: path.join(DIST, 'src/cli/main.js'),
      prestart: path.join(DIST, 'src/cli/prestart.js'),
      'shard-worker-code': path.join(DIST, 'src/analysis/shard-worker.js'),
    },
    plugins: [workerLaunchShared],
  });
  await esbuild.build({ ...COMMON, entryPoints: { 'worker-launch': path.join(DIST, 'src/analysis/worker-launch.js') } });
  fs.writeFileSync(path.join(OUT, 'shard-worker.js'), WORKER_STUB);
  const locales = path.join(DIST, 'locales');
  fs.rmSync(locales, { recursive: true, force: true });
  fs.cpSync(path.join(path.dirname(require.resolve('yargs/package.json')), 'locales'), locales, { recursive: true });
  train();
}

/** Runs the bundled CLI once over the samples on two threads, writing the code caches as its threads end. */
function train(): void {
  const samples = fs.readdirSync(SAMPLES).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(SAMPLES, f));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/teardown.js'), 'analyze', '--jobs', '2', ...samples], {
    env: { ...process.env, [WRITE_CODE_CACHE_ENV]: '1' },
    encoding: 'utf8',
  });
  const caches = ['main.js', 'shard-worker-code.js'].map((f) => path.join(OUT, f + CODE_CACHE_SUFFIX));
  const missing = caches.filter((f) => !fs.existsSync(f));
  if (r.status !== 0 || missing.length > 0) {
    throw new Error(`bundle: the training run failed (status ${r.status}; no ${missing.map((f) => path.basename(f)).join(', ') || 'cache missing'})\n${r.stderr}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
