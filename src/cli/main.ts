import yargs from 'yargs';
import { ANALYSIS_OPTIONS, STDIN_ARG, checkAnalysisOptions, fileArgs } from './common-options.js';
import { FORMATS, parseEndings, runAnalyze, type Format } from './analyze-command.js';
import { EXIT } from './exit-codes.js';
import { registerInterfacesCommand, registerLiveCommand } from './live-command.js';
import { registerReportCommand } from './report-command.js';

/** A wrong command line: reported in one line with the usage status, never as a stack trace. */
class UsageError extends Error {}

/** Argument parsing and wiring only; the analysis lives in src/analysis. Resolves to the exit status. */
export async function run(argv: string[]): Promise<number> {
  let status: number = EXIT.ok;
  // yargs-parser drops a lone "-" (standard input): carry it through (see common-options.ts).
  const args = argv.map((a) => (a === '-' ? STDIN_ARG : a));
  const parser = yargs(args)
    .scriptName('teardown')
    .usage('$0 <command> [options]\n\nFollows every TCP connection in packet captures and tells how and why each one ended.')
    .command(
      'analyze <files..>',
      'Analyze capture files (pcap, pcapng, gzip; "-" reads standard input)',
      (y) =>
        y
          .positional('files', { type: 'string', array: true, demandOption: true, describe: 'capture files, or - for stdin' })
          .option('format', { alias: 'F', choices: FORMATS, default: 'table' as Format, describe: 'output format' })
          .option('only', { choices: ['abnormal'] as const, describe: 'report only abnormal endings' })
          .option('ending', { type: 'string', array: true, describe: 'report only these endings (comma-separated or repeated)' })
          .option('host', { type: 'string', array: true, describe: 'report only connections with this address at either end' })
          .option('port', { type: 'number', array: true, describe: 'report only connections with this port at either end' })
          .option('connection', { alias: 'c', type: 'number', describe: "draw this connection's teardown as a ladder" })
          .options(ANALYSIS_OPTIONS)
          .option('each', {
            type: 'boolean',
            default: false,
            describe: 'analyse each file as a capture of its own (default: merge them in time order, as rotated files of one capture)',
          })
          .option('limit', { type: 'number', default: 50, describe: 'abnormal connections listed in the table output' })
          .option('jobs', {
            alias: 'j',
            type: 'number',
            describe: 'threads for the table output: one reads, decodes and classifies, the others each follow a share of the connections (default: one per core, up to 4, for captures over 32 MB)',
          })
          .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'list frames that could not be decoded' })
          .option('color', { type: 'boolean', describe: 'colour the output (default: when stdout is a terminal)' })
          .option('ascii', { type: 'boolean', default: false, describe: 'draw with ASCII only' })
          .check((a) => {
            checkAnalysisOptions(a);
            parseEndings(a.ending);
            if (a.jobs !== undefined && (!Number.isInteger(a.jobs) || a.jobs < 1)) throw new Error('--jobs must be a whole number ≥ 1');
            // One document per file would be several headers in one stream; ndjson has none to repeat.
            if (a.each && a.format !== 'table' && a.format !== 'ndjson') {
              throw new Error('--each writes one report per file: use --format ndjson for machine-readable output');
            }
            if (!Number.isInteger(a.limit) || a.limit < 0) throw new Error('--limit must be a whole number ≥ 0');
            for (const p of a.port ?? []) {
              if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`--port ${p}: a port is a whole number from 0 to 65535`);
            }
            return true;
          }),
      async (a) => {
        status = await runAnalyze(
          {
            files: fileArgs(a.files),
            format: a.format,
            only: a.only,
            ending: parseEndings(a.ending),
            host: a.host,
            port: a.port,
            connection: a.connection,
            closeWaitThreshold: a['close-wait-threshold'],
            finTimeout: a['fin-timeout'],
            maxConnections: a['max-connections'],
            limit: a.limit,
            each: a.each,
            jobs: a.jobs,
            verbose: a.verbose,
            color: a.color ?? 'auto',
            ascii: a.ascii,
          },
          { stdout: process.stdout, stderr: process.stderr, env: process.env },
        );
      },
    )
    .demandCommand(1, 'Name a command: analyze, report, live, interfaces');
  const setStatus = (st: number) => {
    status = st;
  };
  registerReportCommand(parser, setStatus);
  registerLiveCommand(parser, setStatus);
  registerInterfacesCommand(parser, setStatus);
  parser
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // Throwing stops yargs before any command handler runs with arguments its checks rejected.
      throw new UsageError(msg ?? err?.message ?? 'bad command line');
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`teardown: ${err.message}\nRun "teardown --help" for usage.\n`);
    return EXIT.usage;
  }
  return status;
}

export function main(argv: string[]): void {
  // A closed pipe (teardown … | head) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  run(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`teardown: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\nPlease report this with the capture if you can.\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
