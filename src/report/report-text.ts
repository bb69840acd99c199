/**
 * Plain-text pieces both report formats share: times, count lists, the capture's facts and the key findings.
 * Returns unescaped text; each renderer escapes it for its own format.
 */
import type { Cause, Ending } from '../classify/labels.js';
import { ADVICE } from '../classify/advice.js';
import { formatBytes, formatCount, formatDuration, isoSpanMs, plural } from '../output/format.js';
import type { RunSummary } from '../output/run-summary.js';
import type { CloserCounts } from '../output/summary-table.js';
import { abnormalEndingsPresent, topKeysFor, type ReportModel } from './report-model.js';
import { isoToMs } from './time-window.js';

export interface ReportMeta {
  /** Heading of the report. */
  title: string;
  /** Capture errors (damaged or unreadable files), one message each. */
  errors: string[];
  /** The --from/--to window as given, for the report to repeat. */
  from?: string | undefined;
  to?: string | undefined;
  /** "teardown 0.1.0": the generator line. */
  generator: string;
  /** ISO time the report was made (left out when empty, for reproducible output). */
  generatedAt: string;
  /** Rows of the services and hosts tables (default 10). */
  topN?: number;
}

export const DEFAULT_TOP_N = 10;

/** "10:06:47.138596" from "2026-11-21T10:06:47.138596Z" (the date is in the report's header). */
export function clockTime(iso: string): string {
  const m = /T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)/.exec(iso);
  return m === null ? iso : m[1]!;
}

/** "10:06:47.139" for an epoch-ms instant (UTC). */
export function clockFromMs(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  return new Date(Math.floor(ms)).toISOString().slice(11, 23);
}

/** "2026-11-21" or "2026-11-21 – 2026-11-22" from the capture's span. */
export function captureDates(s: RunSummary): string {
  if (s.captureStart === null) return '';
  const a = s.captureStart.slice(0, 10);
  const b = (s.captureEnd ?? s.captureStart).slice(0, 10);
  return a === b ? a : `${a} – ${b}`;
}

/** "server 5, client 2" from a closer tally, largest first; "nobody" for endings without a closer. */
export function closerList(c: CloserCounts): string {
  const parts: [string, number][] = [
    ['client', c.client],
    ['server', c.server],
    ['both', c.both],
    ['nobody', c.none],
  ];
  return parts
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${formatCount(n)}`)
    .join(', ');
}

/** "linger-abort 3, unread-data 2" from a partial count map, largest first (ties by name). */
export function countList<K extends string>(m: Partial<Record<K, number>>): string {
  return (Object.entries(m) as [K, number][])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${k} ${formatCount(n)}`)
    .join(', ');
}

/** closerList, or "" when nobody closed any of them (refused, unanswered, unresponsive). */
export function closersOf(c: CloserCounts): string {
  return c.none === c.total ? '' : closerList(c);
}

/** "2026-11-21 10:06:47.138596 → 10:06:57.154951 UTC (10.0 s)": the date once when both ends share it. */
export function spanText(s: RunSummary): string {
  if (s.captureStart === null) return 'no frames were read';
  const a = s.captureStart.replace('T', ' ').replace(/Z$/, '');
  const endIso = s.captureEnd ?? s.captureStart;
  const sameDay = endIso.slice(0, 10) === s.captureStart.slice(0, 10);
  const b = sameDay ? clockTime(endIso) : endIso.replace('T', ' ').replace(/Z$/, '');
  const span = isoSpanMs(s.captureStart, endIso);
  return `${a} → ${b} UTC${span === null ? '' : ` (${formatDuration(span)})`}`;
}

export function percent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  const p = (part / whole) * 100;
  return p > 0 && p < 1 ? '<1%' : `${Math.round(p)}%`;
}

/** One sentence per abnormal ending present, most frequent first: the report's "key findings". */
export interface Finding {
  ending: Ending;
  count: number;
  title: string;
  closers: string;
  causes: string;
  /** "192.0.2.2:9999 (5), 192.0.2.2:9995 (2)". */
  services: string;
  when: string;
}

export function findings(m: ReportModel): Finding[] {
  return abnormalEndingsPresent(m).map((e) => {
    const f = m.facts.get(e)!;
    const services = topKeysFor(m.services, e, 3)
      .map((s) => `${s.key} (${formatCount(s.count)})`)
      .join(', ');
    const when =
      f.firstEndMs === f.lastEndMs ? `at ${clockFromMs(f.firstEndMs)}` : `between ${clockFromMs(f.firstEndMs)} and ${clockFromMs(f.lastEndMs)}`;
    return {
      ending: e,
      count: f.count,
      title: ADVICE[e].title,
      closers: closersOf(m.endings.byEnding.get(e)!),
      causes: countList<Cause>(f.byCause),
      services,
      when,
    };
  });
}

