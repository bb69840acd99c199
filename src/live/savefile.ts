/**
 * `--write FILE [-C SIZE]`: the captured frames as a standard pcap (microseconds, the interface's link type), in
 * the order they went into the analyzer, so that frame N of the live records is frame N of the file, or of the
 * rotated files merged in time order.
 *
 * Rotation works like tcpdump -C: before a frame is written, if the current file is already larger than the
 * limit, it is closed and the next one opened; the files are FILE, FILE1, FILE2, … Each file is a complete pcap.
 *
 * `teardown analyze FILE*` merges the parts by timestamp, equal stamps going to the file named first — and the
 * shell names FILE10 before FILE2. So the first frame of a new part must be stamped later than every frame
 * before it: when it is not (two frames in the same microsecond, or a kernel stamp a little behind the one
 * before), its stamp is raised to one microsecond past the latest so far, in the RawPacket itself, before the
 * analyzer sees it, so the live records and the saved files still agree.
 */
import * as fs from 'node:fs';
import { PcapWriter } from '../capture/pcap-writer.js';
import type { RawPacket } from '../capture/raw-packet.js';

export interface SavefileOptions {
  path: string;
  linkType: number;
  snapLen: number;
  /** Start a new file once the current one is larger than this (bytes); null: one file. */
  rotateBytes: number | null;
}

const PCAP_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/** Small enough that a second's worth of frames on a quiet link is written out by the periodic flush. */
const WRITE_BUFFER_BYTES = 256 * 1024;

/** Name of the n-th file (0-based) of a rotated capture: FILE, FILE1, FILE2, … as tcpdump names them. */
export function rotatedName(base: string, n: number): string {
  return n === 0 ? base : `${base}${n}`;
}

/**
 * Parses a -C size: a number of millions of bytes (tcpdump's unit; fractions allowed), or with a suffix k, m, g
 * for KiB, MiB, GiB as tcpdump takes them. Returns bytes, or null when the text is not a size.
 */
export function parseFileSize(text: string | number): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$/.exec(String(text));
  if (m === null) return null;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const bytes = unit === 'k' ? n * 1024 : unit === 'm' ? n * 1024 * 1024 : unit === 'g' ? n * 1024 ** 3 : n * 1_000_000;
  return bytes >= 1 ? Math.floor(bytes) : null;
}

export class RotatingSavefile {
  /** Every file opened so far, in order. */
  readonly files: string[] = [];
  /** Frames written to all files. */
  frames = 0;
  /** Set when a write failed (disk full, …): nothing more is written. */
  error: Error | null = null;
  private writer: PcapWriter;
  private fd = -1;
  private fileBytes = 0;
  private ended = false;
  /** Latest stamp written so far, in microseconds since 1970 (exact in a double). */
  private maxUs = -1;
  /** First frames of a new part whose stamp was raised (see the top of this file). */
  raisedStamps = 0;

  /** Opens the first file; throws (fs errors) when it cannot be created. */
  constructor(private readonly opts: SavefileOptions) {
    this.writer = this.openFile(0);
  }

  private openFile(n: number): PcapWriter {
    const name = rotatedName(this.opts.path, n);
    const fd = fs.openSync(name, 'w');
    this.fd = fd;
    this.files.push(name);
    this.fileBytes = PCAP_HEADER_BYTES;
    return new PcapWriter({
      linkType: this.opts.linkType,
      snapLen: this.opts.snapLen,
      bufferSize: WRITE_BUFFER_BYTES,
      sink: (chunk) => this.sinkTo(fd, chunk),
    });
  }

  /** Writes a chunk synchronously; a failure is kept (and reported by the session), not thrown into the capture. */
  private sinkTo(fd: number, chunk: Buffer): void {
    if (this.error !== null) return;
    try {
      let off = 0;
      // writeSync may write less than asked; loop until the chunk is out.
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
    } catch (err) {
      this.error = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Appends one frame (rotating first when the current file is over the limit). */
  write(pkt: RawPacket): void {
    if (this.error !== null || this.ended) return;
    const limit = this.opts.rotateBytes;
    let us = pkt.tsSec * 1_000_000 + Math.floor(pkt.tsNs / 1000);
    if (limit !== null && this.fileBytes > limit) {
      this.rotate();
      // The next part could not be opened: the savefile stops here (its error goes in the summary).
      if (this.error !== null) return;
      if (us <= this.maxUs) {
        us = this.maxUs + 1;
        pkt.tsSec = Math.floor(us / 1_000_000);
        pkt.tsNs = (us - pkt.tsSec * 1_000_000) * 1000;
        this.raisedStamps++;
      }
    }
    if (us > this.maxUs) this.maxUs = us;
    this.writer.writePacketFrom(pkt.tsSec, pkt.tsNs, pkt.data, pkt.offset, pkt.capLen, pkt.origLen);
    this.fileBytes += RECORD_HEADER_BYTES + pkt.capLen;
    this.frames++;
  }

  private rotate(): void {
    this.closeCurrent();
    if (this.error !== null) return;
    try {
      this.writer = this.openFile(this.files.length);
    } catch (err) {
      this.error = err instanceof Error ? err : new Error(String(err));
    }
  }

  private closeCurrent(): void {
    this.writer.end();
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch (err) {
        this.error ??= err instanceof Error ? err : new Error(String(err));
      }
      this.fd = -1;
    }
  }

  /** Writes out what is buffered (the session does it every second, so the file is usable while capturing). */
  flush(): void {
    if (!this.ended && this.error === null) this.writer.flush();
  }

  /** Flushes and closes the current file. Safe to call twice. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.closeCurrent();
  }
}
