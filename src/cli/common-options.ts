/** Options and argument handling shared by the commands that analyse (analyze, report, live). */
import { DEFAULT_CLASSIFIER_OPTIONS } from '../classify/classifier.js';
import { DEFAULT_TABLE_OPTIONS } from '../conn/connection-table.js';

/** yargs-parser drops a lone "-" (standard input): main.ts carries it through under a name no path can have. */
export const STDIN_ARG = '\u0000stdin';

/** The file arguments as the user meant them ("-" for standard input). */
export function fileArgs(files: unknown): string[] {
  return (files as string[]).map((f) => (f === STDIN_ARG ? '-' : f));
}

/** The classifier's thresholds and the table's bound, with the same names and defaults in every command. */
export const ANALYSIS_OPTIONS = {
  'close-wait-threshold': {
    type: 'number',
    default: DEFAULT_CLASSIFIER_OPTIONS.closeWaitThresholdS,
    describe: 'seconds of silence in CLOSE_WAIT (to the end of the capture) that count as stuck',
  },
  'fin-timeout': {
    type: 'number',
    default: DEFAULT_CLASSIFIER_OPTIONS.finTimeoutS,
    describe: "the closer's tcp_fin_timeout in seconds (how long an orphaned FIN_WAIT_2 socket lives)",
  },
  'max-connections': {
    type: 'number',
    default: DEFAULT_TABLE_OPTIONS.maxConnections,
    describe: 'connections held at once; beyond it the least recently active are classified and evicted',
  },
} as const;

/** Throws a usage error when a shared option has a value it cannot take. */
export function checkAnalysisOptions(a: { 'close-wait-threshold'?: unknown; 'fin-timeout'?: unknown; 'max-connections'?: unknown }): void {
  for (const k of ['close-wait-threshold', 'fin-timeout'] as const) {
    const v = a[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a number of seconds ≥ 0`);
  }
  const m = a['max-connections'];
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 1) throw new Error('--max-connections must be a whole number ≥ 1');
}
