import { mergeReaders } from '../capture/merge.js';
import { openCapture, type OpenCaptureOptions } from '../capture/open-capture.js';
import { CaptureError } from '../capture/raw-packet.js';
import { NEED_MORE, type CaptureInfo, type CaptureReader } from '../capture/reader.js';
import type { ClassifiedConnection } from '../classify/classified.js';
import type { ConnectionRecord } from '../classify/record.js';
import type { CaptureFileSummary, RunSummary } from '../output/run-summary.js';
import { toSeconds } from '../conn/time.js';
import { Analyzer, type AnalyzerOptions } from './analyzer.js';
import { summarize } from './summary.js';

export interface RunHooks {
  /** Each connection's record, as soon as it is classified. Return false to ask the run to wait for drain(). */
  onRecord?: (record: ConnectionRecord) => boolean | void;
  /**
   * Instead of onRecord: each classified connection as a view (valid during the call) whose record is built only
   * if asked for — for consumers that mostly count.
   */
  onClassified?: (c: ClassifiedConnection) => boolean | void;
  /** Awaited at a chunk boundary after onRecord returned false (output backpressure). */
  drain?: () => Promise<void>;
  /** Called at chunk boundaries with the bytes read so far (for a progress bar). */
  onProgress?: (bytesRead: number, totalBytes: number | null, frames: number) => void;
}

export interface RunResult {
  summary: RunSummary;
  /** Files that could not be opened, and damage found while reading (everything before it was analysed). */
  errors: CaptureError[];
  /** Decoding problems by reason, with the first frames of each (for --verbose). */
  problems: Map<string, { count: number; frames: number[] }>;
}

/**
 * Reads capture files (or "-" for standard input), merged in timestamp order when there are several, through one
 * Analyzer. One pass, streaming: memory follows the connections open at once, not the size of the files.
 */
export async function analyzeCaptures(
  files: string[],
  opts: AnalyzerOptions,
  hooks: RunHooks,
  openOpts: OpenCaptureOptions = {},
): Promise<RunResult> {
  const captures = await openCaptures(files, openOpts);
  const { readers, errors, fileSummaries } = captures;

  let waitDrain = false;
  const onRecord = hooks.onRecord;
  const onClassified = hooks.onClassified;
  const analyzer = onRecord !== undefined
    ? new Analyzer(opts, (rec) => {
      if (onRecord(rec) === false) waitDrain = true;
    })
    : new Analyzer(opts, null, (c) => {
      if (onClassified?.(c) === false) waitDrain = true;
    });

  if (readers.length > 0) {
    const source = frameSource(captures);
    try {
      for (;;) {
        const p = source.next();
        if (p === null) break;
        if (p === NEED_MORE) {
          if (waitDrain && hooks.drain) {
            waitDrain = false;
            await hooks.drain();
          }
          if (hooks.onProgress) {
            const b = bytesOf(captures);
            hooks.onProgress(b.read, b.total, analyzer.frames);
          }
          await source.fill();
          continue;
        }
        analyzer.ingest(p);
      }
    } finally {
      for (const r of readers) r.close();
    }
  }
  analyzer.recordedEnd = Math.max(analyzer.recordedEnd, closeCaptures(files, captures));
  analyzer.finish();
  if (waitDrain && hooks.drain) await hooks.drain();

  const summary = summarize(analyzer, fileSummaries, opts.classifier);
  return { summary, errors, problems: analyzer.decoder.stats.problems };
}

/** The captures of a run, opened: the readers, and what is known of each file so far. */
export interface OpenedCaptures {
  readers: CaptureReader[];
  /** Index in fileSummaries of each reader's file. */
  readerOf: Map<CaptureReader, number>;
  /** Files that could not be opened; closeCaptures adds the damage found while reading. */
  errors: CaptureError[];
  fileSummaries: CaptureFileSummary[];
}

/** Opens every file of a run (a file that cannot be opened is an error of the run, not a failure). */
export async function openCaptures(files: string[], openOpts: OpenCaptureOptions = {}): Promise<OpenedCaptures> {
  const errors: CaptureError[] = [];
  const fileSummaries: CaptureFileSummary[] = [];
  const readers: CaptureReader[] = [];
  const readerOf = new Map<CaptureReader, number>();
  for (let i = 0; i < files.length; i++) {
    const name = files[i]!;
    try {
      const r = await openCapture(name, i, openOpts);
      readerOf.set(r, fileSummaries.length);
      readers.push(r);
    } catch (err) {
      const ce = err instanceof CaptureError ? err : new CaptureError(name, 0, String((err as Error)?.message ?? err));
      errors.push(ce);
    }
    fileSummaries.push(emptyFileSummary(name));
  }
  return { readers, readerOf, errors, fileSummaries };
}

/** The one source of a run's frames: the reader, or the readers merged in timestamp order. */
export function frameSource(c: OpenedCaptures): CaptureReader {
  return c.readers.length === 1 ? c.readers[0]! : mergeReaders(c.readers);
}

/** Adds each file's bytes read (for the progress line): read so far, and the total (null when unknown). */
export function bytesOf(c: OpenedCaptures): { read: number; total: number | null } {
  let read = 0;
  let total: number | null = 0;
  for (const r of c.readers) {
    read += r.info.bytesRead;
    total = total === null || r.info.totalBytes === null ? null : total + r.info.totalBytes;
  }
  return { read, total };
}

/**
 * After the last frame (the readers are closed): fills in each file's summary and the run's errors. Returns the
 * latest end a file recorded (pcapng isb_endtime), float seconds, or 0.
 */
export function closeCaptures(files: string[], c: OpenedCaptures): number {
  let recordedEnd = 0;
  for (const r of c.readers) {
    const idx = c.readerOf.get(r)!;
    if (r.error) c.errors.push(r.error);
    c.fileSummaries[idx] = fileSummary(r.info, r.error);
    if (r.info.endTimeSec !== null) recordedEnd = Math.max(recordedEnd, toSeconds(r.info.endTimeSec, r.info.endTimeNs));
  }
  for (const e of c.errors) {
    const i = files.indexOf(e.file);
    if (i >= 0 && c.fileSummaries[i]!.error === null) c.fileSummaries[i]!.error = e.message;
  }
  return recordedEnd;
}

function emptyFileSummary(name: string): CaptureFileSummary {
  return { name, format: 'unknown', frames: 0, bytes: 0, linkTypes: [], error: null, droppedByCapture: null, notes: [] };
}

function fileSummary(info: CaptureInfo, error: CaptureError | null): CaptureFileSummary {
  return {
    name: info.name,
    format: info.format,
    frames: info.frames,
    bytes: info.bytesRead,
    linkTypes: [...info.linkTypes],
    error: error ? error.message : null,
    droppedByCapture: info.droppedByCapture,
    notes: [...info.notes],
  };
}
