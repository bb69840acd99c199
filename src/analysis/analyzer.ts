import type { RawPacket } from '../capture/raw-packet.js';
import type { RecordDetail } from '../classify/build-record.js';
import { ClassifiedConnection } from '../classify/classified.js';
import { classify, DEFAULT_CLASSIFIER_OPTIONS, newVerdict, type ClassifierOptions } from '../classify/classifier.js';
import type { ConnectionRecord } from '../classify/record.js';
import type { Connection } from '../conn/connection.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS, type ConnectionTableOptions, type EmitReason } from '../conn/connection-table.js';
import { toSeconds } from '../conn/time.js';
import type { TcpSegment } from '../decode/segment.js';
import { FrameDecoder } from './frame-decoder.js';

export interface AnalyzerOptions {
  classifier: ClassifierOptions;
  table: ConnectionTableOptions;
  /** 'summary' records leave out the ladder and state lists (see RecordDetail). Default 'full'. */
  detail?: RecordDetail;
}

export const DEFAULT_ANALYZER_OPTIONS: AnalyzerOptions = {
  classifier: DEFAULT_CLASSIFIER_OPTIONS,
  table: DEFAULT_TABLE_OPTIONS,
};

/**
 * The push pipeline shared by offline analysis and live capture: frames in (ingest), connection records out
 * (onRecord) as each connection is classified. Frames get run-wide numbers in the order they are pushed: for one
 * file that is Wireshark's frame number; for several merged files it is the number mergecap's output would give.
 */
export class Analyzer extends FrameDecoder {
  readonly table: ConnectionTable;
  /** A later end of the capture than its last frame (pcapng isb_endtime), float seconds; 0 when none. */
  recordedEnd = 0;
  records = 0;
  outOfWindowRsts = 0;
  private readonly view = new ClassifiedConnection();
  /** Reused for every connection: the view hands it over only for the duration of the consumer's call. */
  private readonly verdict = newVerdict();
  private readonly consume: (c: ClassifiedConnection) => void;

  /** An analyzer that hands over each connection's record as it is classified. */
  constructor(opts: AnalyzerOptions, onRecord: (record: ConnectionRecord) => void);
  /**
   * An analyzer that hands over each classified connection as a view (valid during the call) whose record is
   * built only if the consumer asks for it: what counting consumers use to skip the cost of records.
   */
  constructor(opts: AnalyzerOptions, onRecord: null, onClassified: (c: ClassifiedConnection) => void);
  constructor(
    private readonly opts: AnalyzerOptions,
    onRecord: ((record: ConnectionRecord) => void) | null,
    onClassified?: (c: ClassifiedConnection) => void,
  ) {
    super();
    this.consume = onRecord !== null ? (c) => onRecord(c.record()) : onClassified!;
    // Summary records carry no ladder and no state lists: the table need not keep them (a third of a connection).
    const table = opts.detail === 'summary' ? { ...opts.table, trace: false } : opts.table;
    this.table = new ConnectionTable(table, (conn, reason, now) => this.emit(conn, reason, now));
  }

  /** The TCP segment of the last frame ingested (valid until the next call; meaningful when ingest returned a connection). */
  get segment(): TcpSegment {
    return this.seg;
  }

  /**
   * Feeds one captured frame. The RawPacket is not kept. Returns the connection its TCP segment went to, or null
   * (not TCP, or a straggler of a connection already emitted or evicted).
   */
  ingest(pkt: RawPacket): Connection | null {
    if (!this.decodeFrame(pkt)) return null;
    this.table.onSegment(this.seg);
    return this.table.lastConnection;
  }

  /**
   * Feeds a TCP segment decoded elsewhere (a worker of a parallel run: the reading thread decoded it and counted
   * its frame). Returns the connection it went to, or null.
   */
  ingestSegment(seg: TcpSegment): Connection | null {
    this.noteTimestamp(seg.tsSec, seg.tsNs);
    this.table.onSegment(seg);
    return this.table.lastConnection;
  }

  /** Connections evicted from the table before they ended. */
  get evicted(): number {
    return this.table.evicted;
  }

  /** Capture end for the classifier: the last frame, or a later end the capture file recorded. */
  captureEnd(): number {
    const last = this.lastSec < 0 ? 0 : toSeconds(this.lastSec, this.lastNs);
    return Math.max(last, this.recordedEnd);
  }

  /** Classifies and emits every connection still held (end of the capture, or of a live session). */
  finish(): void {
    this.table.now = Math.max(this.table.now, this.captureEnd());
    this.table.flush();
  }

  private emit(conn: Connection, reason: EmitReason, now: number): void {
    const captureEnd = reason === 'end-of-capture' || reason === 'finished' ? this.captureEnd() : now;
    this.outOfWindowRsts += conn.client.outOfWindowRsts + conn.server.outOfWindowRsts;
    this.records++;
    const verdict = classify(conn, this.opts.classifier, { captureEnd, reason }, this.verdict);
    this.consume(this.view.set(conn, verdict, this.opts.detail ?? 'full'));
  }
}
