/**
 * The writable the machine-readable outputs write to, and the record sink they offer to the pipeline.
 *
 * Records are written as they come, never collected: write() hands one record's text to the stream at once
 * and reports the stream's backpressure, like Writable.write. A caller that gets false awaits drain() before
 * the next record (once per chunk of records, not per packet).
 */
import type { ConnectionRecord } from '../classify/record.js';
import type { RunSummary } from './run-summary.js';

/** The part of a Node Writable the writers use (process.stdout, fs.WriteStream, a PassThrough in tests). */
export interface TextOut {
  write(chunk: string, callback?: (error?: Error | null) => void): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface RecordSink {
  /** Writes one record. Returns false when the stream's buffer is full: await drain() before writing more. */
  write(record: ConnectionRecord): boolean;
  /** Resolves when the stream can take more (at once if it already can). */
  drain(): Promise<void>;
  /**
   * Writes whatever closes the document (the JSON `summary`, the closing brackets) and resolves once the stream
   * has accepted everything. It does not end the stream: process.stdout must stay open.
   */
  finish(summary: RunSummary): Promise<void>;
}

/** Tracks backpressure for one stream. */
export class StreamWriter {
  /** Set while the stream's buffer is full; resolves on its 'drain' event (listened for at once, never missed). */
  private pending: Promise<void> | null = null;

  constructor(private readonly out: TextOut) {}

  /** Writes text; returns false when the caller should wait for drain(). */
  write(text: string): boolean {
    const ok = this.out.write(text);
    if (!ok && this.pending === null) {
      this.pending = new Promise((resolve) => {
        this.out.once('drain', () => {
          this.pending = null;
          resolve();
        });
      });
    }
    return ok;
  }

  drain(): Promise<void> {
    return this.pending ?? Promise.resolve();
  }

  /** Writes the last text and resolves when the stream has handled it (rejects on a write error). */
  flush(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }
}
