/**
 * `teardown report FILE… -o review.html|review.md`: the incident-review document. Argument parsing and wiring
 * only: the captures go through analyzeCaptures into a bounded ReportModel, which the HTML or Markdown renderer
 * turns into the file. Exit statuses as src/cli/exit-codes.ts: a damaged capture still gets its report (status 3).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Argv } from 'yargs';
import { analyzeCaptures } from '../analysis/run.js';
import { openCapture } from '../capture/open-capture.js';
import { NEED_MORE } from '../capture/reader.js';
import {
  addToReport,
  newReportModel,
  DEFAULT_EXAMPLES_PER_ENDING,
  DEFAULT_TABLE_LIMIT,
} from '../report/report-model.js';
import { DEFAULT_TOP_N, type ReportMeta } from '../report/report-text.js';
import { isTimeOfDay, parseTimeArg } from '../report/time-window.js';
import { analyzerOptions } from './analyze-command.js';
import { ANALYSIS_OPTIONS, checkAnalysisOptions, fileArgs } from './common-options.js';
import { EXIT } from './exit-codes.js';


export type ReportFormat = 'html' | 'markdown';

/** The format an output name asks for, or null when its extension is neither. */
export function reportFormatOf(file: string): ReportFormat | null {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.md' || ext === '.markdown') return 'markdown';
  return null;
}

export interface ReportArgs {
  files: string[];
  output: string;
  title?: string | undefined;
  only?: 'abnormal' | undefined;
  from?: string | undefined;
  to?: string | undefined;
  closeWaitThreshold: number;
  finTimeout: number;
  maxConnections: number;
  /** Example ladders per abnormal ending. */
  examples: number;
  /** Rows of the abnormal-connections table. */
  limit: number;
  /** Rows of the services and hosts tables. */
  top: number;
}

export interface ReportIo {
  stderr: { write(s: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
}

/** The earliest first-packet time of the files (epoch ms), read from each file's first packet; null for stdin only. */
async function firstPacketMs(files: string[]): Promise<number | null> {
  let best: number | null = null;
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    if (file === '-') continue;
    let reader;
    try {
      reader = await openCapture(file, i);
    } catch {
      continue; // reported by the run itself
    }
    try {
      // Bounded: a pcapng may start with blocks that are not packets, each fill() reads one chunk.
      for (let guard = 0; guard < 1000; guard++) {
        const p = reader.next();
        if (p === null) break;
        if (p === NEED_MORE) {
          await reader.fill();
          continue;
        }
        const ms = p.tsSec * 1000 + p.tsNs / 1e6;
        best = best === null ? ms : Math.min(best, ms);
        break;
      }
    } finally {
      reader.close();
    }
  }
  return best;
}

function generator(): string {
  // dist/src/cli → the package root; a missing or unreadable package.json just leaves the version out.
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'teardown-analyzer' && typeof pkg.version === 'string') return `teardown ${pkg.version}`;
    } catch {
      // not here: look one folder up
    }
  }
  return 'teardown';
}

