/**
 * teardown as a library: the same pipeline the command runs. Feed captures (analyzeCaptures) or frames one at a
 * time (Analyzer.ingest, as live capture does) and receive one ConnectionRecord per connection as it is classified.
 */
export { Analyzer, DEFAULT_ANALYZER_OPTIONS, type AnalyzerOptions } from './analysis/analyzer.js';
export { analyzeCaptures, type RunHooks, type RunResult } from './analysis/run.js';
export { openCapture, type OpenCaptureOptions } from './capture/open-capture.js';
export { mergeReaders } from './capture/merge.js';
export { CaptureError, newRawPacket, type RawPacket } from './capture/raw-packet.js';
export { NEED_MORE, type CaptureInfo, type CaptureReader } from './capture/reader.js';
export { PcapWriter, PcapFileWriter } from './capture/pcap-writer.js';
export { DEFAULT_CLASSIFIER_OPTIONS, type ClassifierOptions } from './classify/classifier.js';
export * from './classify/labels.js';
export type { ConnectionRecord, Endpoint, EndSummary, LadderPacket, StateChange } from './classify/record.js';
export { ADVICE, CAUSE_ADVICE, RST_REASON_TEXT } from './classify/advice.js';
export type { RunSummary } from './output/run-summary.js';
