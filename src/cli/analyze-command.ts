import { DEFAULT_ANALYZER_OPTIONS, type AnalyzerOptions } from '../analysis/analyzer.js';
import { analyzeCaptures, type RunHooks } from '../analysis/run.js';
import type { ClassifiedConnection } from '../classify/classified.js';
import { ENDINGS, isAbnormal, type Ending } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { addClassifiedToAbnormal, newAbnormalCollector, renderAbnormalList } from '../output/abnormal-list.js';
import { createCsvWriter } from '../output/csv-output.js';
import { shouldUseColor } from '../output/format.js';
import { ProgressLine } from '../output/progress.js';
import { createJsonWriter, createNdjsonWriter } from '../output/json-output.js';
import { renderLadder } from '../output/ladder.js';
import { addClassifiedToServiceTally, newServiceTally, renderServiceTable } from '../output/service-table.js';
import type { RecordSink, TextOut } from '../output/sink.js';
import { addToEndingTally, newEndingTally, renderCaptureHeader, renderSummaryTable } from '../output/summary-table.js';
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
}

export interface Streams {
  stdout: TextOut & { isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
}

/** Does the record pass the user's filters (--only, --ending, --host, --port)? */
export function recordFilter(a: Pick<AnalyzeArgs, 'only' | 'ending' | 'host' | 'port'>): (r: ConnectionRecord) => boolean {
  const endings = a.ending && a.ending.length > 0 ? new Set(a.ending) : null;
  const hosts = a.host && a.host.length > 0 ? new Set(a.host.map((h) => h.replace(/^\[|\]$/g, '').toLowerCase())) : null;
  const ports = a.port && a.port.length > 0 ? new Set(a.port) : null;
  return (r) => {
    if (a.only === 'abnormal' && !isAbnormal(r.ending)) return false;
    if (endings && !endings.has(r.ending)) return false;
    if (hosts && !hosts.has(r.client.ip) && !hosts.has(r.server.ip)) return false;
    if (ports && !ports.has(r.client.port) && !ports.has(r.server.port)) return false;
    return true;
  };
}

/**
 * recordFilter for a classified connection: the ending filters read the verdict, the port filter the connection;
 * only a --host filter needs the record (addresses as text).
 */
export function classifiedFilter(
  a: Pick<AnalyzeArgs, 'only' | 'ending' | 'host' | 'port'>,
  keep: (r: ConnectionRecord) => boolean = recordFilter(a),
): (c: ClassifiedConnection) => boolean {
  if (a.host && a.host.length > 0) return (c) => keep(c.record());
  const endings = a.ending && a.ending.length > 0 ? new Set(a.ending) : null;
  const ports = a.port && a.port.length > 0 ? new Set(a.port) : null;
  if (a.only !== 'abnormal' && endings === null && ports === null) return () => true;
  return (c) => {
    if (a.only === 'abnormal' && !isAbnormal(c.ending)) return false;
    if (endings && !endings.has(c.ending)) return false;
    if (ports && !ports.has(c.conn.clientPort) && !ports.has(c.conn.serverPort)) return false;
    return true;
  };
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
    if (a.format === 'table' && a.connection === undefined) io.stdout.write(`${i > 0 ? '\n' : ''}━━ ${file} ━━\n\n`);
    status = Math.max(status, await runOnce({ ...a, files: [file] }, io));
  }
  return status;
}

async function runOnce(a: AnalyzeArgs, io: Streams): Promise<number> {
  const color = shouldUseColor(a.color, io.stdout.isTTY, io.env);
  const width = Math.max(60, Math.min(io.stdout.columns ?? 100, 160));
  const keep = recordFilter(a);
  const keepClassified = classifiedFilter(a, keep);

  let sink: RecordSink | null = null;
  if (a.connection === undefined) {
    if (a.format === 'json') sink = createJsonWriter(io.stdout);
    else if (a.format === 'ndjson') sink = createNdjsonWriter(io.stdout);
    else if (a.format === 'csv') sink = createCsvWriter(io.stdout);
    else if (a.format === 'zeek') sink = createZeekTsvWriter(io.stdout);
    else if (a.format === 'zeek-json') sink = createZeekJsonWriter(io.stdout);
  }
  const endings = newEndingTally();
  const services = newServiceTally();
  const abnormal = newAbnormalCollector(a.limit);
  let wanted: ConnectionRecord | null = null;

  // A progress line for long runs, only where a person watches it (stderr a terminal).
  const progress = io.stderr.isTTY ? new ProgressLine(io.stderr) : null;
  // Only the JSON outputs and the ladder need each record's packets and state lists.
  const detail = a.connection !== undefined || a.format === 'json' || a.format === 'ndjson' ? 'full' : 'summary';
  const onProgress = progress ? (read: number, total: number | null, frames: number) => progress.update(read, total, frames) : undefined;
  // The summary tables only count: their connections are handed over unbuilt, and only the few kept for the
  // abnormal list (or those a --host filter must read) become records.
  const counting = a.connection === undefined && sink === null;
  const hooks: RunHooks = counting
    ? {
      onClassified: (c) => {
        addToEndingTally(endings, c);
        if (!keepClassified(c)) return true;
        addClassifiedToServiceTally(services, c);
        addClassifiedToAbnormal(abnormal, c);
        return true;
      },
      onProgress,
    }
    : {
      onRecord: (r) => {
        if (a.connection !== undefined) {
          if (r.id === a.connection) wanted = r;
          return true;
        }
        addToEndingTally(endings, r);
        if (!keep(r)) return true;
        return sink!.write(r);
      },
      drain: () => (sink ? sink.drain() : Promise.resolve()),
      onProgress,
    };
  const opts = analyzerOptions(a);
  // Nothing the tables show reads Zeek's view: not following it saves a tenth of the time.
  if (counting) opts.table = { ...opts.table, zeek: false };
  const result = await analyzeCaptures(a.files, { ...opts, detail }, hooks);
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
    out.push('', renderSummaryTable(endings, { color, ascii: a.ascii }));
    if (services.services.size > 0) out.push('', renderServiceTable(services, { color, ascii: a.ascii }));
    if (abnormal.total > 0) out.push('', renderAbnormalList(abnormal, { color, ascii: a.ascii, width }));
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
