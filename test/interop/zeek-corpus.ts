/**
 * Zeek's reference answers in the shared corpus (../shared/corpus/zeek, MANIFEST.md) and the parsing of conn.log
 * text, ours and Zeek's, for the interop tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { DEFAULT_CLASSIFIER_OPTIONS } from '../../src/classify/classifier.js';
import { runAnalyze, type AnalyzeArgs, type Format } from '../../src/cli/analyze-command.js';
import { DEFAULT_TABLE_OPTIONS } from '../../src/conn/connection-table.js';
import { CORPUS } from '../helpers/paths.js';

export const ZEEK_DIR = path.join(CORPUS, 'zeek');

/** One row of a conn.log (or of a cut of one): only what the comparison needs. Missing columns are null. */
export interface ConnRow {
  origH: string | null;
  origP: number | null;
  respH: string | null;
  respP: number | null;
  proto: string | null;
  connState: string | null;
  history: string | null;
  /** Every column of the row by name, as written. */
  values: Record<string, string>;
}

export type BaselineKind = 'conn.log' | 'conn-cut.log' | 'history_conn_state.out';

export interface Baseline {
  /** The reference file's name in the corpus. */
  file: string;
  /** The capture it answers for. */
  pcap: string;
  kind: BaselineKind;
  rows: ConnRow[];
}

function unset(v: string | undefined): string | null {
  return v === undefined || v === '-' ? null : v;
}

function rowOf(names: string[], cells: string[]): ConnRow {
  const get = (n: string): string | null => {
    const i = names.indexOf(n);
    return i < 0 ? null : unset(cells[i]);
  };
  const port = (n: string): number | null => {
    const v = get(n);
    return v === null ? null : Number(v);
  };
  const hist = get('history');
  const values: Record<string, string> = {};
  names.forEach((n, i) => {
    values[n] = cells[i] ?? '';
  });
  return {
    origH: get('id.orig_h'),
    origP: port('id.orig_p'),
    respH: get('id.resp_h'),
    respP: port('id.resp_p'),
    proto: get('proto'),
    connState: get('conn_state'),
    history: hist === '(empty)' ? '' : hist,
    values,
  };
}

/** A Zeek TSV log with its meta lines (`#fields`), ours or Zeek's. */
export function parseZeekTsv(text: string): { fields: string[]; types: string[]; meta: Map<string, string>; rows: ConnRow[]; cells: string[][] } {
  let fields: string[] = [];
  let types: string[] = [];
  const meta = new Map<string, string>();
  const rows: ConnRow[] = [];
  const cells: string[][] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      // "#separator \x09" uses a space; every other meta line the separator.
      const m = /^#(\w+)[\t ](.*)$/.exec(line);
      if (m === null) continue;
      meta.set(m[1]!, m[2]!);
      if (m[1] === 'fields') fields = m[2]!.split('\t');
      if (m[1] === 'types') types = m[2]!.split('\t');
      continue;
    }
    const c = line.split('\t');
    cells.push(c);
    rows.push(rowOf(fields, c));
  }
  return { fields, types, meta, rows, cells };
}

/** zeek-cut output as btest keeps it: a `###` btest line, a line of column names, rows. */
function parseCut(text: string): ConnRow[] {
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('###'));
  const names = lines[0]!.split('\t');
  return lines.slice(1).map((l) => rowOf(names, l.split('\t')));
}

/** `c$history, c$conn$conn_state` printed by the test script: one connection, no tuple. */
function parseOut(text: string): ConnRow[] {
  const [history, state] = text.trim().split(/,\s*/);
  return [{ origH: null, origP: null, respH: null, respP: null, proto: 'tcp', connState: state ?? null, history: history ?? null, values: {} }];
}

/**
 * Every reference answer that says something about TCP connections. `localhost-bad-chksum.pcap` has two:
 * the conn.log of the run that ignores its bad checksums is the one to compare with, because we never drop a
 * packet for its checksum; the default-validation log answers for a policy we do not have.
 */
export function zeekBaselines(): { baselines: Baseline[]; skipped: string[] } {
  const baselines: Baseline[] = [];
  const skipped: string[] = [];
  for (const file of fs.readdirSync(ZEEK_DIR).sort()) {
    const m = /^(.*\.(?:pcap|pcapng))\.(conn\.log|conn-cut\.log|history_conn_state\.out|conn-default-checksum-validation\.log)$/.exec(file);
    if (m === null) continue;
    const [, pcap, suffix] = m;
    if (suffix === 'conn-default-checksum-validation.log') {
      skipped.push(file);
      continue;
    }
    const text = fs.readFileSync(path.join(ZEEK_DIR, file), 'utf8');
    const kind = suffix as BaselineKind;
    let rows = kind === 'conn.log' ? parseZeekTsv(text).rows : kind === 'conn-cut.log' ? parseCut(text) : parseOut(text);
    // Cut logs have no proto column: their captures hold TCP connections only (MANIFEST.md).
    rows = rows.filter((r) => r.proto === null || r.proto === 'tcp');
    baselines.push({ file, pcap: pcap!, kind, rows });
  }
  return { baselines, skipped };
}

export class TextCollector extends Writable {
  readonly chunks: string[] = [];
  constructor() {
    super({
      decodeStrings: false,
      write: (chunk: string, _enc, cb) => {
        this.chunks.push(String(chunk));
        cb();
      },
    });
  }
  text(): string {
    return this.chunks.join('');
  }
}

/** Runs `teardown analyze FILE --format F` in-process and returns what it wrote to stdout. */
export async function analyzeTo(file: string, format: Format): Promise<string> {
  const out = new TextCollector();
  const errors: string[] = [];
  const args: AnalyzeArgs = {
    files: [file],
    format,
    closeWaitThreshold: DEFAULT_CLASSIFIER_OPTIONS.closeWaitThresholdS,
    finTimeout: DEFAULT_CLASSIFIER_OPTIONS.finTimeoutS,
    maxConnections: DEFAULT_TABLE_OPTIONS.maxConnections,
    verbose: false,
    color: false,
    ascii: true,
    limit: 50,
  };
  await runAnalyze(args, { stdout: out, stderr: { write: (s: string) => errors.push(s) }, env: {} });
  return out.text();
}
