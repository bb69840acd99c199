import type { CaptureError, RawPacket } from './raw-packet.js';

/** Returned by CaptureReader.next() when the reader must `await fill()` before it can yield the next frame. */
export const NEED_MORE = Symbol('need-more');
export type NextResult = RawPacket | null | typeof NEED_MORE;

/** Facts about one capture source, for the run's summary. */
export interface CaptureInfo {
  /** The path as the user gave it ("-" for standard input). */
  name: string;
  /** "pcap", "pcap-ns", "pcapng" (with "+gzip" when it was compressed). */
  format: string;
  /** Size of the file on disk, when known (not for stdin): for progress. */
  totalBytes: number | null;
  /** Bytes consumed so far from the file as stored (compressed bytes for gzip). */
  bytesRead: number;
  /** Frames yielded so far. */
  frames: number;
  /** Link types seen (per interface for pcapng). */
  linkTypes: number[];
  /** Largest capture end time recorded by a pcapng Interface Statistics Block (isb_endtime), or null. */
  endTimeSec: number | null;
  endTimeNs: number;
  /** Packets the capturing kernel/libpcap says it dropped (pcapng isb_ifdrop), or null when not recorded. */
  droppedByCapture: number | null;
  /** Non-fatal notes (unknown block types skipped, …), bounded in number. */
  notes: string[];
}

/**
 * A pull-based reader of one capture source (file, gzip file or standard input).
 *
 * next() is synchronous while bytes are buffered, so the hot loop makes no promise per packet; it returns
 * NEED_MORE only at a chunk boundary, where the caller awaits fill(). The RawPacket returned is reused by the
 * reader: valid until the next call. After a damaged record, next() returns null and `error` says where and why;
 * every frame before the damage has been yielded.
 */
export interface CaptureReader {
  readonly info: CaptureInfo;
  error: CaptureError | null;
  next(): NextResult;
  fill(): Promise<void>;
  close(): void;
}
