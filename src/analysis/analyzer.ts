import type { RawPacket } from '../capture/raw-packet.js';
import type { RecordDetail } from '../classify/build-record.js';
import { ClassifiedConnection } from '../classify/classified.js';
import { classify, DEFAULT_CLASSIFIER_OPTIONS, newVerdict, type ClassifierOptions, type ClassifyContext } from '../classify/classifier.js';
import type { ConnectionRecord } from '../classify/record.js';
import type { Connection } from '../conn/connection.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS, type ConnectionTableOptions, type EmitReason } from '../conn/connection-table.js';
import { toSeconds } from '../conn/time.js';
import { tupleHash } from '../conn/tuple-index.js';
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

/** What a table hands on when a connection leaves it: why, and the capture end it is to be judged against. */
export type EndedFn = (conn: Connection, reason: EmitReason, captureEnd: number) => void;

/**
 * Frames (or segments decoded elsewhere) in, ended connections out: the connection table and the capture's
 * clock, without classification. A parallel run's worker is one as it stands (it hands each ended connection back
 * to the reading thread); Analyzer adds the classifier.
 */
export class TableFollower extends FrameDecoder {
  readonly table: ConnectionTable;
  /** A later end of the capture than its last frame (pcapng isb_endtime), float seconds; 0 when none. */
  recordedEnd = 0;

  constructor(table: ConnectionTableOptions, private readonly onEnded: EndedFn) {
    super();
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
   * its frame), with its tuple's hash when that is known already. Returns the connection it went to, or null.
   */
  ingestSegment(seg: TcpSegment, hash = tupleHash(seg)): Connection | null {
    this.noteTimestamp(seg.tsSec, seg.tsNs);
    this.table.onSegment(seg, hash);
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

  /** Emits every connection still held (end of the capture, or of a live session). */
  finish(): void {
    this.table.now = Math.max(this.table.now, this.captureEnd());
    this.table.flush();
  }

  private emit(conn: Connection, reason: EmitReason, now: number): void {
    // A connection that ended, or that the capture's end cut short, is judged against the capture's end; one
    // evicted or superseded against the moment it left.
    this.onEnded(conn, reason, reason === 'end-of-capture' || reason === 'finished' ? this.captureEnd() : now);
  }
}

/**
 * Classifies ended connections one at a time and hands each over as a view (valid during the consumer's call),
 * counting them. One verdict and one view are reused for every connection.
 */
export class ConnectionClassifier {
  records = 0;
  outOfWindowRsts = 0;
  private readonly view = new ClassifiedConnection();
  private readonly verdict = newVerdict();
  private readonly ctx: ClassifyContext = { captureEnd: 0, reason: 'finished' };

  constructor(
    private readonly opts: ClassifierOptions,
    private readonly detail: RecordDetail,
    private readonly consume: (c: ClassifiedConnection) => void,
  ) {}

  take(conn: Connection, reason: EmitReason, captureEnd: number): void {
    this.outOfWindowRsts += conn.client.outOfWindowRsts + conn.server.outOfWindowRsts;
    this.records++;
    const ctx = this.ctx;
    ctx.captureEnd = captureEnd;
    ctx.reason = reason;
    this.consume(this.view.set(conn, classify(conn, this.opts, ctx, this.verdict), this.detail));
  }
}

/**
 * The push pipeline shared by offline analysis and live capture: frames in (ingest), connection records out
 * (onRecord) as each connection is classified. Frames get run-wide numbers in the order they are pushed: for one
 * file that is Wireshark's frame number; for several merged files it is the number mergecap's output would give.
 */
export class Analyzer extends TableFollower {
  private readonly classifier: ConnectionClassifier;

  /** An analyzer that hands over each connection's record as it is classified. */
  constructor(opts: AnalyzerOptions, onRecord: (record: ConnectionRecord) => void);
  /**
   * An analyzer that hands over each classified connection as a view (valid during the call) whose record is
   * built only if the consumer asks for it: what counting consumers use to skip the cost of records.
   */
  constructor(opts: AnalyzerOptions, onRecord: null, onClassified: (c: ClassifiedConnection) => void);
  constructor(opts: AnalyzerOptions, onRecord: ((record: ConnectionRecord) => void) | null, onClassified?: (c: ClassifiedConnection) => void) {
    // Summary records carry no ladder and no state lists: the table need not keep them (a third of a connection).
    super(opts.detail === 'summary' ? { ...opts.table, trace: false } : opts.table, (conn, reason, end) => this.classifier.take(conn, reason, end));
    const consume = onRecord !== null ? (c: ClassifiedConnection) => onRecord(c.record()) : onClassified!;
    this.classifier = new ConnectionClassifier(opts.classifier, opts.detail ?? 'full', consume);
  }

  /** Connections classified so far. */
  get records(): number {
    return this.classifier.records;
  }

  /** RSTs the connections' ends ignored as out of window. */
  get outOfWindowRsts(): number {
    return this.classifier.outOfWindowRsts;
  }
}
