import type { ChunkSource } from './chunk-source.js';
import { FramedReader, More } from './framed-reader.js';
import { MAX_CAPLEN } from './limits.js';
import { CaptureError } from './raw-packet.js';
import { NEED_MORE, type NextResult } from './reader.js';
import type { SourceInfo } from './source-info.js';

/** Classic pcap magics as read big-endian from the first four bytes of the file. */
export const PCAP_MAGIC_US_BE = 0xa1b2c3d4;
export const PCAP_MAGIC_US_LE = 0xd4c3b2a1;
export const PCAP_MAGIC_NS_BE = 0xa1b23c4d;
export const PCAP_MAGIC_NS_LE = 0x4d3cb2a1;

export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

/** libpcap's LT_LINKTYPE(): the upper bits of the header's link type field carry FCS information. */
const LINKTYPE_MASK = 0xffff;

export function isPcapMagic(m: number): boolean {
  return m === PCAP_MAGIC_US_BE || m === PCAP_MAGIC_US_LE || m === PCAP_MAGIC_NS_BE || m === PCAP_MAGIC_NS_LE;
}

/**
 * Classic libpcap format (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html): a 24-byte file
 * header, then records of a 16-byte header and the captured bytes. Both byte orders, µs and ns magics.
 */
export class PcapReader extends FramedReader {
  private le = true;
  private nanos = false;
  private snapLen = 0;
  private frame = 0;

  constructor(
    source: ChunkSource,
    info: SourceInfo,
    sourceIndex: number,
    private readonly gzip: boolean,
  ) {
    super(source, info, sourceIndex);
  }

  /** Reads and checks the file header. Throws CaptureError: a bad header means this is no usable capture. */
  async readHeader(): Promise<void> {
    const name = this.info.name;
    if (!(await this.ensure(PCAP_FILE_HEADER_LEN))) {
      const have = this.end - this.pos;
      throw new CaptureError(name, 0, `truncated pcap file header: ${have} of ${PCAP_FILE_HEADER_LEN} bytes`);
    }
    const p = this.pos;
    const magic = this.buf.readUInt32BE(p);
    this.le = magic === PCAP_MAGIC_US_LE || magic === PCAP_MAGIC_NS_LE;
    this.nanos = magic === PCAP_MAGIC_NS_BE || magic === PCAP_MAGIC_NS_LE;
    const v = this.view;
    const major = v.getUint16(p + 4, this.le);
    const minor = v.getUint16(p + 6, this.le);
    // libpcap reads any 2.x file (2.2 and 2.3 differ only in details it fixes up); other majors are not pcap.
    if (major !== 2) throw new CaptureError(name, 4, `unsupported pcap version ${major}.${minor}`);
    this.snapLen = v.getUint32(p + 16, this.le);
    const linkType = v.getUint32(p + 20, this.le) & LINKTYPE_MASK;
    this.pos = p + PCAP_FILE_HEADER_LEN;

    this.info.format = (this.nanos ? 'pcap-ns' : 'pcap') + (this.gzip ? '+gzip' : '');
    this.info.linkTypes = [linkType];
    const pkt = this.pkt;
    pkt.linkType = linkType;
    pkt.tsDigits = this.nanos ? 9 : 6;
    pkt.interfaceId = 0;
  }

  next(): NextResult {
    if (this.done) return null;
    // Each pass either returns or makes the buffered bytes grow (more() copies or switches chunks), and the
    // input is finite, so the loop ends.
    for (;;) {
      const avail = this.end - this.pos;
      if (avail < PCAP_RECORD_HEADER_LEN) {
        const m = this.more(PCAP_RECORD_HEADER_LEN);
        if (m === More.Ready) continue;
        if (m === More.Wait) return NEED_MORE;
        if (avail === 0) return this.finish();
        return this.truncated(
          `truncated record header: the file ends ${avail} bytes into the ${PCAP_RECORD_HEADER_LEN}-byte header ` +
            `of frame ${this.frame + 1}`,
        );
      }
      const p = this.pos;
      const v = this.view;
      const le = this.le;
      const capLen = v.getUint32(p + 8, le);
      if (capLen > MAX_CAPLEN) {
        return this.damage(
          this.base + p,
          `absurd record length ${capLen} in the header of frame ${this.frame + 1} ` +
            `(limit ${MAX_CAPLEN} bytes): the file is damaged here`,
        );
      }
      const total = PCAP_RECORD_HEADER_LEN + capLen;
      if (avail < total) {
        const m = this.more(total);
        if (m === More.Ready) continue;
        if (m === More.Wait) return NEED_MORE;
        return this.truncated(
          `truncated record: frame ${this.frame + 1} declares ${capLen} captured bytes but the file ends ` +
            `after ${avail - PCAP_RECORD_HEADER_LEN}`,
        );
      }

      const pkt = this.pkt;
      let sec = v.getUint32(p, le);
      let frac = v.getUint32(p + 4, le);
      const fracLimit = this.nanos ? 1_000_000_000 : 1_000_000;
      if (frac >= fracLimit) {
        // Not a valid sub-second value. Carry it into the seconds so time stays monotonic, and say so.
        sec += Math.floor(frac / fracLimit);
        const raw = frac;
        frac %= fracLimit;
        if (!this.info.bump('frac')) {
          this.info.note('frac', `frame ${this.frame + 1}: sub-second field ${raw} is 1 s or more (carried into the seconds)`);
        }
      }
      const origLen = v.getUint32(p + 12, le);
      pkt.tsSec = sec;
      pkt.tsNs = this.nanos ? frac : frac * 1000;
      pkt.capLen = capLen;
      pkt.origLen = origLen;
      // Stored only when the chunk changed: a store of a new (young) buffer into the long-lived packet runs the
      // collector's write barrier, on every frame.
      if (pkt.data !== this.buf) pkt.data = this.buf;
      pkt.offset = p + PCAP_RECORD_HEADER_LEN;
      pkt.fileOffset = this.base + p;
      pkt.frame = ++this.frame;
      if (capLen > origLen && !this.info.bump('cap>orig')) {
        this.info.note('cap>orig', `frame ${this.frame}: captured length ${capLen} above the original length ${origLen}`);
      }
      if (capLen > this.snapLen && this.snapLen !== 0) {
        // libpcap reads such a record and cuts it to the snap length; Wireshark keeps it whole. The bytes are
        // real, so keep them all and say so.
        if (!this.info.bump('cap>snap')) {
          this.info.note(
            'cap>snap',
            `frame ${this.frame}: captured length ${capLen} above the file's snap length ${this.snapLen} (kept whole)`,
          );
        }
      }
      this.pos = p + total;
      this.info.frames = this.frame;
      return pkt;
    }
  }
}
