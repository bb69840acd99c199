import * as fs from 'node:fs';
import { MAX_CAPLEN } from './limits.js';
import { PCAP_FILE_HEADER_LEN, PCAP_MAGIC_NS_BE, PCAP_MAGIC_US_BE, PCAP_RECORD_HEADER_LEN } from './pcap-reader.js';

export interface PcapWriterOptions {
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds (a1b2c3d4). Default false. */
  nanosecond?: boolean;
  /** Write every field big-endian. Default false: little-endian, as tcpdump writes on x86 and ARM. */
  bigEndian?: boolean;
  /** LINKTYPE_* of every record. Default 1 (Ethernet). */
  linkType?: number;
  /** Snap length written in the file header. Default 262144. */
  snapLen?: number;
  /**
   * Receives the encoded bytes, a chunk at a time. The chunk is a view of the writer's buffer, reused after the
   * call returns: write it out synchronously (fs.writeSync) or copy it. Default: kept for toBuffer().
   */
  sink?: (chunk: Buffer) => void;
  /** Size of the write buffer. Default 1 MiB. */
  bufferSize?: number;
}

/**
 * Classic pcap writer (µs or ns, either byte order). Records are encoded into one reused buffer and handed to
 * the sink when it is full, so writing millions of packets allocates nothing per packet.
 */
export class PcapWriter {
  readonly nanosecond: boolean;
  readonly littleEndian: boolean;
  private buf: Buffer;
  private view: DataView;
  private pos = 0;
  private readonly sink: (chunk: Buffer) => void;
  private readonly kept: Buffer[] = [];
  private ended = false;

  constructor(opts: PcapWriterOptions = {}) {
    this.nanosecond = opts.nanosecond ?? false;
    this.littleEndian = !(opts.bigEndian ?? false);
    this.buf = Buffer.allocUnsafe(Math.max(opts.bufferSize ?? 1 << 20, PCAP_RECORD_HEADER_LEN + MAX_CAPLEN));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.sink = opts.sink ?? ((chunk) => this.kept.push(Buffer.from(chunk)));
    const v = this.view;
    const le = this.littleEndian;
    v.setUint32(0, this.nanosecond ? PCAP_MAGIC_NS_BE : PCAP_MAGIC_US_BE, le);
    v.setUint16(4, 2, le);
    v.setUint16(6, 4, le);
    v.setInt32(8, 0, le); // thiszone: always UTC
    v.setUint32(12, 0, le); // sigfigs: unused by every reader
    v.setUint32(16, opts.snapLen ?? MAX_CAPLEN, le);
    v.setUint32(20, opts.linkType ?? 1, le);
    this.pos = PCAP_FILE_HEADER_LEN;
  }

  /**
   * Appends one packet. `tsNs` is cut to microseconds in a µs file (whole seconds in it are carried over).
   * `origLen` defaults to the bytes given (pass a larger value for a snap-length-truncated frame).
   */
  writePacket(tsSec: number, tsNs: number, data: Uint8Array, origLen: number = data.length): void {
    this.writePacketFrom(tsSec, tsNs, data, 0, data.length, origLen);
  }

  /** writePacket for the bytes data[offset, offset + capLen): no view of them is made (a capture's hot path). */
  writePacketFrom(tsSec: number, tsNs: number, data: Uint8Array, offset: number, capLen: number, origLen: number): void {
    if (tsNs >= 1_000_000_000) {
      tsSec += Math.floor(tsNs / 1_000_000_000);
      tsNs %= 1_000_000_000;
    }
    this.writeRecordFrom(tsSec, this.nanosecond ? tsNs : Math.floor(tsNs / 1000), capLen, origLen, data, offset, capLen);
  }

  /**
   * Appends a record with its header fields exactly as given, e.g. a sub-second field out of range or a
   * captured length that disagrees with the bytes, for tests of damaged files. `data` is written as is.
   */
  writeRecord(tsSec: number, tsFrac: number, capLenField: number, origLenField: number, data: Uint8Array): void {
    this.writeRecordFrom(tsSec, tsFrac, capLenField, origLenField, data, 0, data.length);
  }

  private writeRecordFrom(
    tsSec: number,
    tsFrac: number,
    capLenField: number,
    origLenField: number,
    data: Uint8Array,
    offset: number,
    length: number,
  ): void {
    if (this.ended) throw new Error('PcapWriter: write after end()');
    const need = PCAP_RECORD_HEADER_LEN + length;
    if (this.pos + need > this.buf.length) this.flush();
    if (need > this.buf.length) {
      this.buf = Buffer.allocUnsafe(need);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    }
    const v = this.view;
    const le = this.littleEndian;
    const p = this.pos;
    v.setUint32(p, tsSec >>> 0, le);
    v.setUint32(p + 4, tsFrac >>> 0, le);
    v.setUint32(p + 8, capLenField >>> 0, le);
    v.setUint32(p + 12, origLenField >>> 0, le);
    // Buffer's copy takes a range of any Uint8Array without making a view of it.
    Buffer.prototype.copy.call(data, this.buf, p + PCAP_RECORD_HEADER_LEN, offset, offset + length);
    this.pos = p + need;
  }

  /** Hands the buffered bytes to the sink. */
  flush(): void {
    if (this.pos === 0) return;
    this.sink(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
  }

  /** Everything written so far, when no sink was given. */
  toBuffer(): Buffer {
    this.flush();
    return Buffer.concat(this.kept);
  }
}

/** A PcapWriter whose sink is a file, written synchronously. Call end() to flush and close it. */
export class PcapFileWriter extends PcapWriter {
  private readonly fd: number;
  private closed = false;

  constructor(path: string, opts: Omit<PcapWriterOptions, 'sink'> = {}) {
    const fd = fs.openSync(path, 'w');
    super({
      ...opts,
      sink: (chunk) => {
        let off = 0;
        // writeSync may write less than asked (pipes); loop until the chunk is out.
        while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
      },
    });
    this.fd = fd;
  }

  override end(): void {
    super.end();
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
