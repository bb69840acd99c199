import type { ChunkSource } from './chunk-source.js';
import { FramedReader, More } from './framed-reader.js';
import { MAX_CAPLEN, MAX_PCAPNG_BLOCK } from './limits.js';
import { CaptureError } from './raw-packet.js';
import { NEED_MORE, type NextResult } from './reader.js';
import type { SourceInfo } from './source-info.js';

/** Block types (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html, section 10.1). */
export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  /** Obsolete Packet Block (pcapng 1.0 drafts); still written by old tools. */
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  IRIG: 0x00000007,
  ARINC429: 0x00000008,
  JOURNAL: 0x00000009,
  DSB: 0x0000000a,
  CUSTOM: 0x00000bad,
  CUSTOM_NO_COPY: 0x40000bad,
  SYSDIG_EVENT: 0x00000204,
  SYSDIG_EVENT_V2: 0x00000216,
  SYSDIG_EVENT_V2_LARGE: 0x00000221,
} as const;

export const PCAPNG_MAGIC = BlockType.SHB;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const ISB_ENDTIME = 3;
const ISB_IFDROP = 5;

/** Smallest well-formed block of each type, header and trailer included. */
const MIN_BLOCK = 12;
const MIN_SHB = 28;
const MIN_IDB = 20;
const MIN_EPB = 32;
const MIN_PB = 32;
const MIN_SPB = 16;
const MIN_ISB = 24;

const TWO_POW_32 = 4294967296;

export function blockName(type: number): string {
  switch (type) {
    case BlockType.SHB:
      return 'Section Header Block';
    case BlockType.IDB:
      return 'Interface Description Block';
    case BlockType.PB:
      return 'Packet Block';
    case BlockType.SPB:
      return 'Simple Packet Block';
    case BlockType.NRB:
      return 'Name Resolution Block';
    case BlockType.ISB:
      return 'Interface Statistics Block';
    case BlockType.EPB:
      return 'Enhanced Packet Block';
    case BlockType.DSB:
      return 'Decryption Secrets Block';
    case BlockType.CUSTOM:
    case BlockType.CUSTOM_NO_COPY:
      return 'Custom Block';
    case BlockType.JOURNAL:
      return 'systemd Journal Export Block';
    case BlockType.SYSDIG_EVENT:
    case BlockType.SYSDIG_EVENT_V2:
    case BlockType.SYSDIG_EVENT_V2_LARGE:
      return 'Sysdig Event Block';
    default:
      return `block of type 0x${type.toString(16).padStart(8, '0')}`;
  }
}

/**
 * One interface of the current section, with its timestamp unit prepared once so that converting a packet's
 * 64-bit tick count to (seconds, nanoseconds) is exact and needs no allocation (see ticksToTime).
 */
export class PcapngInterface {
  /** Ticks per second, exact as a number whenever `fast` is true. */
  readonly unitsPerSec: number;
  readonly bigUnits: bigint;
  /** True when the three-step division below is exact for every 64-bit tick count (units ≤ 2^36). */
  readonly fast: boolean;
  readonly pow2: boolean;
  /** Power-of-10 units of 10^-n with n ≤ 9: ns = remainder × nsMul. */
  readonly nsMul: number;
  /** Power-of-10 units finer than 1 ns: ns = floor(remainder / nsDiv). */
  readonly nsDiv: number;
  /** Power-of-2 units: ns = floor(remainder × 1953125 × pow2Scale), with 10^9 = 2^9 × 1953125. */
  readonly pow2Scale: number;
  readonly tsDigits: number;
  /** Last isb_ifdrop reported for this interface (counters are cumulative), or -1. */
  ifDrop = -1;

