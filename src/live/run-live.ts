/**
 * `teardown live`: opens the interface, feeds every frame to a LiveSession, prints each connection's record as it
 * is classified and each alert as it fires, keeps a status line on a terminal, and stops on SIGINT/SIGTERM,
 * --duration or --count: capture closed, open connections classified, savefile closed, summary printed, status 0.
 */
import type { AnalyzerOptions } from '../analysis/analyzer.js';
import { LiveCaptureError } from '../capture/live-errors.js';
import { LiveSource, type LiveOpenOptions, type LiveStats } from '../capture/live-source.js';
import type { RawPacket } from '../capture/raw-packet.js';
import { isAbnormal } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { addToAbnormal, newAbnormalCollector, renderAbnormalList } from '../output/abnormal-list.js';
import { formatCount, plural, shouldUseColor } from '../output/format.js';
import { createNdjsonWriter } from '../output/json-output.js';
import { addToServiceTally, newServiceTally, renderServiceTable } from '../output/service-table.js';
import type { TextOut } from '../output/sink.js';
import { addToEndingTally, newEndingTally, renderCaptureHeader, renderSummaryTable } from '../output/summary-table.js';
import { alertToJson, alertToText, type LiveAlert } from './alerts.js';
import { liveRunSummary, recordLine } from './live-output.js';
import { LiveSession } from './live-session.js';
import type { RstBurstOptions } from './rst-burst.js';
import { StatusLine, statusText } from './status-line.js';

/** Exit statuses (as src/cli/exit-codes.ts): 0 stopped normally, 2 command line (interface, filter), 3 capture or I/O. */
const STATUS = { ok: 0, usage: 2, failed: 3 } as const;

export const LIVE_FORMATS = ['table', 'ndjson'] as const;
export type LiveFormat = (typeof LIVE_FORMATS)[number];

export interface LiveArgs {
  iface: string;
  filter: string;
  /** Savefile path, or null. */
  write: string | null;
  /** Rotate the savefile beyond this many bytes, or null. */
  fileSizeBytes: number | null;
  format: LiveFormat;
  only?: 'abnormal';
  analyzer: AnalyzerOptions;
  rstBurst: RstBurstOptions | null;
  /** Seconds, or null. */
  duration: number | null;
  count: number | null;
  bufferBytes: number;
  color: boolean | 'auto';
  ascii: boolean;
  /** Abnormal connections listed in the closing table. */
  limit: number;
}

