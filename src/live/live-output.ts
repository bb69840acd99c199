/**
 * What `teardown live` prints besides the shared renderers: one line per classified connection (table format),
 * and the run summary of a live session for the closing tables.
 */
import type { Analyzer } from '../analysis/analyzer.js';
import { summarize } from '../analysis/summary.js';
import { isAbnormal } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { colors, formatDuration, formatEndpoint, glyphs, toAscii } from '../output/format.js';
import type { RunSummary } from '../output/run-summary.js';

/**
 * "10:42:07.314  #17  192.0.2.1:40001 → 192.0.2.2:9999  orphan-timeout-rst  closer server  lasted 5.2 s
 *  app client EOF / server none  frames 9 12" — the clock is the connection's last packet.
 */
export function recordLine(r: ConnectionRecord, opts: { color?: boolean; ascii?: boolean } = {}): string {
  const c = colors(opts.color);
  const g = glyphs(opts.ascii);
  const clock = r.end.slice(11, 23);
  const verdict = r.cause === null ? r.ending : `${r.ending} (${r.cause})`;
  const parts = [
    clock,
    c.bold(`#${r.id}`),
    `${formatEndpoint(r.client)} ${g.arrow} ${formatEndpoint(r.server)}`,
    isAbnormal(r.ending) ? c.red(verdict) : verdict,
    `closer ${r.closer ?? g.dash}`,
    `lasted ${formatDuration(r.durationMs)}`,
    `app client ${r.appView.client} / server ${r.appView.server}`,
  ];
  if (r.evidence.length > 0) parts.push(`frame${r.evidence.length === 1 ? '' : 's'} ${r.evidence.join(' ')}`);
  if (r.confidence !== 'high') parts.push(`confidence ${r.confidence}`);
  // Every field is built from numbers and label words, never from capture bytes: nothing to sanitise.
  const line = parts.join('  ');
  return opts.ascii === true ? toAscii(line) : line;
}

export interface LiveSummaryInput {
  iface: string;
  linkType: number;
  /** Bytes captured. */
  bytes: number;
  /** Kernel drops, or null when unknown. */
  dropped: number | null;
  closeWaitThresholdS: number;
  finTimeoutS: number;
  notes: string[];
}

/** The run summary of a live session, as analyzeCaptures builds it for files (the interface in place of a file). */
export function liveRunSummary(analyzer: Analyzer, s: LiveSummaryInput): RunSummary {
  const iface = {
    name: `interface ${s.iface}`,
    format: 'live',
    frames: analyzer.frames,
    bytes: s.bytes,
    linkTypes: [s.linkType],
    error: null,
    droppedByCapture: s.dropped,
    notes: s.notes.slice(),
  };
  return summarize(analyzer, [iface], { closeWaitThresholdS: s.closeWaitThresholdS, finTimeoutS: s.finTimeoutS });
}