  constructor(
    readonly linkType: number,
    readonly snapLen: number,
    /** Raw if_tsresol byte: bit 7 set = 2^-n, clear = 10^-n. */
    readonly tsresol: number,
    /** if_tsoffset: seconds to add to every timestamp. */
    readonly tsOffset: number,
  ) {
    const exp = tsresol & 0x7f;
    this.pow2 = (tsresol & 0x80) !== 0;
    this.bigUnits = this.pow2 ? 1n << BigInt(exp) : 10n ** BigInt(exp);
    this.unitsPerSec = Number(this.bigUnits);
    this.fast = this.pow2 ? exp <= 32 : exp <= 10;
    this.nsMul = !this.pow2 && exp <= 9 ? 10 ** (9 - exp) : 0;
    this.nsDiv = !this.pow2 && exp > 9 ? 10 ** (exp - 9) : 0;
    this.pow2Scale = this.pow2 ? 2 ** (9 - exp) : 0;
    // Decimal digits needed to tell two ticks apart, at most 9 (our timestamps stop at the nanosecond).
    // Wireshark shows one digit fewer for power-of-2 units (it never shows more digits than are exact).
    this.tsDigits = this.pow2 ? Math.min(9, Math.ceil(exp * Math.log10(2))) : Math.min(9, exp);
  }
}

/** Output of ticksToTime, reused. */
export interface TimeOut {
  tsSec: number;
  tsNs: number;
}

/**
 * Converts a 64-bit tick count (high and low 32-bit words) on interface `ifc` to seconds and nanoseconds, as
 * Wireshark does: seconds = ticks / units, ns = (ticks % units) × 10^9 / units (rounded down), plus if_tsoffset.
 *
 * Nanosecond tick counts since 1970 (~1.7e18) do not fit a double exactly, so the division is done in three
 * exact steps of 32, 16 and 16 bits; each partial dividend stays below 2^53 while units ≤ 2^36. Rarer units
 * (finer than 10^-10 s or 2^-32 s) take a BigInt path.
 */
/** 1990-01-01: a capture time before it is a unit mistake, not a real capture. */
const PLAUSIBLE_EPOCH_S = 631_152_000;

export function ticksToTime(ifc: PcapngInterface, hi: number, lo: number, out: TimeOut): void {
  if (!ifc.fast) {
    const t = (BigInt(hi) << 32n) | BigInt(lo);
    const u = ifc.bigUnits;
    out.tsSec = Number(t / u) + ifc.tsOffset;
    out.tsNs = Number(((t % u) * 1_000_000_000n) / u);
    return;
  }
  const d = ifc.unitsPerSec;
  if (hi < 0x100000) {
    // Below 2^52 ticks (all µs timestamps of this era) one exact division does it.
    const t = hi * TWO_POW_32 + lo;
    let q = Math.floor(t / d);
    let r = t - q * d;
    if (r < 0) {
      q--;
      r += d;
    } else if (r >= d) {
      q++;
      r -= d;
    }
    out.tsSec = q + ifc.tsOffset;
    out.tsNs = subSecondNs(ifc, r);
    return;
  }
  // Math.floor of a rounded quotient can be one too high (or low) near an integer; the remainder shows it.
  let q1 = Math.floor(hi / d);
  let r1 = hi - q1 * d;
  if (r1 < 0) {
    q1--;
    r1 += d;
  } else if (r1 >= d) {
    q1++;
    r1 -= d;
  }
  const x = r1 * 65536 + (lo >>> 16);
  let q2 = Math.floor(x / d);
  let r2 = x - q2 * d;
  if (r2 < 0) {
    q2--;
    r2 += d;
  } else if (r2 >= d) {
    q2++;
    r2 -= d;
  }
  const y = r2 * 65536 + (lo & 0xffff);
  let q3 = Math.floor(y / d);
  let r3 = y - q3 * d;
  if (r3 < 0) {
    q3--;
    r3 += d;
  } else if (r3 >= d) {
    q3++;
    r3 -= d;
  }
  out.tsSec = q1 * TWO_POW_32 + q2 * 65536 + q3 + ifc.tsOffset;
  out.tsNs = subSecondNs(ifc, r3);
}

/** Nanoseconds in `r` ticks (r < units per second), rounded down; exact for the `fast` units. */
function subSecondNs(ifc: PcapngInterface, r: number): number {
  if (ifc.nsMul !== 0) return r * ifc.nsMul;
  if (ifc.pow2) return Math.floor(r * 1953125 * ifc.pow2Scale);
  return Math.floor(r / ifc.nsDiv);
}

