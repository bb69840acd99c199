/**
 * The abnormal connections (every ending isAbnormal() names), earliest first, each with its verdict, the key
 * durations, what the applications saw, the evidence frames and the explanation, wrapped to the terminal.
 *
 * The list is bounded: a collector keeps only the `limit` earliest records while records stream by, and counts
 * the rest for the "… K more" line.
 */
import type { ClassifiedConnection } from '../classify/classified.js';
import { isAbnormal } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { colors, formatDuration, formatEndpoint, glyphs, plural, sanitize, toAscii, wrapText } from './format.js';

export const DEFAULT_ABNORMAL_LIMIT = 50;

/**
 * Orders ISO 8601 instants as time orders them, whatever the number of fraction digits (files of different
 * resolutions make "…:05.1Z" and "…:05.123456Z"; plain string order gets those wrong).
 */
export function compareIso(a: string, b: string): number {
  const [aMain, aFrac] = splitIso(a);
  const [bMain, bFrac] = splitIso(b);
  if (aMain !== bMain) return aMain < bMain ? -1 : 1;
  return aFrac < bFrac ? -1 : aFrac > bFrac ? 1 : 0;
}

function splitIso(s: string): [string, string] {
  const z = s.endsWith('Z') ? s.slice(0, -1) : s;
  const dot = z.indexOf('.');
  if (dot < 0) return [z, '000000000'];
  return [z.slice(0, dot), z.slice(dot + 1).padEnd(9, '0')];
}

/** Start time, then id: a total order, so the list is the same on every run. */
export function compareByStart(a: ConnectionRecord, b: ConnectionRecord): number {
  return compareIso(a.start, b.start) || a.id - b.id;
}

/** Keeps the `limit` earliest abnormal records seen so far, sorted, and counts all of them. */
export interface AbnormalCollector {
  readonly limit: number;
  kept: ConnectionRecord[];
  total: number;
  /** The whole seconds of the last kept record's start, remembered with that record (see addClassifiedToAbnormal). */
  cutoff?: { record: ConnectionRecord; sec: number };
}

export function newAbnormalCollector(limit = DEFAULT_ABNORMAL_LIMIT): AbnormalCollector {
  return { limit: Math.max(0, Math.floor(limit)), kept: [], total: 0 };
}

/** Offers a record: ignored unless abnormal; kept when it is among the `limit` earliest. */
export function addToAbnormal(col: AbnormalCollector, r: ConnectionRecord): void {
  if (!isAbnormal(r.ending)) return;
  col.total++;
  if (earlierThanKept(col, r.start, r.id)) insertKept(col, r);
}

/** addToAbnormal for a classified connection: its record is built only when it is kept. */
export function addClassifiedToAbnormal(col: AbnormalCollector, c: ClassifiedConnection): void {
  if (!isAbnormal(c.ending)) return;
  col.total++;
  // Once the list is full, most connections start seconds after its last entry: tell so from the numbers, without
  // writing the start time as text.
  const kept = col.kept;
  if (kept.length >= col.limit && kept.length > 0) {
    const last = kept[kept.length - 1]!;
    if (col.cutoff?.record !== last) col.cutoff = { record: last, sec: wholeSecondsOf(last.start) };
    if (c.conn.firstSec > col.cutoff.sec) return;
  }
  if (earlierThanKept(col, c.start(), c.id)) insertKept(col, c.record());
}

/** The whole epoch seconds of a start as records write it (ISO 8601, or "@" and seconds); NaN when unreadable. */
function wholeSecondsOf(start: string): number {
  if (start.startsWith('@')) return Math.floor(Number(start.slice(1)));
  return Date.parse(`${start.slice(0, 19)}Z`) / 1000;
}

/** Would a record with this start and id be among the `limit` earliest? */
function earlierThanKept(col: AbnormalCollector, start: string, id: number): boolean {
  const kept = col.kept;
  if (kept.length < col.limit) return true;
  if (kept.length === 0) return false;
  const last = kept[kept.length - 1]!;
  return (compareIso(start, last.start) || id - last.id) < 0;
}

function insertKept(col: AbnormalCollector, r: ConnectionRecord): void {
  const kept = col.kept;
  // Binary search for the insertion point: records mostly arrive in order, so this is cheap.
  let lo = 0;
  let hi = kept.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareByStart(kept[mid]!, r) <= 0) lo = mid + 1;
    else hi = mid;
  }
  kept.splice(lo, 0, r);
  if (kept.length > col.limit) kept.pop();
}

