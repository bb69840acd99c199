import type { ClassifierOptions } from '../classify/classifier.js';
import { isoTime } from '../conn/time.js';
import { countsToRecord, newRunSummary, type CaptureFileSummary, type RunSummary } from '../output/run-summary.js';
import type { DecodeStats } from '../decode/stats.js';

/** The counters a run's summary is made of: an Analyzer's, or a parallel run's reading thread and workers'. */
export interface SummarySource {
  readonly decoder: { readonly stats: DecodeStats };
  readonly frames: number;
  readonly firstSec: number;
  readonly firstNs: number;
  readonly lastSec: number;
  readonly lastNs: number;
  readonly tsDigits: number;
  /** Connections classified. */
  readonly records: number;
  /** Connections evicted from the table before they ended. */
  readonly evicted: number;
  readonly outOfWindowRsts: number;
}

/** The run's summary: the same for files (analyzeCaptures, in one thread or several) and live capture. */
export function summarize(analyzer: SummarySource, files: CaptureFileSummary[], classifier: ClassifierOptions): RunSummary {
  const summary = newRunSummary({
    closeWaitThresholdMs: classifier.closeWaitThresholdS * 1000,
    finTimeoutMs: classifier.finTimeoutS * 1000,
  });
  const st = analyzer.decoder.stats;
  summary.files = files;
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
  summary.evictedConnections = analyzer.evicted;
  summary.outOfWindowRstsIgnored = analyzer.outOfWindowRsts;
  return summary;
}
