import { DEFAULT_ANALYZER_OPTIONS, type AnalyzerOptions } from '../analysis/analyzer.js';
import { analyzeCapturesInParallel } from '../analysis/parallel-run.js';
import { threadsFor } from '../analysis/worker-launch.js';
import { analyzeCaptures, type RunHooks, type RunResult } from '../analysis/run.js';
import { classifiedFilter, recordFilter } from '../analysis/record-filter.js';
import { ENDINGS, type Ending } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { renderAbnormalList } from '../output/abnormal-list.js';
import { createCsvWriter } from '../output/csv-output.js';
import { sanitize, shouldUseColor } from '../output/format.js';
import { ProgressLine } from '../output/progress.js';
import { createJsonWriter, createNdjsonWriter } from '../output/json-output.js';
import { renderLadder } from '../output/ladder.js';
import { renderServiceTable } from '../output/service-table.js';
import type { RecordSink, TextOut } from '../output/sink.js';
import { renderCaptureHeader, renderSummaryTable } from '../output/summary-table.js';
import { addToTableDigest, newTableDigest } from '../output/table-digest.js';
import { createZeekJsonWriter, createZeekTsvWriter } from '../output/zeek-output.js';
import { EXIT } from './exit-codes.js';

export const FORMATS = ['table', 'json', 'ndjson', 'csv', 'zeek', 'zeek-json'] as const;
export type Format = (typeof FORMATS)[number];

export interface AnalyzeArgs {
  files: string[];
  format: Format;
  only?: 'abnormal';
  ending?: Ending[];
  host?: string[];
  port?: number[];
  connection?: number;
  closeWaitThreshold: number;
  finTimeout: number;
  maxConnections: number;
  verbose: boolean;
  color: boolean | 'auto';
  ascii: boolean;
  limit: number;
  /** Analyse each file as a capture of its own instead of merging them into one (rotated files) capture. */
  each?: boolean;
  /** Worker threads for the summary tables (1: none); undefined: one per core when the captures are big. */
  jobs?: number;
}

