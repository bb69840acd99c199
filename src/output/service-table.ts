/**
 * Per-service table: one row per server endpoint (ip:port), its connection count, how its connections ended,
 * and the median time its clients or it sat in CLOSE_WAIT. The services with most abnormal endings come first,
 * so the one to look at is on top.
 */
import type { ClassifiedConnection } from '../classify/classified.js';
import { ENDINGS, isAbnormal, type Ending } from '../classify/labels.js';
import type { ConnectionRecord, Endpoint } from '../classify/record.js';
import { colors, formatCount, formatDuration, formatEndpoint, glyphs, plural, sanitize, toAscii } from './format.js';
import { addToSketch, newMedianSketch, sketchMedian, type MedianSketch } from './median-sketch.js';
import { newTable } from './table-style.js';

export interface ServiceStats {
  server: Endpoint;
  /** formatEndpoint(server): the row label and the grouping key. */
  key: string;
  total: number;
  abnormal: number;
  byEnding: Map<Ending, number>;
  /** closeWaitMs of the connections that have one (for the median; bounded, see median-sketch.ts). */
  closeWaits: MedianSketch;
}

/** Per-service counts, filled one record at a time (only numbers are kept, never the records). */
export interface ServiceTally {
  /** By service key: the endpoint's text, or a number standing for it (see ClassifiedConnection.serviceKey). */
  services: Map<string | number, ServiceStats>;
}

export function newServiceTally(): ServiceTally {
  return { services: new Map() };
}

export function addToServiceTally(t: ServiceTally, r: ConnectionRecord): void {
  addServiceCounts(t, formatEndpoint(r.server), { server: () => r.server }, r.ending, r.closeWaitMs);
}

/** addToServiceTally for a classified connection: no text is built but for a service's first connection. */
export function addClassifiedToServiceTally(t: ServiceTally, c: ClassifiedConnection): void {
  // The view itself tells the server (no closure per connection).
  addServiceCounts(t, c.serviceKey(), c, c.ending, c.closeWaitMs);
}

function addServiceCounts(
  t: ServiceTally,
  key: string | number,
  source: { server(): Endpoint },
  ending: Ending,
  closeWaitMs: number | null,
): void {
  let s = t.services.get(key);
  if (s === undefined) {
    const ep = source.server();
    s = { server: { ip: ep.ip, port: ep.port }, key: formatEndpoint(ep), total: 0, abnormal: 0, byEnding: new Map(), closeWaits: newMedianSketch() };
    t.services.set(key, s);
  }
  s.total++;
  if (isAbnormal(ending)) s.abnormal++;
  s.byEnding.set(ending, (s.byEnding.get(ending) ?? 0) + 1);
  if (closeWaitMs !== null) addToSketch(s.closeWaits, closeWaitMs);
}

export function tallyServices(records: Iterable<ConnectionRecord>): ServiceTally {
  const t = newServiceTally();
  for (const r of records) addToServiceTally(t, r);
  return t;
}

/** Services ordered for the table: most abnormal endings first, then most connections, then by name. */
export function rankServices(t: ServiceTally): ServiceStats[] {
  return [...t.services.values()].sort(
    (a, b) => b.abnormal - a.abnormal || b.total - a.total || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

export interface ServiceTableOptions {
  /** Services shown (default 20); the rest are summed up in one line. */
  limit?: number;
  ascii?: boolean;
  color?: boolean;
}

export const DEFAULT_SERVICE_LIMIT = 20;

function isTally(x: ServiceTally | Iterable<ConnectionRecord>): x is ServiceTally {
  return !(Symbol.iterator in x);
}

/**
 * The table of the top services, followed by "… and K more services (N connections)" when some are left out.
 * Columns: service, connections, one per ending present among the rows shown (abnormal ones highlighted),
 * median close-wait. No trailing newline.
 */
export function renderServiceTable(
  input: ServiceTally | Iterable<ConnectionRecord>,
  opts: ServiceTableOptions = {},
): string {
  const t = isTally(input) ? input : tallyServices(input);
  if (t.services.size === 0) return 'No services.';
  const c = colors(opts.color);
  const g = glyphs(opts.ascii);
  const limit = Math.max(0, opts.limit ?? DEFAULT_SERVICE_LIMIT);
  const ranked = rankServices(t);
  const shown = ranked.slice(0, limit);
  const hidden = ranked.slice(limit);

  const present = ENDINGS.filter((e) => shown.some((s) => s.byEnding.has(e)));
  const table = newTable(
    ['service', 'conns', ...present.map((e) => (isAbnormal(e) ? c.red(e) : e)), 'median close-wait'],
    ['left', 'right', ...present.map(() => 'right' as const), 'right'],
    opts,
  );
  for (const s of shown) {
    const row: string[] = [sanitize(s.key), formatCount(s.total)];
    for (const e of present) {
      const n = s.byEnding.get(e) ?? 0;
      if (n === 0) row.push(c.dim('0'));
      else row.push(isAbnormal(e) ? c.bold(c.red(formatCount(n))) : formatCount(n));
    }
    const m = sketchMedian(s.closeWaits);
    row.push(m === null ? g.dash : formatDuration(m));
    table.push(row);
  }
  let out = table.toString();
  if (hidden.length > 0) {
    const conns = hidden.reduce((sum, s) => sum + s.total, 0);
    out += `\n${g.ellipsis} and ${plural(hidden.length, 'more service')} (${plural(conns, 'connection')})`;
  }
  return opts.ascii === true ? toAscii(out) : out;
}
