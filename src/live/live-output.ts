/**
 * What `teardown live` prints besides the shared renderers: one line per classified connection (table format),
 * and the run summary of a live session for the closing tables.
 */
import type { Analyzer } from '../analysis/analyzer.js';
import { isAbnormal } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { isoTime } from '../conn/time.js';
import { colors, formatDuration, formatEndpoint, glyphs, toAscii } from '../output/format.js';
import { countsToRecord, newRunSummary, type RunSummary } from '../output/run-summary.js';

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
  const summary = newRunSummary({ closeWaitThresholdMs: s.closeWaitThresholdS * 1000, finTimeoutMs: s.finTimeoutS * 1000 });
  const st = analyzer.decoder.stats;
  summary.files = [
    {
      name: `interface ${s.iface}`,
      format: 'live',
      frames: analyzer.frames,
      bytes: s.bytes,
      linkTypes: [s.linkType],
      error: null,
      droppedByCapture: s.dropped,
      notes: s.notes.slice(),
    },
  ];
  summary.captureStart = analyzer.firstSec < 0 ? null : isoTime(analyzer.firstSec, analyzer.firstNs, analyzer.tsDigits);
  summary.captureEnd = analyzer.lastSec < 0 ? null : isoTime(analyzer.lastSec, analyzer.lastNs, analyzer.tsDigits);
  summary.packetsRead = analyzer.frames;
  summary.tcpSegments = st.tcp;
  summary.notTcp = st.notTcp;
  summary.notTcpByKind = countsToRecord(st.notTcpByKind);
  summary.fragments = st.fragments;
  summary.tooShort = st.tooShort;
  summary.malformed = st.malformed;
  summary.unknownLinkType = st.unknownLinkType;
  summary.badChecksums = st.badChecksums;
  summary.connections = analyzer.records;
  summary.evictedConnections = analyzer.table.evicted;
  summary.outOfWindowRstsIgnored = analyzer.outOfWindowRsts;
  return summary;
}
