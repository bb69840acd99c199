/**
 * What an incident-review report shows, aggregated one record at a time into a bounded model: the memory it
 * takes follows the options (examples kept, table rows, services tracked), never the number of connections, so
 * a capture of millions of connections makes a report as readable, and as cheap to build, as one of thirty.
 *
 *   counts per ending × closer        → the chart "endings at a glance"
 *   time buckets per ending           → the timeline (adaptive width: at most MAX_STORED_BUCKETS at any time)
 *   per service and per host counts   → "most affected" (exact up to maxTracked keys, then pruned and marked)
 *   up to K examples per abnormal ending, chosen for different causes and closers → the ladder diagrams
 *   the N earliest abnormal connections as table rows, and a count of the rest → the table with display filters
 *
 * The model is plain data; the HTML and Markdown renderers only read it.
 */
import { ENDINGS, isAbnormal, type AppView, type Cause, type Closer, type Ending, type RstReason } from '../classify/labels.js';
import type { ConnectionRecord, Endpoint } from '../classify/record.js';
import { compareIso } from '../output/abnormal-list.js';
import { formatEndpoint } from '../output/format.js';
import { addToEndingTally, newEndingTally, type EndingTally } from '../output/summary-table.js';
import { frameRange } from './display-filter.js';
import { isoToMs } from './time-window.js';

export interface ReportModelOptions {
  /** Leave out the normal endings (graceful-fin, half-closed, open), as `--only abnormal`. */
  onlyAbnormal?: boolean;
  /** Keep the connections that ended in [fromMs, toMs] (epoch milliseconds); null for no bound. */
  fromMs?: number | null;
  toMs?: number | null;
  /** Example connections kept per abnormal ending for ladder diagrams (default 3). */
  examplesPerEnding?: number;
  /** Rows of the abnormal-connections table (default 200); the rest are counted. */
  tableLimit?: number;
  /** Services and hosts counted exactly (default 10,000); beyond it the least affected are dropped. */
  maxTracked?: number;
}

export const DEFAULT_EXAMPLES_PER_ENDING = 3;
export const DEFAULT_TABLE_LIMIT = 200;
export const DEFAULT_MAX_TRACKED = 10_000;
/** Evidence frames kept per table row (the record's evidence list is short already; this bounds a hostile one). */
const EVIDENCE_PER_ROW = 12;

// ------------------------------------------------------------------------------------------------ timeline

/**
 * Bucket widths in milliseconds. Each divides the next and all divide a day, so buckets anchored at a UTC
 * midnight start at round clock times; merging buckets when the span grows never splits one.
 */
export const BUCKET_WIDTHS_MS: readonly number[] = [
  1, 2, 10, 20, 100, 200, 1000, 2000, 10_000, 20_000, 60_000, 120_000, 600_000, 1_200_000, 3_600_000, 7_200_000,
  21_600_000, 43_200_000, 86_400_000,
];

/** Buckets held at most while records stream in; the renderer merges them further to fit its width. */
export const MAX_STORED_BUCKETS = 600;

export interface Timeline {
  /** UTC midnight of the first instant seen: bucket i covers [anchorMs + i·widthMs, anchorMs + (i+1)·widthMs). */
  anchorMs: number;
  widthMs: number;
  /** Counts per ending (ENDINGS order) per bucket index. */
  buckets: Map<number, number[]>;
  minIndex: number;
  maxIndex: number;
}

/** The width that follows `w` in BUCKET_WIDTHS_MS (doubling past the end of the list). */
export function nextBucketWidth(w: number): number {
  for (const x of BUCKET_WIDTHS_MS) if (x > w) return x;
  return w * 2;
}

function newTimeline(): Timeline {
  return { anchorMs: Number.NaN, widthMs: BUCKET_WIDTHS_MS[0]!, buckets: new Map(), minIndex: 0, maxIndex: -1 };
}

