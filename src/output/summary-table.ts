/**
 * The run at a glance: a compact capture header (files, time span, packets, connections, damage) and the
 * ending × closer table (rows: endings in ENDINGS order, only those present, then a total; columns: who closed).
 */
import { ENDINGS, isAbnormal, type Ending } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import {
  colors,
  formatBytes,
  formatCount,
  formatDuration,
  glyphs,
  isoSpanMs,
  plural,
  sanitize,
  toAscii,
  wrapText,
} from './format.js';
import type { RunSummary } from './run-summary.js';
import { newTable } from './table-style.js';

export interface CloserCounts {
  client: number;
  server: number;
  both: number;
  /** Records whose closer is null (nobody closed, or it cannot be told). */
  none: number;
  total: number;
}

/** Counts per ending and closer, filled one record at a time (no record is kept). */
export interface EndingTally {
  byEnding: Map<Ending, CloserCounts>;
  total: CloserCounts;
}

function zeroCounts(): CloserCounts {
  return { client: 0, server: 0, both: 0, none: 0, total: 0 };
}

export function newEndingTally(): EndingTally {
  return { byEnding: new Map(), total: zeroCounts() };
}

function bump(c: CloserCounts, r: EndingAndCloser): void {
  // Named fields, not c[r.closer]: a keyed access that sees several names goes megamorphic, a hash lookup on
  // every connection of a run (1.5 % of the reading thread).
  const closer = r.closer;
  if (closer === 'client') c.client++;
  else if (closer === 'server') c.server++;
  else if (closer === 'both') c.both++;
  else {
    // Only null is left (a closer added to the type must be counted above: this stops compiling).
    const nobody: null = closer;
    void nobody;
    c.none++;
  }
  c.total++;
}

/** What the ending tally reads: a record, a verdict or a classified connection. */
export type EndingAndCloser = Pick<ConnectionRecord, 'ending' | 'closer'>;

export function addToEndingTally(t: EndingTally, r: EndingAndCloser): void {
  let c = t.byEnding.get(r.ending);
  if (c === undefined) {
    c = zeroCounts();
    t.byEnding.set(r.ending, c);
  }
  bump(c, r);
  bump(t.total, r);
}

export function tallyEndings(records: Iterable<ConnectionRecord>): EndingTally {
  const t = newEndingTally();
  for (const r of records) addToEndingTally(t, r);
  return t;
}

export interface SummaryTableOptions {
  ascii?: boolean;
  color?: boolean;
}

function isTally(x: EndingTally | Iterable<ConnectionRecord>): x is EndingTally {
  return !(Symbol.iterator in x);
}

/**
 * The ending × closer table. Takes a tally built while records streamed by, or the records themselves.
 * Returns the table without a trailing newline, or a one-line note when there are no connections.
 */
export function renderSummaryTable(
  input: EndingTally | Iterable<ConnectionRecord>,
  opts: SummaryTableOptions = {},
): string {
  const t = isTally(input) ? input : tallyEndings(input);
  if (t.total.total === 0) return 'No TCP connections.';
  const c = colors(opts.color);
  const g = glyphs(opts.ascii);
  const table = newTable(
    ['ending', 'client', 'server', 'both', g.dash, 'total'],
    ['left', 'right', 'right', 'right', 'right', 'right'],
    opts,
  );
  const cell = (n: number): string => (n === 0 ? c.dim('0') : formatCount(n));
  for (const ending of ENDINGS) {
    const counts = t.byEnding.get(ending);
    if (counts === undefined) continue;
    const name = isAbnormal(ending) ? c.red(ending) : ending;
    table.push([name, cell(counts.client), cell(counts.server), cell(counts.both), cell(counts.none), cell(counts.total)]);
  }
  const tot = t.total;
  table.push([
    c.bold('total'),
    c.bold(formatCount(tot.client)),
    c.bold(formatCount(tot.server)),
    c.bold(formatCount(tot.both)),
    c.bold(formatCount(tot.none)),
    c.bold(formatCount(tot.total)),
  ]);
  const out = table.toString();
  return opts.ascii === true ? toAscii(out) : out;
}

export interface CaptureHeaderOptions {
  ascii?: boolean;
  color?: boolean;
  /** Terminal width for wrapping (default 100). */
  width?: number;
  /** Files listed by name before "… and K more files" (default 5). */
  maxFiles?: number;
}

const LABEL_WIDTH = 12;

/**
 * A few label/value lines describing the run: what was read, the time span, what the packets were, how many
 * connections, and everything that makes the answer less certain (damage, drops, evictions).
 */