/**
 * pcapng: any number of sections, each with its own byte order and interfaces; packets from Enhanced,
 * Simple and obsolete Packet Blocks. Frames are numbered as Wireshark numbers them: in file order across
 * sections, every packet block counts, and so do the few non-packet records Wireshark also lists as frames
 * (Custom, systemd Journal Export and Sysdig Event Blocks), which are skipped here.
 */
export class PcapngReader extends FramedReader {
  private le = true;
  private ifaces: PcapngInterface[] = [];
  /** Wireshark's frame number of the last record (packet or not). */
  private frame = 0;
  /** Packets yielded (info.frames). */
  private packets = 0;
  private dropTotal = 0;
  private lastSec = 0;
  private lastNs = 0;
  private readonly endTime: TimeOut = { tsSec: 0, tsNs: 0 };

  constructor(
    source: ChunkSource,
    info: SourceInfo,
    sourceIndex: number,
    gzip: boolean,
  ) {
    super(source, info, sourceIndex);
    info.format = gzip ? 'pcapng+gzip' : 'pcapng';
  }

  /** Reads the first Section Header Block. Throws CaptureError: without it this is no usable capture. */
  async readHeader(): Promise<void> {
    const name = this.info.name;
    if (!(await this.ensure(MIN_BLOCK))) {
      throw new CaptureError(name, 0, `truncated pcapng Section Header Block: ${this.end - this.pos} of at least ${MIN_SHB} bytes`);
    }
    const le = this.byteOrderAt(this.pos);
    if (le === null) throw new CaptureError(name, 8, this.badByteOrder(this.pos));
    const len = this.view.getUint32(this.pos + 4, le);
    const bad = this.lengthProblem(BlockType.SHB, len);
    if (bad !== null) throw new CaptureError(name, 0, bad);
    if (!(await this.ensure(len))) {
      throw new CaptureError(name, 0, `truncated pcapng Section Header Block: ${this.end - this.pos} of ${len} bytes`);
    }
    const trailer = this.view.getUint32(this.pos + len - 4, le);
    if (trailer !== len) {
      throw new CaptureError(name, 0, `Section Header Block length ${len} disagrees with its trailing copy ${trailer}`);
    }
    if (!this.block(BlockType.SHB, this.pos, len, le)) throw this.error ?? new CaptureError(name, 0, 'bad Section Header Block');
    this.pos += len;
  }

  next(): NextResult {
    if (this.done) return null;
    // Each pass consumes one block, makes the buffered bytes grow, or returns; the input is finite.
    for (;;) {
      const avail = this.end - this.pos;
      if (avail < MIN_BLOCK) {
        const m = this.more(MIN_BLOCK);
        if (m === More.Ready) continue;
        if (m === More.Wait) return NEED_MORE;
        if (avail === 0) return this.finish();
        return this.truncated(`truncated block: the file ends ${avail} bytes into a block header`);
      }
      const p = this.pos;
      const v = this.view;
      const type = v.getUint32(p, this.le);
      let le = this.le;
      if (type === BlockType.SHB) {
        // A new section may switch byte order: its length is readable only after its byte-order magic.
        const order = this.byteOrderAt(p);
        if (order === null) return this.damage(this.base + p + 8, this.badByteOrder(p));
        le = order;
      }
      const len = v.getUint32(p + 4, le);
      const bad = this.lengthProblem(type, len);
      if (bad !== null) return this.damage(this.base + p, bad);
      if (avail < len) {
        const m = this.more(len);
        if (m === More.Ready) continue;
        if (m === More.Wait) return NEED_MORE;
        return this.truncated(`truncated block: ${blockName(type)} of ${len} bytes, but the file ends after ${avail}`);
      }
      const trailer = v.getUint32(p + len - 4, le);
      if (trailer !== len) {
        return this.damage(
          this.base + p,
          `${blockName(type)} length ${len} disagrees with its trailing copy ${trailer}: the file is damaged here`,
        );
      }
      if (type === BlockType.EPB) return this.packet(type, p, len, MIN_EPB);
      if (type === BlockType.SPB) return this.simplePacket(p, len);
      if (type === BlockType.PB) return this.packet(type, p, len, MIN_PB);
      if (!this.block(type, p, len, le)) return null;
      this.pos = p + len;
    }
  }

