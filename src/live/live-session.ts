/**
 * One live session: the same Analyzer as offline analysis, fed by a push source, plus what only live mode has —
 * the savefile, the wall-clock tick (classify finished connections when no packet comes, watch CLOSE_WAIT), and
 * the RST burst detector. No I/O besides the savefile and no timers: the caller (run-live.ts) owns the source,
 * the clock, the signals and the output, so tests can drive a session with recorded frames and a fake clock.
 */
import { Analyzer, type AnalyzerOptions } from '../analysis/analyzer.js';
import type { RawPacket } from '../capture/raw-packet.js';
import { isAbnormal } from '../classify/labels.js';
import { SWEEP_INTERVAL_S } from '../conn/connection-table.js';
import type { ConnectionRecord } from '../classify/record.js';
import { TCP_RST } from '../decode/segment.js';
import type { LiveAlert } from './alerts.js';
import { CloseWaitWatcher } from './close-wait-watcher.js';
import { RstBurstDetector, type RstBurstOptions } from './rst-burst.js';
import { RotatingSavefile, type SavefileOptions } from './savefile.js';

export interface LiveSessionOptions {
  analyzer: AnalyzerOptions;
  /** null: no RST burst alerts. */
  rstBurst: RstBurstOptions | null;
  /** null: nothing saved. */
  savefile: SavefileOptions | null;
  /** Stop after this many frames (--count); null: no limit. */
  maxFrames: number | null;
}

export interface LiveSessionHooks {
  onRecord(record: ConnectionRecord): void;
  onAlert(alert: LiveAlert): void;
}

export class LiveSession {
  readonly analyzer: Analyzer;
  readonly savefile: RotatingSavefile | null;
  readonly closeWait: CloseWaitWatcher;
  readonly rsts: RstBurstDetector | null;
  /** Connections classified so far, and the abnormal ones among them. */
  endings = 0;
  abnormal = 0;
  alerts = 0;
  /** Connections with one end in CLOSE_WAIT at the last tick. */
  inCloseWait = 0;
  private finished = false;

  /** Opens the savefile (throws fs errors when it cannot be created). */
  constructor(
    private readonly opts: LiveSessionOptions,
    private readonly hooks: LiveSessionHooks,
  ) {
    this.analyzer = new Analyzer(opts.analyzer, (r) => this.record(r));
    this.closeWait = new CloseWaitWatcher(opts.analyzer.classifier.closeWaitThresholdS);
    this.rsts = opts.rstBurst === null ? null : new RstBurstDetector(opts.rstBurst);
    this.savefile = opts.savefile === null ? null : new RotatingSavefile(opts.savefile);
  }

  private record(r: ConnectionRecord): void {
    this.endings++;
    if (isAbnormal(r.ending)) this.abnormal++;
    this.hooks.onRecord(r);
  }

  private alert(a: LiveAlert): void {
    this.alerts++;
    this.hooks.onAlert(a);
  }

  /**
   * One captured frame: saved first, then analysed, so that its frame number is the same in both. Returns false
   * once --count frames have been taken (the caller stops the capture); later frames are ignored.
   */
  push(pkt: RawPacket): boolean {
    const max = this.opts.maxFrames;
    if (this.finished || (max !== null && this.analyzer.frames >= max)) return false;
    if (this.savefile !== null) this.savefile.write(pkt);
    const a = this.analyzer;
    const conn = a.ingest(pkt);
    if (this.rsts !== null && conn !== null && (a.segment.flags & TCP_RST) !== 0) {
      const alert = this.rsts.onRst(conn, conn.isFromServer(a.segment), conn.lastTime, a.frames);
      if (alert !== null) this.alert(alert);
    }
    return max === null || a.frames < max;
  }

  /**
   * The once-a-second work, at `nowSec`: the wall clock (the one frames are stamped with), less the time a frame
   * may take to be handed over, so that every frame stamped before it has been pushed (LiveSource.nowSeconds).
   */
  tick(nowSec: number): void {
    if (this.finished) return;
    // One sweep interval of margin: offline, a finished connection is swept at the first packet at least one
    // interval after the previous sweep, so live emits nothing that an offline analysis of the savefile would
    // still extend with a later packet.
    this.analyzer.table.sweepBefore(nowSec - SWEEP_INTERVAL_S);
    this.inCloseWait = this.closeWait.check(this.analyzer, nowSec, (a) => this.alert(a)).inCloseWait;
    if (this.rsts !== null) this.rsts.prune(nowSec);
    if (this.savefile !== null) this.savefile.flush();
  }

  /** Classifies every connection still held and closes the savefile. Safe to call twice. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.analyzer.finish();
    if (this.savefile !== null) this.savefile.end();
  }
}