export function renderCaptureHeader(s: RunSummary, opts: CaptureHeaderOptions = {}): string {
  const c = colors(opts.color);
  const g = glyphs(opts.ascii);
  const width = opts.width ?? 100;
  const maxFiles = opts.maxFiles ?? 5;
  const lines: string[] = [];
  const sep = ` ${g.dot} `;
  // Values are wrapped first and painted line by line (wrapText sanitises, which would eat colour codes).
  const add = (label: string, value: string, paint: (s: string) => string = (x) => x): void => {
    const wrapped = wrapText(value, Math.max(20, width - LABEL_WIDTH));
    wrapped.forEach((l, i) => {
      lines.push((i === 0 ? c.bold(label.padEnd(LABEL_WIDTH)) : ' '.repeat(LABEL_WIDTH)) + paint(l));
    });
  };

  // Files: name (format, frames, bytes[, error]).
  const fileTexts = s.files.slice(0, maxFiles).map((f) => {
    const parts = [sanitize(f.format), plural(f.frames, 'frame'), formatBytes(f.bytes)];
    if (f.error !== null) parts.push(`stopped: ${sanitize(f.error)}`);
    return `${sanitize(f.name)} (${parts.join(', ')})`;
  });
  if (s.files.length > maxFiles) fileTexts.push(`${g.ellipsis} and ${plural(s.files.length - maxFiles, 'more file')}`);
  add(s.files.length === 1 ? 'File' : 'Files', fileTexts.length > 0 ? fileTexts.join('; ') : 'none');

  // Time span.
  if (s.captureStart !== null && s.captureEnd !== null) {
    const span = isoSpanMs(s.captureStart, s.captureEnd);
    const spanText = span === null ? '' : ` (${formatDuration(span)})`;
    add('Time', `${s.captureStart} ${g.arrow} ${s.captureEnd}${spanText}`);
  } else {
    add('Time', g.dash);
  }

  // Packets.
  const pk = [`${formatCount(s.packetsRead)} read`, plural(s.tcpSegments, 'TCP segment')];
  if (s.notTcp > 0) {
    const kinds = Object.entries(s.notTcpByKind)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([k, n]) => `${sanitize(k)} ${formatCount(n)}`);
    pk.push(`${formatCount(s.notTcp)} not TCP${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`);
  }
  add('Packets', pk.join(sep));

  // Connections.
  const cn = [plural(s.connections, 'connection')];
  if (s.evictedConnections > 0) cn.push(`${formatCount(s.evictedConnections)} evicted early (table full)`);
  if (s.outOfWindowRstsIgnored > 0) cn.push(`${plural(s.outOfWindowRstsIgnored, 'out-of-window RST')} ignored`);
  add('Connections', cn.join(sep));

  // Damage: everything that was not decoded, or not captured.
  const dmg: string[] = [];
  const damaged = s.files.filter((f) => f.error !== null).length;
  if (damaged > 0) dmg.push(`${plural(damaged, 'file')} cut short`);
  const dropped = s.files.reduce((sum, f) => sum + (f.droppedByCapture ?? 0), 0);
  if (dropped > 0) dmg.push(`${formatCount(dropped)} dropped by the capturing host`);
  if (s.malformed > 0) dmg.push(`${formatCount(s.malformed)} malformed`);
  if (s.tooShort > 0) dmg.push(`${formatCount(s.tooShort)} too short`);
  if (s.unknownLinkType > 0) dmg.push(`${formatCount(s.unknownLinkType)} unknown link type`);
  // Fragments whose datagram never came whole: their TCP segments are missing from the analysis.
  if (s.fragments > 0) dmg.push(`${plural(s.fragments, 'IP fragment')} not reassembled`);
  add('Damage', dmg.length === 0 ? 'none' : dmg.join(sep), dmg.length === 0 ? undefined : c.yellow);
  // Bad checksums are normal on the capturing host (offload), not damage: a note, not a warning.
  if (s.badChecksums > 0) add('Checksums', `${plural(s.badChecksums, 'bad TCP checksum')} (checksum offload on the capturing host, usually; the segments are used)`);

  add(
    'Thresholds',
    `close-wait stuck after ${formatDuration(s.thresholds.closeWaitThresholdMs)}${sep}` +
      `FIN_WAIT_2 timeout ${formatDuration(s.thresholds.finTimeoutMs)}`,
  );
  const out = lines.join('\n');
  return opts.ascii === true ? toAscii(out) : out;
}