export interface LiveIo {
  stdout: TextOut & { isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  env: Readonly<Record<string, string | undefined>>;
  /** Where SIGINT/SIGTERM come from (default: process). */
  signals?: { on(sig: 'SIGINT' | 'SIGTERM', fn: () => void): unknown; off(sig: 'SIGINT' | 'SIGTERM', fn: () => void): unknown };
}

/** What runLive needs of a capture source (LiveSource; a replay of recorded frames in tests). */
export interface LiveSourceLike {
  readonly linkType: number;
  readonly linkTypeName: string;
  readonly snapLen: number;
  stats(): LiveStats;
  close(): void;
  /**
   * Seconds since 1970 on the clock the frames are stamped with, up to which every frame has been handed over
   * (after drain()).
   */
  nowSeconds(): number;
  /** Hands over at once the frames the capture has ready (LiveSource; a replay has none waiting). */
  drain?(): void;
  /** Why capturing stopped by itself (the interface went down or away), or null. */
  readonly failure?: string | null;
  /** A warning from libpcap when the capture started (e.g. promiscuous mode not supported), or null. */
  readonly warning?: string | null;
}

export interface LiveDeps {
  open(opts: LiveOpenOptions, onPacket: (pkt: RawPacket) => void): LiveSourceLike;
  /** Milliseconds between ticks (default 1000). */
  tickMs?: number;
}

const DEFAULT_DEPS: LiveDeps = { open: (opts, onPacket) => LiveSource.open(opts, onPacket) };

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs a live session to its end; resolves to the exit status. Never throws for capture problems. */
export function runLive(a: LiveArgs, io: LiveIo, deps: LiveDeps = DEFAULT_DEPS): Promise<number> {
  const color = shouldUseColor(a.color, io.stdout.isTTY, io.env);
  const errColor = shouldUseColor(a.color, io.stderr.isTTY, io.env);
  const width = Math.max(60, Math.min(io.stdout.columns ?? 100, 160));
  const status = new StatusLine(io.stderr);
  const say = (line: string): void => status.print(`teardown: ${line}`);

  let session: LiveSession | null = null;
  let source: LiveSourceLike;
  let stopping = false;
  let tick: NodeJS.Timeout | null = null;
  let durationTimer: NodeJS.Timeout | null = null;
  try {
    source = deps.open({ iface: a.iface, filter: a.filter, bufferBytes: a.bufferBytes }, (pkt) => {
      if (session !== null && !session.push(pkt)) stop('count');
    });
  } catch (err) {
    if (err instanceof LiveCaptureError) {
      io.stderr.write(`teardown: ${err.describe()}\n`);
      return Promise.resolve(err.isUsage ? STATUS.usage : STATUS.failed);
    }
    io.stderr.write(`teardown: cannot capture on ${a.iface}: ${errorText(err)}\n`);
    return Promise.resolve(STATUS.failed);
  }

  // Output of records and alerts.
  const ndjson = a.format === 'ndjson' ? createNdjsonWriter(io.stdout) : null;
  const endings = newEndingTally();
  const services = newServiceTally();
  const abnormal = newAbnormalCollector(a.limit);
  const onRecord = (r: ConnectionRecord): void => {
    addToEndingTally(endings, r);
    addToServiceTally(services, r);
    addToAbnormal(abnormal, r);
    if (a.only === 'abnormal' && !isAbnormal(r.ending)) return;
    // Each record is one write: a pipe on Linux takes it at once (stdout writes to pipes and files are synchronous
    // there, so a slow reader holds the capture back rather than filling memory), and `| jq` sees it at once.
    status.around(() => {
      if (ndjson !== null) ndjson.write(r);
      else io.stdout.write(`${recordLine(r, { color, ascii: a.ascii })}\n`);
    });
  };
  const onAlert = (al: LiveAlert): void => {
    status.print(a.format === 'ndjson' ? alertToJson(al) : `teardown: ${alertToText(al, { color: errColor, ascii: a.ascii })}`);
  };

  try {
    session = new LiveSession(
      {
        analyzer: a.analyzer,
        rstBurst: a.rstBurst,
        savefile:
          a.write === null ? null : { path: a.write, linkType: source.linkType, snapLen: source.snapLen, rotateBytes: a.fileSizeBytes },
        maxFrames: a.count,
      },
      { onRecord, onAlert },
    );
  } catch (err) {
    source.close();
    io.stderr.write(`teardown: cannot write ${a.write ?? 'the savefile'}: ${errorText(err)}\n`);
    return Promise.resolve(STATUS.failed);
  }
  const s = session;
  const startedAt = source.nowSeconds();

  say(
    `capturing on ${a.iface} (link type ${source.linkTypeName}, ${source.linkType})` +
      (a.filter !== '' ? `, filter "${a.filter}"` : '') +
      (a.write !== null ? `, saving to ${a.write}${a.fileSizeBytes !== null ? ` (a new file past ${formatCount(a.fileSizeBytes)} bytes)` : ''}` : '') +
      (a.duration !== null ? `, for ${a.duration} s` : '') +
      (a.count !== null ? `, ${plural(a.count, 'packet')} at most` : '') +
      '; Ctrl-C stops',
  );
  if (source.warning) say(`libpcap: ${source.warning}`);

  const drawStatus = (): void => {
    const st = source.stats();
    status.show(
      statusText(
        {
          iface: a.iface,
          frames: s.analyzer.frames,
          dropped: st.dropped,
          active: s.analyzer.table.size,
          inCloseWait: s.inCloseWait,
          endings: s.endings,
          abnormal: s.abnormal,
          alerts: s.alerts,
          elapsedS: source.nowSeconds() - startedAt,
        },
        a.ascii,
      ),
    );
  };

  // An abrupt exit (process.exit elsewhere, e.g. on EPIPE) still leaves a complete savefile.
  const onExit = (): void => s.savefile?.end();
  process.on('exit', onExit);

  let exitStatus: number = STATUS.ok;
  let resolveRun: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    resolveRun = resolve;
  });

  const signals = io.signals ?? process;
  const onSignal = (): void => stop('signal');

  tick = setInterval(() => {
    // Frames libpcap holds are handed over first: the tick judges connections only by a time every frame up to
    // which has been seen (see LiveSource.nowSeconds).
    source.drain?.();
    if (stopping) return;
    if (source.failure) {
      say(`capturing on ${a.iface} failed: ${source.failure}; stopping`);
      exitStatus = STATUS.failed;
      stop('capture');
      return;
    }
    s.tick(source.nowSeconds());
    if (s.savefile?.error) {
      say(`writing ${s.savefile.files[s.savefile.files.length - 1] ?? a.write}: ${s.savefile.error.message}; stopping`);
      exitStatus = STATUS.failed;
      stop('savefile');
      return;
    }
    drawStatus();
  }, deps.tickMs ?? 1000);
  if (a.duration !== null) durationTimer = setTimeout(() => stop('duration'), a.duration * 1000);

  function stop(why: string): void {
    if (stopping) return;
    stopping = true;
    // What libpcap already holds is part of the capture (not from inside the packet callback: --count).
    if (why !== 'count') source.drain?.();
    source.close();
    if (tick !== null) clearInterval(tick);
    if (durationTimer !== null) clearTimeout(durationTimer);
    // Finish outside the capture's packet callback (--count stops from inside it).
    setImmediate(finishUp);
  }

  function finishUp(): void {
    s.finish();
    process.off('exit', onExit);
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    status.clear();
    const st = source.stats();
    const notes: string[] = [];
    const sf = s.savefile;
    if (sf !== null) notes.push(`saved to ${sf.files.join(', ')}`);
    const summary = liveRunSummary(s.analyzer, {
      iface: a.iface,
      linkType: source.linkType,
      bytes: st.bytes,
      dropped: st.dropped,
      closeWaitThresholdS: a.analyzer.classifier.closeWaitThresholdS,
      finTimeoutS: a.analyzer.classifier.finTimeoutS,
      notes,
    });
    // The closing tables: on standard output for the table format, on standard error for ndjson (whose standard
    // output carries records only).
    const tableColor = a.format === 'table' ? color : errColor;
    const out: string[] = [];
    out.push(renderCaptureHeader(summary, { color: tableColor, ascii: a.ascii, width }));
    out.push('', renderSummaryTable(endings, { color: tableColor, ascii: a.ascii }));
    if (services.services.size > 0) out.push('', renderServiceTable(services, { color: tableColor, ascii: a.ascii }));
    if (abnormal.total > 0) out.push('', renderAbnormalList(abnormal, { color: tableColor, ascii: a.ascii, width }));
    const text = `${out.join('\n')}\n`;
    if (a.format === 'table') io.stdout.write(`\n${text}`);
    else io.stderr.write(text);
    io.stderr.write(
      `teardown: ${plural(st.frames, 'packet')} captured, ` +
        `${st.dropped === null ? 'kernel drops not reported by the capture source' : `${formatCount(st.dropped)} dropped by the kernel`}` +
        (st.ifDropped !== null && st.ifDropped > 0 ? ` and ${formatCount(st.ifDropped)} by the interface` : '') +
        (sf !== null ? `; ${plural(sf.frames, 'frame')} saved to ${sf.files.join(', ')}` : '') +
        '\n',
    );
    if (sf?.error) {
      io.stderr.write(`teardown: the savefile is incomplete: ${sf.error.message}\n`);
      exitStatus = STATUS.failed;
    }
    const finish = ndjson !== null ? ndjson.finish(summary) : Promise.resolve();
    finish.then(
      () => resolveRun(exitStatus),
      (err: unknown) => {
        // The records could not all be written (stdout closed, disk full): say so, and fail.
        io.stderr.write(`teardown: writing the records failed: ${errorText(err)}\n`);
        resolveRun(STATUS.failed);
      },
    );
  }

  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  drawStatus();
  return done;
}