  /**
   * EPB and obsolete PB share a layout: interface id (32 bits in an EPB; 16 bits, then a 16-bit drop count, in
   * a PB), timestamp high and low words, captured length, original length, data from byte 28.
   */
  private packet(type: number, p: number, len: number, minLen: number): NextResult {
    if (len < minLen) return this.damage(this.base + p, `${blockName(type)} too short: ${len} bytes`);
    const ifId = type === BlockType.EPB ? this.view.getUint32(p + 8, this.le) : this.view.getUint16(p + 8, this.le);
    const ifc = this.ifaces[ifId];
    if (ifc === undefined) {
      return this.damage(
        this.base + p,
        `${blockName(type)} names interface ${ifId}, but this section has ${this.ifaces.length} ` +
          `Interface Description Block(s)`,
      );
    }
    const v = this.view;
    const le = this.le;
    const capLen = v.getUint32(p + 20, le);
    if (capLen > MAX_CAPLEN) {
      return this.damage(
        this.base + p,
        `absurd captured length ${capLen} in the ${blockName(type)} of frame ${this.frame + 1} ` +
          `(limit ${MAX_CAPLEN} bytes): the file is damaged here`,
      );
    }
    if (28 + ((capLen + 3) & ~3) + 4 > len) {
      return this.damage(
        this.base + p,
        `${blockName(type)} of ${len} bytes cannot hold its ${capLen} captured bytes: the file is damaged here`,
      );
    }
    const pkt = this.pkt;
    ticksToTime(ifc, v.getUint32(p + 12, le), v.getUint32(p + 16, le), pkt);
    pkt.capLen = capLen;
    pkt.origLen = v.getUint32(p + 24, le);
    pkt.offset = p + 28;
    pkt.linkType = ifc.linkType;
    pkt.tsDigits = ifc.tsDigits;
    pkt.interfaceId = ifId;
    if (capLen > pkt.origLen && !this.info.bump('cap>orig')) {
      this.info.note('cap>orig', `frame ${this.frame + 1}: captured length ${capLen} above the original length ${pkt.origLen}`);
    }
    return this.yieldPacket(p, len);
  }

  /**
   * SPB: no interface id (always interface 0), no timestamp, captured length = min(original length, snap length).
   * Wireshark shows such frames at time 0; we give them the previous frame's time so that a capture mixing
   * block types keeps moving forward in time (noted).
   */
  private simplePacket(p: number, len: number): NextResult {
    if (len < MIN_SPB) return this.damage(this.base + p, `Simple Packet Block too short: ${len} bytes`);
    const ifc = this.ifaces[0];
    if (ifc === undefined) {
      return this.damage(this.base + p, 'Simple Packet Block before any Interface Description Block in this section');
    }
    const origLen = this.view.getUint32(p + 8, this.le);
    const capLen = ifc.snapLen !== 0 && origLen > ifc.snapLen ? ifc.snapLen : origLen;
    if (capLen > MAX_CAPLEN) {
      return this.damage(
        this.base + p,
        `absurd packet length ${capLen} in the Simple Packet Block of frame ${this.frame + 1} ` +
          `(limit ${MAX_CAPLEN} bytes): the file is damaged here`,
      );
    }
    if (12 + ((capLen + 3) & ~3) + 4 > len) {
      return this.damage(
        this.base + p,
        `Simple Packet Block of ${len} bytes cannot hold its ${capLen} packet bytes: the file is damaged here`,
      );
    }
    const pkt = this.pkt;
    pkt.tsSec = this.lastSec;
    pkt.tsNs = this.lastNs;
    pkt.capLen = capLen;
    pkt.origLen = origLen;
    pkt.offset = p + 12;
    pkt.linkType = ifc.linkType;
    pkt.tsDigits = ifc.tsDigits;
    pkt.interfaceId = 0;
    if (!this.info.bump('spb')) {
      this.info.note('spb', `frame ${this.frame + 1}: Simple Packet Blocks carry no timestamp (given the previous frame's time)`);
    }
    return this.yieldPacket(p, len);
  }

