import type { ClassifierOptions } from '../classify/classifier.js';
import { isoTime } from '../conn/time.js';
import { countsToRecord, newRunSummary, type CaptureFileSummary, type RunSummary } from '../output/run-summary.js';
import type { Analyzer } from './analyzer.js';

/** The run's summary from an Analyzer's counters: the same for files (analyzeCaptures) and live capture. */
export function summarize(analyzer: Analyzer, files: CaptureFileSummary[], classifier: ClassifierOptions): RunSummary {
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
  summary.evictedConnections = analyzer.table.evicted;
  summary.outOfWindowRstsIgnored = analyzer.outOfWindowRsts;
  return summary;
}