function coarsen(t: Timeline): void {
  const next = nextBucketWidth(t.widthMs);
  const f = next / t.widthMs;
  const merged = new Map<number, number[]>();
  for (const [i, counts] of t.buckets) {
    const j = Math.floor(i / f);
    const into = merged.get(j);
    if (into === undefined) merged.set(j, counts);
    else for (let k = 0; k < counts.length; k++) into[k]! += counts[k]!;
  }
  t.buckets = merged;
  t.widthMs = next;
  t.minIndex = Math.floor(t.minIndex / f);
  t.maxIndex = Math.floor(t.maxIndex / f);
}

function addToTimeline(t: Timeline, ms: number, endingIndex: number): void {
  if (!Number.isFinite(ms)) return;
  if (Number.isNaN(t.anchorMs)) t.anchorMs = Math.floor(ms / 86_400_000) * 86_400_000;
  let i = Math.floor((ms - t.anchorMs) / t.widthMs);
  if (t.maxIndex < t.minIndex) {
    t.minIndex = i;
    t.maxIndex = i;
  } else {
    t.minIndex = Math.min(t.minIndex, i);
    t.maxIndex = Math.max(t.maxIndex, i);
  }
  // Bounded: each pass multiplies the width by at least 2; a span of 10^13 ms needs fewer than 50 passes.
  for (let guard = 0; t.maxIndex - t.minIndex + 1 > MAX_STORED_BUCKETS && guard < 64; guard++) coarsen(t);
  i = Math.floor((ms - t.anchorMs) / t.widthMs);
  let counts = t.buckets.get(i);
  if (counts === undefined) {
    counts = new Array<number>(ENDINGS.length).fill(0);
    t.buckets.set(i, counts);
  }
  counts[endingIndex]!++;
}

/** The timeline as the renderers draw it: buckets of one width spanning [fromMs, toMs], counts per ending. */
export interface TimelineView {
  fromMs: number;
  toMs: number;
  widthMs: number;
  /** Start of each bucket (epoch ms). */
  starts: number[];
  /** counts[bucket][ENDINGS index]. */
  counts: number[][];
}

/**
 * Merges the stored buckets into at most `maxBars` buckets spanning [fromMs, toMs] (the capture, or the window).
 * Counts outside the span (none, normally) go to the first or the last bucket.
 */
export function timelineView(t: Timeline, fromMs: number, toMs: number, maxBars: number): TimelineView | null {
  if (t.buckets.size === 0 || !Number.isFinite(fromMs) || !Number.isFinite(toMs)) return null;
  const lo = Math.min(fromMs, toMs);
  const hi = Math.max(fromMs, toMs);
  let w = t.widthMs;
  const first = (width: number): number => Math.floor((lo - t.anchorMs) / width);
  const last = (width: number): number => Math.floor((hi - t.anchorMs) / width);
  for (let guard = 0; last(w) - first(w) + 1 > Math.max(1, maxBars) && guard < 64; guard++) w = nextBucketWidth(w);
  const f = w / t.widthMs;
  const a = first(w);
  const n = last(w) - a + 1;
  const counts: number[][] = [];
  const starts: number[] = [];
  for (let j = 0; j < n; j++) {
    counts.push(new Array<number>(ENDINGS.length).fill(0));
    starts.push(t.anchorMs + (a + j) * w);
  }
  for (const [i, c] of t.buckets) {
    const j = Math.min(n - 1, Math.max(0, Math.floor(i / f) - a));
    const into = counts[j]!;
    for (let k = 0; k < c.length; k++) into[k]! += c[k]!;
  }
  return { fromMs: lo, toMs: hi, widthMs: w, starts, counts };
}

// ------------------------------------------------------------------------------------------------ tallies

export interface TallyEntry {
  /** "192.0.2.2:9999" for a service, "192.0.2.2" for a host. */
  key: string;
  total: number;
  abnormal: number;
  byEnding: Partial<Record<Ending, number>>;
  /** Abnormal connections this service's server side (or this host) closed or reset. */
  abnormalClosedHere: number;
}

/** Counts per key, exact until more than `max` keys are seen; then the least affected half is dropped. */
export interface BoundedTally {
  readonly max: number;
  entries: Map<string, TallyEntry>;
  /** Keys dropped so far; when > 0, the counts of the keys kept may miss connections (the table says so). */
  dropped: number;
}