  private yieldPacket(p: number, len: number): NextResult {
    const pkt = this.pkt;
    // Stored only when the chunk changed (the write barrier, see PcapReader.next).
    if (pkt.data !== this.buf) pkt.data = this.buf;
    pkt.fileOffset = this.base + p;
    pkt.frame = ++this.frame;
    this.lastSec = pkt.tsSec;
    this.lastNs = pkt.tsNs;
    this.pos = p + len;
    this.info.frames = ++this.packets;
    return pkt;
  }

  /** Every block other than a packet. False = damage (already recorded). */
  private block(type: number, p: number, len: number, le: boolean): boolean {
    switch (type) {
      case BlockType.SHB:
        return this.sectionHeader(p, len, le);
      case BlockType.IDB:
        return this.interfaceDescription(p, len);
      case BlockType.ISB:
        return this.interfaceStatistics(p, len);
      case BlockType.CUSTOM:
      case BlockType.CUSTOM_NO_COPY:
      case BlockType.JOURNAL:
      case BlockType.SYSDIG_EVENT:
      case BlockType.SYSDIG_EVENT_V2:
      case BlockType.SYSDIG_EVENT_V2_LARGE:
        // Wireshark shows these records as frames of their own (checked with tshark 4.0), so they take a frame
        // number to keep ours equal to Wireshark's; they carry no packet and are not yielded.
        this.frame++;
        if (!this.info.bump('non-packet')) {
          this.info.note('non-packet', `frame ${this.frame}: ${blockName(type)} is a frame in Wireshark's numbering but no packet (skipped)`);
        }
        return true;
      case BlockType.NRB:
      case BlockType.DSB:
      case BlockType.IRIG:
      case BlockType.ARINC429:
        // Known blocks that carry nothing a TCP analysis needs (names, keys, timing sources).
        return true;
      default:
        if (!this.info.bump(`block:${type}`)) {
          this.info.note(`block:${type}`, `skipped unknown ${blockName(type)} at byte ${this.base + p}`);
        }
        return true;
    }
  }

  private sectionHeader(p: number, len: number, le: boolean): boolean {
    if (len < MIN_SHB) return this.fail(this.base + p, `Section Header Block too short: ${len} bytes`);
    const major = this.view.getUint16(p + 12, le);
    const minor = this.view.getUint16(p + 14, le);
    if (major !== 1) return this.fail(this.base + p, `unsupported pcapng version ${major}.${minor}`);
    // Interfaces are numbered per section: a new section forgets the previous one's.
    this.le = le;
    this.ifaces = [];
    return true;
  }

  private interfaceDescription(p: number, len: number): boolean {
    if (len < MIN_IDB) return this.fail(this.base + p, `Interface Description Block too short: ${len} bytes`);
    const v = this.view;
    const le = this.le;
    const linkType = v.getUint16(p + 8, le);
    const snapLen = v.getUint32(p + 12, le);
    let tsresol = 6;
    let tsOffset = 0;
    const stop = p + len - 4;
    // Options are at least 4 bytes each, so this walk is bounded by the block length.
    for (let o = p + 16; o + 4 <= stop; ) {
      const code = v.getUint16(o, le);
      const olen = v.getUint16(o + 2, le);
      if (code === 0) break;
      if (o + 4 + olen > stop) {
        // Every later timestamp depends on these options: a broken option area is damage, not a detail.
        return this.fail(this.base + p, `option ${code} of an Interface Description Block runs past the block end`);
      }
      if (code === IF_TSRESOL && olen >= 1) tsresol = this.buf[o + 4]!;
      else if (code === IF_TSOFFSET && olen >= 8) tsOffset = Number(v.getBigInt64(o + 4, le));
      o += 4 + ((olen + 3) & ~3);
    }
    const exp = tsresol & 0x7f;
    if ((tsresol & 0x80) !== 0 ? exp > 63 : exp > 19) {
      // Same limits as Wireshark: a tick count of such units overflows 64 bits within two seconds of 1970.
      return this.fail(this.base + p, `unsupported if_tsresol 0x${tsresol.toString(16)}`);
    }
    this.ifaces.push(new PcapngInterface(linkType, snapLen, tsresol, tsOffset));
    this.info.linkTypes.push(linkType);
    return true;
  }