export interface Streams {
  stdout: TextOut & { isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
}

export function analyzerOptions(a: Pick<AnalyzeArgs, 'closeWaitThreshold' | 'finTimeout' | 'maxConnections'>): AnalyzerOptions {
  return {
    classifier: { closeWaitThresholdS: a.closeWaitThreshold, finTimeoutS: a.finTimeout },
    table: { ...DEFAULT_ANALYZER_OPTIONS.table, maxConnections: a.maxConnections },
  };
}

/** Runs `teardown analyze`; resolves to the exit status. */
export async function runAnalyze(a: AnalyzeArgs, io: Streams): Promise<number> {
  if (!a.each || a.files.length < 2) return runOnce(a, io);
  // Separate captures: one report each, in the order given. The worst status wins.
  let status: number = EXIT.ok;
  for (let i = 0; i < a.files.length; i++) {
    const file = a.files[i]!;
    if (a.format === 'table' && a.connection === undefined) {
      const rule = a.ascii ? '==' : '━━';
      io.stdout.write(`${i > 0 ? '\n' : ''}${rule} ${sanitize(file)} ${rule}\n\n`);
    }
    status = Math.max(status, await runOnce({ ...a, files: [file] }, io));
  }
  return status;
}

async function runOnce(a: AnalyzeArgs, io: Streams): Promise<number> {
  const color = shouldUseColor(a.color, io.stdout.isTTY, io.env);
  const width = Math.max(60, Math.min(io.stdout.columns ?? 100, 160));
  const keep = recordFilter(a);

  let sink: RecordSink | null = null;
  if (a.connection === undefined) {
    if (a.format === 'json') sink = createJsonWriter(io.stdout);
    else if (a.format === 'ndjson') sink = createNdjsonWriter(io.stdout);
    else if (a.format === 'csv') sink = createCsvWriter(io.stdout);
    else if (a.format === 'zeek') sink = createZeekTsvWriter(io.stdout);
    else if (a.format === 'zeek-json') sink = createZeekJsonWriter(io.stdout);
  }
  let digest = newTableDigest(a.limit);
  const keepClassified = classifiedFilter(a);
  let wanted: ConnectionRecord | null = null;

  // A progress line for long runs, only where a person watches it (stderr a terminal).
  const progress = io.stderr.isTTY ? new ProgressLine(io.stderr) : null;
  // Only the JSON outputs and the ladder need each record's packets and state lists.
  const detail = a.connection !== undefined || a.format === 'json' || a.format === 'ndjson' ? 'full' : 'summary';
  const onProgress = progress ? (read: number, total: number | null, frames: number) => progress.update(read, total, frames) : undefined;
  // The summary tables only count: their connections are handed over unbuilt, and only the few kept for the
  // abnormal list (or those a --host filter must read) become records.
  const counting = a.connection === undefined && sink === null;
  let hooks: RunHooks;
  if (sink !== null) {
    const out = sink;
    hooks = { onRecord: (r) => (keep(r) ? out.write(r) : true), drain: () => out.drain(), onProgress };
  } else if (a.connection !== undefined) {
    // One ladder: only the connection asked for becomes a record.
    const id = a.connection;
    hooks = {
      onClassified: (c) => {
        if (c.id === id) wanted = c.record();
      },
      onProgress,
    };
  } else {
    hooks = { onClassified: (c) => addToTableDigest(digest, c, keepClassified), onProgress };
  }
  const opts = analyzerOptions(a);
  // Only conn.log, CSV and the JSON outputs show Zeek's view: the others save a tenth of the time without it.
  if (sink === null) opts.table = { ...opts.table, zeek: false };
  const jobs = counting ? threadsFor(a.files, a.jobs) : 1;
  let result: RunResult;
  if (jobs > 1) {
    const par = await analyzeCapturesInParallel(a.files, { ...opts, detail }, { jobs, filter: a, abnormalLimit: a.limit, onProgress });
    result = par;
    digest = par.digest;
  } else {
    result = await analyzeCaptures(a.files, { ...opts, detail }, hooks);
  }
  progress?.done();

  for (const e of result.errors) io.stderr.write(`teardown: ${e.message}\n`);
  if (a.verbose) {
    for (const [reason, p] of result.problems) {
      io.stderr.write(`teardown: ${p.count} frame${p.count > 1 ? 's' : ''} ${reason} (frames ${p.frames.join(', ')}${p.count > p.frames.length ? ', …' : ''})\n`);
    }
  }

  if (a.connection !== undefined) {
    if (wanted === null) {
      io.stderr.write(`teardown: no connection with id ${a.connection} (ids run from 1 to ${result.summary.connections})\n`);
      return EXIT.usage;
    }
    io.stdout.write(`${renderLadder(wanted, { width, color, ascii: a.ascii })}\n`);
  } else if (sink) {
    await sink.finish(result.summary);
  } else {
    const out: string[] = [];
    out.push(renderCaptureHeader(result.summary, { color, ascii: a.ascii, width }));
    out.push('', renderSummaryTable(digest.endings, { color, ascii: a.ascii }));
    if (digest.services.services.size > 0) out.push('', renderServiceTable(digest.services, { color, ascii: a.ascii }));
    if (digest.abnormal.total > 0) out.push('', renderAbnormalList(digest.abnormal, { color, ascii: a.ascii, width }));
    io.stdout.write(`${out.join('\n')}\n`);
  }
  if (result.errors.length > 0) return EXIT.damaged;
  return EXIT.ok;
}

export function parseEndings(values: string[] | undefined): Ending[] | undefined {
  if (values === undefined) return undefined;
  const out: Ending[] = [];
  for (const v of values.flatMap((x) => String(x).split(','))) {
    if (!(ENDINGS as readonly string[]).includes(v)) throw new Error(`unknown ending "${v}" (one of ${ENDINGS.join(', ')})`);
    out.push(v as Ending);
  }
  return out;
}