function newTally(max: number): BoundedTally {
  return { max: Math.max(2, Math.floor(max)), entries: new Map(), dropped: 0 };
}

/** Most abnormal first, then most connections, then by key: a total order. */
export function compareTally(a: TallyEntry, b: TallyEntry): number {
  return b.abnormal - a.abnormal || b.total - a.total || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function bumpTally(t: BoundedTally, key: string, ending: Ending, closedHere: boolean): void {
  let e = t.entries.get(key);
  if (e === undefined) {
    if (t.entries.size >= t.max) prune(t);
    e = { key, total: 0, abnormal: 0, byEnding: {}, abnormalClosedHere: 0 };
    t.entries.set(key, e);
  }
  e.total++;
  e.byEnding[ending] = (e.byEnding[ending] ?? 0) + 1;
  if (isAbnormal(ending)) {
    e.abnormal++;
    if (closedHere) e.abnormalClosedHere++;
  }
}

function prune(t: BoundedTally): void {
  const sorted = [...t.entries.values()].sort(compareTally);
  const keep = Math.floor(t.max / 2);
  for (const e of sorted.slice(keep)) {
    t.entries.delete(e.key);
    t.dropped++;
  }
}

export function rankTally(t: BoundedTally, limit: number): TallyEntry[] {
  return [...t.entries.values()].sort(compareTally).slice(0, Math.max(0, limit));
}

// ------------------------------------------------------------------------------------------------ per ending

export interface EndingFacts {
  count: number;
  byCause: Partial<Record<Cause, number>>;
  /** Counts of what each side's application saw. */
  appView: { client: Partial<Record<AppView, number>>; server: Partial<Record<AppView, number>> };
  byRstReason: Partial<Record<RstReason, number>>;
  /** First and last end time (epoch ms) of the connections with this ending. */
  firstEndMs: number;
  lastEndMs: number;
  /** Longest CLOSE_WAIT and FIN_WAIT_2 (ms), or null when none had one. */
  maxCloseWaitMs: number | null;
  maxFinWait2Ms: number | null;
}

function newEndingFacts(): EndingFacts {
  return {
    count: 0,
    byCause: {},
    appView: { client: {}, server: {} },
    byRstReason: {},
    firstEndMs: Number.POSITIVE_INFINITY,
    lastEndMs: Number.NEGATIVE_INFINITY,
    maxCloseWaitMs: null,
    maxFinWait2Ms: null,
  };
}

function inc<K extends string>(m: Partial<Record<K, number>>, k: K): void {
  m[k] = (m[k] ?? 0) + 1;
}

// ------------------------------------------------------------------------------------------------ table rows

/** One row of the abnormal-connections table: the few facts it shows, not the whole record. */
export interface AbnormalRow {
  id: number;
  client: Endpoint;
  server: Endpoint;
  start: string;
  end: string;
  durationMs: number;
  ending: Ending;
  cause: Cause | null;
  closer: Closer | null;
  rstReason: RstReason | null;
  appView: { client: AppView; server: AppView };
  confidence: ConnectionRecord['confidence'];
  incarnation: number;
  tunnel: string;
  firstFrame: number | null;
  lastFrame: number | null;
  evidence: number[];
  /** Wireshark display filter for exactly this connection's packets. */
  filter: string;
}

export function toAbnormalRow(r: ConnectionRecord): AbnormalRow {
  const range = frameRange(r);
  return {
    id: r.id,
    client: { ip: r.client.ip, port: r.client.port },
    server: { ip: r.server.ip, port: r.server.port },
    start: r.start,
    end: r.end,
    durationMs: r.durationMs,
    ending: r.ending,
    cause: r.cause,
    closer: r.closer,
    rstReason: r.rstReason,
    appView: { client: r.appView.client, server: r.appView.server },
    confidence: r.confidence,
    incarnation: r.incarnation,
    tunnel: r.tunnel,
    firstFrame: range?.first ?? null,
    lastFrame: range?.last ?? null,
    evidence: r.evidence.slice(0, EVIDENCE_PER_ROW),
    filter: r.displayFilter,
  };
}

function compareRows(a: AbnormalRow, b: AbnormalRow): number {
  return compareIso(a.start, b.start) || a.id - b.id;
}

// ------------------------------------------------------------------------------------------------ the model

export interface ReportModel {
  readonly options: Required<ReportModelOptions>;
  /** Records the run produced, before the window and --only. */
  seen: number;
  /** Left out: ended outside the window; normal endings under --only abnormal. */
  outsideWindow: number;
  normalLeftOut: number;
  /** Connections in the report, and how many of them ended abnormally. */
  total: number;
  abnormal: number;
  endings: EndingTally;
  facts: Map<Ending, EndingFacts>;
  timeline: Timeline;
  services: BoundedTally;
  hosts: BoundedTally;
  /** Up to examplesPerEnding records per abnormal ending, for ladders. */
  examples: Map<Ending, ConnectionRecord[]>;
  /** The earliest `tableLimit` abnormal connections, by start time; `abnormal - rows.length` were left out. */
  rows: AbnormalRow[];
  /** First start and last end (epoch ms) among the connections in the report. */
  firstStartMs: number;
  lastEndMs: number;
}

export function newReportModel(opts: ReportModelOptions = {}): ReportModel {
  const options: Required<ReportModelOptions> = {
    onlyAbnormal: opts.onlyAbnormal ?? false,
    fromMs: opts.fromMs ?? null,
    toMs: opts.toMs ?? null,
    examplesPerEnding: Math.max(0, Math.floor(opts.examplesPerEnding ?? DEFAULT_EXAMPLES_PER_ENDING)),
    tableLimit: Math.max(0, Math.floor(opts.tableLimit ?? DEFAULT_TABLE_LIMIT)),
    maxTracked: Math.max(2, Math.floor(opts.maxTracked ?? DEFAULT_MAX_TRACKED)),
  };
  return {
    options,
    seen: 0,
    outsideWindow: 0,
    normalLeftOut: 0,
    total: 0,
    abnormal: 0,
    endings: newEndingTally(),
    facts: new Map(),
    timeline: newTimeline(),
    services: newTally(options.maxTracked),
    hosts: newTally(options.maxTracked),
    examples: new Map(),
    rows: [],
    firstStartMs: Number.POSITIVE_INFINITY,
    lastEndMs: Number.NEGATIVE_INFINITY,
  };
}

/** Offers one record to the model. Keeps a reference only when the record becomes an example. */
export function addToReport(m: ReportModel, r: ConnectionRecord): void {
  m.seen++;
  const o = m.options;
  const endMs = isoToMs(r.end);
  if ((o.fromMs !== null && endMs < o.fromMs) || (o.toMs !== null && endMs > o.toMs)) {
    m.outsideWindow++;
    return;
  }
  const abnormal = isAbnormal(r.ending);
  if (o.onlyAbnormal && !abnormal) {
    m.normalLeftOut++;
    return;
  }
  m.total++;
  addToEndingTally(m.endings, r);
  const startMs = isoToMs(r.start);
  if (startMs < m.firstStartMs) m.firstStartMs = startMs;
  if (endMs > m.lastEndMs) m.lastEndMs = endMs;
  addToTimeline(m.timeline, endMs, ENDINGS.indexOf(r.ending));

  let f = m.facts.get(r.ending);
  if (f === undefined) {
    f = newEndingFacts();
    m.facts.set(r.ending, f);
  }
  f.count++;
  if (r.cause !== null) inc(f.byCause, r.cause);
  inc(f.appView.client, r.appView.client);
  inc(f.appView.server, r.appView.server);
  if (r.rstReason !== null) inc(f.byRstReason, r.rstReason);
  if (endMs < f.firstEndMs) f.firstEndMs = endMs;
  if (endMs > f.lastEndMs) f.lastEndMs = endMs;
  if (r.closeWaitMs !== null) f.maxCloseWaitMs = Math.max(f.maxCloseWaitMs ?? 0, r.closeWaitMs);
  if (r.finWait2Ms !== null) f.maxFinWait2Ms = Math.max(f.maxFinWait2Ms ?? 0, r.finWait2Ms);

  const serverClosed = r.closer === 'server' || r.closer === 'both';
  const clientClosed = r.closer === 'client' || r.closer === 'both';
  bumpTally(m.services, formatEndpoint(r.server), r.ending, serverClosed);
  bumpTally(m.hosts, r.server.ip, r.ending, serverClosed);
  if (r.client.ip !== r.server.ip) bumpTally(m.hosts, r.client.ip, r.ending, clientClosed);

  if (!abnormal) return;
  m.abnormal++;
  offerExample(m, r);
  offerRow(m, r);
}

/** What makes two examples different enough to show both: first the cause, then who closed. */
function exampleKind(r: ConnectionRecord): string {
  return `${r.cause ?? ''}|${r.closer ?? ''}`;
}

function causeOf(r: ConnectionRecord): string {
  return r.cause ?? '';
}

/** Index of the latest example whose `key` is shared with another example, or -1. */
function latestDuplicate(list: ConnectionRecord[], key: (r: ConnectionRecord) => string): number {
  const counts = new Map<string, number>();
  for (const x of list) counts.set(key(x), (counts.get(key(x)) ?? 0) + 1);
  for (let i = list.length - 1; i >= 0; i--) if (counts.get(key(list[i]!))! > 1) return i;
  return -1;
}

/**
 * Keeps up to K examples per ending, favouring variety: a record with a cause not shown yet replaces the latest
 * example of a cause shown twice; one with a new (cause, closer) pair replaces the latest of a pair shown twice;
 * otherwise the first K are kept.
 */
function offerExample(m: ReportModel, r: ConnectionRecord): void {
  const k = m.options.examplesPerEnding;
  if (k === 0) return;
  let list = m.examples.get(r.ending);
  if (list === undefined) {
    list = [];
    m.examples.set(r.ending, list);
  }
  if (list.length < k) {
    list.push(r);
    return;
  }
  const kind = exampleKind(r);
  if (list.some((x) => exampleKind(x) === kind)) return;
  const newCause = !list.some((x) => causeOf(x) === causeOf(r));
  const i = newCause ? latestDuplicate(list, causeOf) : latestDuplicate(list, exampleKind);
  if (i >= 0) list[i] = r;
}

/** Keeps the `tableLimit` earliest abnormal rows, sorted (records mostly arrive in order: a binary insert). */
function offerRow(m: ReportModel, r: ConnectionRecord): void {
  const limit = m.options.tableLimit;
  const rows = m.rows;
  if (limit === 0) return;
  if (rows.length >= limit) {
    const lastRow = rows[rows.length - 1]!;
    const c = compareIso(r.start, lastRow.start) || r.id - lastRow.id;
    if (c >= 0) return;
  }
  const row = toAbnormalRow(r);
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareRows(rows[mid]!, row) <= 0) lo = mid + 1;
    else hi = mid;
  }
  rows.splice(lo, 0, row);
  if (rows.length > limit) rows.pop();
}

/** The abnormal endings present, most frequent first (ties in ENDINGS order). */
export function abnormalEndingsPresent(m: ReportModel): Ending[] {
  return ENDINGS.filter((e) => isAbnormal(e) && (m.facts.get(e)?.count ?? 0) > 0).sort(
    (a, b) => m.facts.get(b)!.count - m.facts.get(a)!.count || ENDINGS.indexOf(a) - ENDINGS.indexOf(b),
  );
}

/** Examples of one ending in start order. */
export function examplesOf(m: ReportModel, e: Ending): ConnectionRecord[] {
  return (m.examples.get(e) ?? []).slice().sort((a, b) => compareIso(a.start, b.start) || a.id - b.id);
}

/** Services (or hosts) with the most connections of ending `e`, from the tracked ones. */
export function topKeysFor(t: BoundedTally, e: Ending, limit: number): { key: string; count: number }[] {
  const out: { key: string; count: number }[] = [];
  for (const entry of t.entries.values()) {
    const n = entry.byEnding[e] ?? 0;
    if (n > 0) out.push({ key: entry.key, count: n });
  }
  out.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out.slice(0, Math.max(0, limit));
}