  private interfaceStatistics(p: number, len: number): boolean {
    if (len < MIN_ISB) return this.fail(this.base + p, `Interface Statistics Block too short: ${len} bytes`);
    const v = this.view;
    const le = this.le;
    const ifId = v.getUint32(p + 8, le);
    const ifc = this.ifaces[ifId];
    if (ifc === undefined) {
      if (!this.info.bump('isb-if')) this.info.note('isb-if', `Interface Statistics Block for unknown interface ${ifId} ignored`);
      return true;
    }
    const stop = p + len - 4;
    for (let o = p + 20; o + 4 <= stop; ) {
      const code = v.getUint16(o, le);
      const olen = v.getUint16(o + 2, le);
      if (code === 0) break;
      if (o + 4 + olen > stop) {
        // Statistics are a summary detail: keep reading packets, but say the block was odd.
        if (!this.info.bump('isb-opt')) this.info.note('isb-opt', `malformed option in an Interface Statistics Block at byte ${this.base + p}`);
        break;
      }
      if (code === ISB_ENDTIME && olen === 8) {
        // Timestamps in options are two 32-bit words, high first, like the packet timestamps.
        const hi = v.getUint32(o + 4, le);
        const lo = v.getUint32(o + 8, le);
        ticksToTime(ifc, hi, lo, this.endTime);
        const t = this.endTime;
        // dumpcap (4.0) writes isb_starttime/isb_endtime in microseconds whatever the interface's if_tsresol.
        // Read at a finer resolution they land decades before any packet; read as microseconds they are right.
        if (t.tsSec - ifc.tsOffset < PLAUSIBLE_EPOCH_S && (hi * TWO_POW_32 + lo) / 1e6 >= PLAUSIBLE_EPOCH_S) {
          const us = hi * TWO_POW_32 + lo;
          t.tsSec = Math.floor(us / 1e6) + ifc.tsOffset;
          t.tsNs = (us % 1e6) * 1000;
          if (!this.info.bump('isb-us')) this.info.note('isb-us', 'Interface Statistics Block times read as microseconds (as dumpcap writes them)');
        }
        const info = this.info;
        if (info.endTimeSec === null || t.tsSec > info.endTimeSec || (t.tsSec === info.endTimeSec && t.tsNs > info.endTimeNs)) {
          info.endTimeSec = t.tsSec;
          info.endTimeNs = t.tsNs;
        }
      } else if (code === ISB_IFDROP && olen === 8) {
        // Counters are cumulative per interface: keep the latest per interface, report the sum.
        const drops = Number(v.getBigUint64(o + 4, le));
        this.dropTotal += drops - (ifc.ifDrop < 0 ? 0 : ifc.ifDrop);
        ifc.ifDrop = drops;
        this.info.droppedByCapture = this.dropTotal;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    return true;
  }

  private fail(offset: number, reason: string): false {
    this.damage(offset, reason);
    return false;
  }

  /** Byte order of the section whose SHB starts at `p`, from its byte-order magic; null when it is neither. */
  private byteOrderAt(p: number): boolean | null {
    const bom = this.view.getUint32(p + 8, true);
    if (bom === BYTE_ORDER_MAGIC) return true;
    if (bom === BYTE_ORDER_MAGIC_SWAPPED) return false;
    return null;
  }

  private badByteOrder(p: number): string {
    const bom = this.buf.readUInt32BE(p + 8);
    return `Section Header Block with a bad byte-order magic 0x${bom.toString(16).padStart(8, '0')}`;
  }

  private lengthProblem(type: number, len: number): string | null {
    if (len < MIN_BLOCK) return `${blockName(type)} length ${len} is below the ${MIN_BLOCK}-byte minimum: the file is damaged here`;
    if (len > MAX_PCAPNG_BLOCK) {
      return `absurd ${blockName(type)} length ${len} (limit ${MAX_PCAPNG_BLOCK} bytes): the file is damaged here`;
    }
    if ((len & 3) !== 0) return `${blockName(type)} length ${len} is not a multiple of 4: the file is damaged here`;
    return null;
  }
}
