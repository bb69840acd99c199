import * as path from 'node:path';
import { LabError, runLab, SCENARIO_NAMES } from './lab.js';
import { cleanupStale } from './netns.js';

/**
 * `npm run lab [-- --only a,b] [--out DIR] [--jobs N] [--cleanup] [--list]` (root). Regenerates the captures in
 * samples/ and samples/manifest.json; exits 1 with the reasons when a scenario fails or a capture does not show
 * the expected pattern, 2 on a usage error.
 */

const USAGE = `usage: npm run lab -- [--only a,b] [--out DIR] [--jobs N] [--cleanup] [--list]
  --only a,b   run only these scenarios (the manifest keeps the other entries)
  --out DIR    write captures and manifest.json to DIR (default: samples/)
  --jobs N     scenarios running at once (default: all)
  --cleanup    remove td-* namespaces (and what runs in them) left by a crashed run, then exit
  --list       print the scenario names and exit
Needs root: it creates network namespaces, nftables rules and captures.`;

function usage(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  let outDir: string | undefined;
  let only: string[] | undefined;
  let jobs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--out') outDir = path.resolve(value());
    else if (a === '--only') {
      only = value().split(',').map((s) => s.trim()).filter((s) => s !== '');
      const unknown = only.filter((n) => !SCENARIO_NAMES.includes(n));
      if (unknown.length > 0) usage(`unknown scenario(s): ${unknown.join(', ')} (see --list)`);
    }
    else if (a === '--jobs') {
      jobs = Number(value());
      if (!Number.isInteger(jobs) || jobs < 1) usage('--jobs needs a positive integer');
    } else if (a === '--cleanup') {
      const removed = cleanupStale();
      process.stdout.write(removed.length === 0 ? 'no stale lab namespaces\n' : `removed: ${removed.join(' ')}\n`);
      return 0;
    } else if (a === '--list') {
      process.stdout.write(SCENARIO_NAMES.join('\n') + '\n');
      return 0;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      return 0;
    } else usage(`unknown argument: ${a}`);
  }
  const opts: Parameters<typeof runLab>[0] = {};
  if (outDir !== undefined) opts.outDir = outDir;
  if (only !== undefined) opts.only = only;
  if (jobs !== undefined) opts.concurrency = jobs;
  const started = Date.now();
  const manifest = await runLab(opts);
  const conns = manifest.captures.reduce((n, c) => n + c.connections.length, 0);
  process.stdout.write(
    `lab: done in ${((Date.now() - started) / 1000).toFixed(1)} s; ${outDir ?? 'samples'}/manifest.json lists ${manifest.captures.length} captures (${conns} connections)\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof LabError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`lab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