/** The capture's facts as label/value pairs (value plain text). */
export function captureFacts(m: ReportModel, s: RunSummary, meta: ReportMeta): [string, string][] {
  const out: [string, string][] = [];
  out.push(['Time span', spanText(s)]);
  const notTcp = Object.entries(s.notTcpByKind)
    .map(([k, n]) => `${k} ${formatCount(n)}`)
    .join(', ');
  out.push([
    'Packets',
    `${formatCount(s.packetsRead)} read, ${formatCount(s.tcpSegments)} TCP segments` +
      (s.notTcp > 0 ? `, ${formatCount(s.notTcp)} other (${notTcp || 'not TCP'})` : ''),
  ]);
  let conns = `${plural(s.connections, 'connection')}`;
  if (m.total !== m.seen) {
    const left: string[] = [];
    if (m.outsideWindow > 0) left.push(`${formatCount(m.outsideWindow)} ended outside the time window`);
    if (m.normalLeftOut > 0) left.push(`${formatCount(m.normalLeftOut)} ended normally (left out by --only abnormal)`);
    conns += `; ${formatCount(m.total)} in this report (${left.join('; ')})`;
  }
  conns += `; ${formatCount(m.abnormal)} abnormal`;
  out.push(['Connections', conns]);
  const window: string[] = [];
  if (meta.from !== undefined) window.push(`from ${meta.from}`);
  if (meta.to !== undefined) window.push(`to ${meta.to}`);
  if (window.length > 0) out.push(['Time window', `connections that ended ${window.join(' ')} (UTC)`]);
  out.push([
    'Thresholds',
    `CLOSE_WAIT counts as stuck after ${formatDuration(s.thresholds.closeWaitThresholdMs)} of silence; ` +
      `FIN_WAIT_2 orphans assumed to live ${formatDuration(s.thresholds.finTimeoutMs)} (tcp_fin_timeout)`,
  ]);
  return out;
}

/**
 * Damage and warnings, one line each (empty when the capture was clean), and notes that are no damage (bad
 * checksums: checksum offload on the capturing host makes them normal; out-of-window RSTs, ignored as stacks do).
 * The same split as the terminal's capture header (renderCaptureHeader).
 */
export function damageLines(s: RunSummary, meta: ReportMeta): { errors: string[]; warnings: string[]; notes: string[] } {
  const warnings: string[] = [];
  const add = (n: number, text: string): void => {
    if (n > 0) warnings.push(`${formatCount(n)} ${text}`);
  };
  add(s.tooShort, 'frames too short to decode');
  add(s.malformed, 'frames with malformed headers');
  add(s.unknownLinkType, 'frames of an unknown link type');
  add(s.fragments, 'IP fragments (not reassembled)');
  for (const f of s.files) {
    if (f.droppedByCapture !== null && f.droppedByCapture > 0) {
      warnings.push(`${formatCount(f.droppedByCapture)} packets dropped by the capturing host (${f.name})`);
    }
  }
  add(s.evictedConnections, 'connections evicted before their end (--max-connections), classified with what was known');
  // As on the terminal: RSTs outside the window are what RFC 5961 stacks ignore too, not damage.
  const notes: string[] = [];
  if (s.outOfWindowRstsIgnored > 0) notes.push(`${formatCount(s.outOfWindowRstsIgnored)} out-of-window RSTs ignored (RFC 5961)`);
  if (s.badChecksums > 0) {
    notes.push(`${formatCount(s.badChecksums)} segments with bad TCP checksums (usually checksum offload on the capturing host; still used)`);
  }
  return { errors: meta.errors.slice(), warnings, notes };
}

/** "pcap, 289 frames, 27 kB" for a file row; "could not be read" for a file that gave nothing. */
export function fileLine(f: RunSummary['files'][number]): string {
  if (f.frames === 0 && f.error !== null) return 'could not be read';
  return `${f.format}, ${plural(f.frames, 'frame')}, ${formatBytes(f.bytes)}${f.error !== null ? ', damaged' : ''}`;
}

/** The "Damage, drops" line when there is no warning: clean, or only the errors listed above it. */
export function noWarningText(meta: ReportMeta): string {
  return meta.errors.length > 0 ? 'nothing more than the errors above: every frame read was decoded' : 'none: every frame decoded, nothing dropped';
}

/**
 * Frames are run-wide: with several files they are those of the merged stream. The mergecap command that writes
 * the same stream, or null for a single file (whose frame numbers are Wireshark's own).
 */
export function mergeCommand(s: RunSummary): string | null {
  const read = s.files.filter((f) => f.frames > 0);
  if (read.length < 2) return null;
  return `mergecap -w merged.pcapng ${read.map((f) => shellQuote(f.name)).join(' ')}`;
}

/** The command that lists every abnormal connection, for a table cut short. */
export function listAllCommand(s: RunSummary): string {
  const files = s.files.length === 0 ? 'FILE…' : s.files.map((f) => shellQuote(f.name)).join(' ');
  return `teardown analyze ${files} --only abnormal --format csv`;
}

/** A file name as a POSIX shell word (single-quoted unless it is plain). */
function shellQuote(name: string): string {
  return /^[A-Za-z0-9._\/+:=-]+$/.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`;
}

/**
 * The span the timeline draws: the capture (first to last frame), narrowed to the --from/--to window where one is
 * given (a window wider than the capture is drawn as the capture).
 */
export function timelineSpan(m: ReportModel, s: RunSummary): [number, number] {
  const capFrom = s.captureStart !== null ? isoToMs(s.captureStart) : m.firstStartMs;
  const capTo = s.captureEnd !== null ? isoToMs(s.captureEnd) : m.lastEndMs;
  let from = m.options.fromMs === null ? capFrom : Math.max(m.options.fromMs, Math.min(capFrom, m.lastEndMs));
  let to = m.options.toMs === null ? capTo : Math.min(m.options.toMs, Math.max(capTo, m.firstStartMs));
  if (!Number.isFinite(from)) from = m.firstStartMs;
  if (!Number.isFinite(to)) to = m.lastEndMs;
  if (!(to > from)) to = from + 1;
  return [from, to];
}