export function collectAbnormal(records: Iterable<ConnectionRecord>, limit = DEFAULT_ABNORMAL_LIMIT): AbnormalCollector {
  const col = newAbnormalCollector(limit);
  for (const r of records) addToAbnormal(col, r);
  return col;
}

export interface AbnormalListOptions {
  /** Entries shown when records are passed directly (default 50); a collector brings its own limit. */
  limit?: number;
  /** Terminal width to wrap to (default 100). */
  width?: number;
  ascii?: boolean;
  color?: boolean;
}

const INDENT = '     ';

function isCollector(x: AbnormalCollector | Iterable<ConnectionRecord>): x is AbnormalCollector {
  return !(Symbol.iterator in x);
}

/** The text of one entry, as plain lines (colour is added by the caller). */
function entryLines(r: ConnectionRecord, width: number, arrow: string, dash: string): { head: string[]; body: string[] } {
  const verdict = r.cause === null ? r.ending : `${r.ending} (${r.cause})`;
  const conf = r.confidence === 'high' || r.confidenceReasons.length === 0
    ? `confidence ${r.confidence}`
    : `confidence ${r.confidence} (${r.confidenceReasons.join('; ')})`;
  const headText = `#${r.id}  ${formatEndpoint(r.client)} ${arrow} ${formatEndpoint(r.server)}  ${verdict}  ` +
    `closer ${r.closer ?? dash}  ${conf}`;
  // The first line uses the full width; continuation lines are indented like the body.
  const [first = '', ...rest] = wrapText(headText, width);
  const head = [first, ...(rest.length > 0 ? wrapText(rest.join(' '), width - INDENT.length).map((l) => INDENT + l) : [])];

  const facts = [`started ${r.start}`, `lasted ${formatDuration(r.durationMs)}`];
  if (r.closeWaitMs !== null) facts.push(`close-wait ${formatDuration(r.closeWaitMs)}`);
  if (r.finWait2Ms !== null) facts.push(`fin-wait-2 ${formatDuration(r.finWait2Ms)}`);
  if (r.rstReason !== null) facts.push(`reset reason ${r.rstReason}`);
  if (r.incarnation > 1) facts.push(`incarnation ${r.incarnation}`);
  if (r.tunnel !== '') facts.push(`tunnel ${r.tunnel}`);
  const texts = [
    facts.join(', '),
    `app sees: client ${r.appView.client}, server ${r.appView.server}`,
    r.evidence.length > 0 ? `evidence: frame${r.evidence.length === 1 ? '' : 's'} ${r.evidence.join(' ')}` : 'evidence: none',
    r.explanation,
  ];
  const body: string[] = [];
  for (const t of texts) {
    for (const l of wrapText(t, width - INDENT.length)) body.push(l === '' ? '' : INDENT + l);
  }
  return { head, body };
}

/**
 * The list, earliest start first, at most `limit` entries, then "… K more; use --format json" when some were
 * left out. Takes a collector filled while records streamed by, or the records. No trailing newline.
 */
export function renderAbnormalList(
  input: AbnormalCollector | Iterable<ConnectionRecord>,
  opts: AbnormalListOptions = {},
): string {
  const col = isCollector(input) ? input : collectAbnormal(input, opts.limit ?? DEFAULT_ABNORMAL_LIMIT);
  const g = glyphs(opts.ascii);
  const c = colors(opts.color);
  const width = Math.max(40, opts.width ?? 100);
  if (col.total === 0) return 'No abnormal connections.';

  const out: string[] = [];
  const title = col.total > col.kept.length
    ? `Abnormal connections: ${col.total} (the first ${col.kept.length} by start time)`
    : `Abnormal connections: ${col.total}`;
  out.push(c.bold(title));
  for (const r of col.kept) {
    out.push('');
    const { head, body } = entryLines(r, width, g.arrow, g.dash);
    const ending = sanitize(r.ending);
    head.forEach((l, i) => {
      let line = l;
      if (i === 0) line = line.replace(`#${r.id}`, c.bold(`#${r.id}`));
      out.push(line.replace(ending, c.red(ending)));
    });
    for (const l of body) out.push(l);
  }
  const more = col.total - col.kept.length;
  if (more > 0) {
    out.push('');
    out.push(`${g.ellipsis} ${plural(more, 'more abnormal connection')}; use --format json for all of them`);
  }
  const text = out.join('\n');
  return opts.ascii === true ? toAscii(text) : text;
}