/** The report's date: now, or SOURCE_DATE_EPOCH (reproducible builds) when it is set. */
function generatedAt(env: ReportIo['env']): string {
  const epoch = env['SOURCE_DATE_EPOCH'];
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function defaultTitle(files: string[]): string {
  const names = files.map((f) => (f === '-' ? 'standard input' : path.basename(f)));
  const shown = names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
  return `Connection endings in ${shown}`;
}

/** Runs `teardown report`; resolves to the exit status. */
export async function runReport(a: ReportArgs, io: ReportIo): Promise<number> {
  const format = reportFormatOf(a.output);
  if (format === null) {
    io.stderr.write(`teardown: ${a.output}: the output name must end in .html or .md (it decides the format)\n`);
    return EXIT.usage;
  }
  const outDir = path.dirname(path.resolve(a.output));
  try {
    if (!fs.statSync(outDir).isDirectory()) throw new Error('not a directory');
    fs.accessSync(outDir, fs.constants.W_OK);
  } catch {
    io.stderr.write(`teardown: ${a.output}: cannot write there (${outDir} is missing or not writable)\n`);
    return EXIT.usage;
  }

  // The window: a time of day needs the capture's date, read from the first packet before the run.
  let fromMs: number | null = null;
  let toMs: number | null = null;
  if (a.from !== undefined || a.to !== undefined) {
    const needDate = [a.from, a.to].some((t) => t !== undefined && isTimeOfDay(t));
    const start = needDate ? await firstPacketMs(a.files) : null;
    for (const [name, text] of [
      ['from', a.from],
      ['to', a.to],
    ] as const) {
      if (text === undefined) continue;
      const t = parseTimeArg(text, start);
      if (!t.ok) {
        io.stderr.write(`teardown: --${name}: ${t.error}\n`);
        return EXIT.usage;
      }
      if (name === 'from') fromMs = t.ms;
      else toMs = t.ms;
    }
    if (fromMs !== null && toMs !== null && toMs < fromMs) {
      io.stderr.write(`teardown: --to (${a.to}) is before --from (${a.from})\n`);
      return EXIT.usage;
    }
  }

  const model = newReportModel({
    onlyAbnormal: a.only === 'abnormal',
    fromMs,
    toMs,
    examplesPerEnding: a.examples,
    tableLimit: a.limit,
  });
  // The report does not show Zeek's view: not following it saves a tenth of the time.
  const opts = analyzerOptions(a);
  opts.table = { ...opts.table, zeek: false };
  const result = await analyzeCaptures(a.files, opts, {
    onRecord: (r) => {
      addToReport(model, r);
    },
  });
  for (const e of result.errors) io.stderr.write(`teardown: ${e.message}\n`);

  const meta: ReportMeta = {
    title: a.title !== undefined && a.title.trim() !== '' ? a.title : defaultTitle(a.files),
    errors: result.errors.map((e) => e.message),
    from: a.from,
    to: a.to,
    generator: generator(),
    generatedAt: generatedAt(io.env),
    topN: a.top,
  };
  // The renderers load only when a report is written: every other command would pay for them at startup.
  const text =
    format === 'html'
      ? (await import('../report/html-report.js')).renderHtmlReport(model, result.summary, meta)
      : (await import('../report/markdown-report.js')).renderMarkdownReport(model, result.summary, meta);

  // Write beside the target and rename, so that a reader never sees half a report.
  const tmp = path.join(outDir, `.${path.basename(a.output)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text, 'utf8');
    fs.renameSync(tmp, a.output);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing left to clean
    }
    io.stderr.write(`teardown: ${a.output}: cannot write the report: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  io.stderr.write(
    `teardown: wrote ${a.output} (${format === 'html' ? 'HTML' : 'Markdown'}; ${model.total} connection${model.total === 1 ? '' : 's'}, ${model.abnormal} abnormal)\n`,
  );
  return result.errors.length > 0 ? EXIT.damaged : EXIT.ok;
}

/** What is wrong with the parsed options, or null: numbers in range, a .html/.md output, well-formed times. */
function argsError(a: Record<string, unknown>): string | null {
  try {
    checkAnalysisOptions(a);
  } catch (err) {
    return (err as Error).message;
  }
  for (const [k, min] of [
    ['examples', 0],
    ['limit', 0],
    ['top', 0],
  ] as const) {
    const v = a[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) return `--${k} must be a whole number ≥ ${min}`;
  }
  const out = a['output'];
  if (out === undefined) return 'name the report to write with -o FILE.html or -o FILE.md';
  if (typeof out !== 'string' || reportFormatOf(out) === null) {
    return '--output must name a .html or .md file (the extension decides the format)';
  }
  for (const k of ['from', 'to'] as const) {
    const v = a[k];
    if (v === undefined) continue;
    // Syntax only here; a time of day is resolved against the capture's date when the run starts.
    const t = parseTimeArg(String(v), 0);
    if (!t.ok) return `--${k}: ${t.error}`;
  }
  return null;
}

/**
 * Adds `report <files..>` to a yargs parser. The handler reports its exit status through `onStatus` (main.ts
 * keeps it for process.exitCode); without one it sets process.exitCode itself.
 */
export function registerReportCommand(y: Argv, onStatus?: (status: number) => void): Argv {
  return y.command(
    'report <files..>',
    'Write an incident-review report (HTML or Markdown) of capture files: endings, charts, ladders, fixes',
    (c) =>
      c
        .positional('files', { type: 'string', array: true, demandOption: true, describe: 'capture files, or - for stdin' })
        .option('output', {
          alias: 'o',
          type: 'string',
          demandOption: true,
          describe: 'the report to write: .html (self-contained page) or .md (GitHub-flavoured Markdown)',
        })
        .option('title', { type: 'string', describe: 'heading of the report (default: "Connection endings in FILE")' })
        .option('only', { choices: ['abnormal'] as const, describe: 'report only abnormal endings' })
        .option('from', {
          type: 'string',
          describe: 'only connections that ended at or after this time: ISO 8601, or a time of day (UTC) on the capture\'s date',
        })
        .option('to', { type: 'string', describe: 'only connections that ended at or before this time (as --from)' })
        .options(ANALYSIS_OPTIONS)
        .option('examples', {
          type: 'number',
          default: DEFAULT_EXAMPLES_PER_ENDING,
          describe: 'example connections drawn as ladders per abnormal ending',
        })
        .option('limit', { type: 'number', default: DEFAULT_TABLE_LIMIT, describe: 'rows of the abnormal-connections table' })
        .option('top', { type: 'number', default: DEFAULT_TOP_N, describe: 'rows of the services and hosts tables' })
        .check((a) => {
          const error = argsError(a);
          if (error !== null) throw new Error(error);
          return true;
        }),
    async (a) => {
      // yargs runs the handler even after a failed check when the parser's fail() does not throw (main.ts
      // records the message and returns the usage status): do nothing then.
      if (argsError(a) !== null) {
        if (onStatus) onStatus(EXIT.usage);
        else process.exitCode = EXIT.usage;
        return;
      }
      const status = await runReport(
        {
          files: fileArgs(a.files),
          output: a.output as string,
          title: a.title,
          only: a.only,
          from: a.from,
          to: a.to,
          closeWaitThreshold: a['close-wait-threshold'],
          finTimeout: a['fin-timeout'],
          maxConnections: a['max-connections'],
          examples: a.examples,
          limit: a.limit,
          top: a.top,
        },
        { stderr: process.stderr, env: process.env },
      );
      if (onStatus) onStatus(status);
      else process.exitCode = status;
    },
  );
}
