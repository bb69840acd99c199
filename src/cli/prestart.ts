/**
 * Before the CLI loads (bin/teardown.js): if the command line asks for the table output of captures big enough to
 * run on several threads, start the workers now so that they load their code while the CLI loads its own
 * (src/analysis/worker-launch.ts). Only Node's own modules and that one are loaded here.
 *
 * A guess from the raw arguments, erring on the side of not starting: yargs parses them properly afterwards, and a
 * run that does not take the workers leaves them to end with the process.
 */
import { prestartShardWorkers, threadsFor } from '../analysis/worker-launch.js';

/** Options after which the table output is not what runs (or nothing runs). */
const NOT_A_TABLE_RUN = new Set(['--connection', '--each', '--help', '-h', '--version']);

/** Starts the workers the command line `argv` (after `teardown`) will want, if any. Never throws. */
export function prestart(argv: readonly string[]): void {
  try {
    const threads = threadsGuessed(argv);
    if (threads > 1) prestartShardWorkers(threads - 1);
  } catch {
    // A guess only: the run starts its workers itself.
  }
}

/** The threads a run of `argv` will use, as far as the raw arguments tell (1 when in doubt). */
export function threadsGuessed(argv: readonly string[]): number {
  if (argv[0] !== 'analyze') return 1;
  let jobs: number | undefined;
  const candidates: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (NOT_A_TABLE_RUN.has(a) || a.startsWith('--connection=')) return 1;
    // Another output format than the table: one thread.
    if (a === '-F' || a === '--format') {
      if (argv[i + 1] !== 'table') return 1;
    } else if (a.startsWith('--format=') || (a.startsWith('-F') && a.length > 2)) {
      if (a.slice(a.startsWith('-F') ? 2 : 9).replace(/^=/, '') !== 'table') return 1;
    } else if (a === '-j' || a === '--jobs') {
      jobs = Number(argv[i + 1]);
    } else if (a.startsWith('--jobs=')) {
      jobs = Number(a.slice(7));
    } else if (/^-j\d+$/.test(a)) {
      jobs = Number(a.slice(2));
    } else {
      // A file, or an option's value (which threadsFor finds is no file).
      candidates.push(a);
    }
  }
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs >= 1)) return 1;
  return threadsFor(candidates, jobs);
}
