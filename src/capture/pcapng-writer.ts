import { BlockType } from './pcapng-reader.js';

/** A timestamp: raw ticks of the interface's unit, or seconds and nanoseconds (converted, rounded down). */
export type PcapngTime = bigint | { sec: number; ns: number };

export interface PcapngInterfaceOptions {
  /** LINKTYPE_* value. Default 1 (Ethernet). */
  linkType?: number;
  /** Default 262144; 0 means "no limit". */
  snapLen?: number;
  /** Raw if_tsresol byte: bit 7 set = 2^-n seconds, clear = 10^-n. Omitted = no option = microseconds. */
  tsresol?: number;
  /** if_tsoffset, seconds added by readers to every timestamp (may be negative). Omitted = no option. */
  tsoffset?: number | bigint;
  /** if_name option. */
  name?: string;
}

export interface PcapngStatisticsOptions {
  startTime?: PcapngTime;
  endTime?: PcapngTime;
  ifRecv?: number | bigint;
  ifDrop?: number | bigint;
}

/** Lengths to write instead of the right ones, to build damaged files in tests. */
export interface BlockOverrides {
  totalLength?: number;
  trailingLength?: number;
}

interface WriterInterface {
  units: bigint;
  offset: bigint;
}

const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;

/**
 * Builds pcapng files in memory: several sections, either byte order per section, Interface Description Blocks
 * with if_tsresol / if_tsoffset, Enhanced, Simple and obsolete Packet Blocks, Interface Statistics Blocks, and
 * arbitrary (unknown or damaged) blocks. Meant for tests and small generated captures; it allocates freely.
 */
export class PcapngWriter {
  private readonly parts: Buffer[] = [];
  private le = true;
  private ifaces: WriterInterface[] = [];
  private written = 0;

  /** Bytes written so far: the offset the next block will have. */
  get byteLength(): number {
    return this.written;
  }

  /** Starts a section (Section Header Block): interfaces are numbered from 0 again. */
  section(opts: { bigEndian?: boolean; major?: number; minor?: number; options?: Buffer } = {}): this {
    this.le = !(opts.bigEndian ?? false);
    this.ifaces = [];
    const body = Buffer.concat([
      this.u32(0x1a2b3c4d),
      this.u16(opts.major ?? 1),
      this.u16(opts.minor ?? 0),
      this.i64(-1n), // section length unknown: readers must walk the blocks
      opts.options ?? Buffer.alloc(0),
    ]);
    return this.block(BlockType.SHB, body);
  }

  /** Adds an Interface Description Block; returns its interface id within the section. */
  addInterface(opts: PcapngInterfaceOptions = {}): number {
    const options: Buffer[] = [];
    if (opts.name !== undefined) options.push(this.option(IF_NAME, Buffer.from(opts.name, 'utf8')));
    if (opts.tsresol !== undefined) options.push(this.option(IF_TSRESOL, Buffer.from([opts.tsresol])));
    if (opts.tsoffset !== undefined) options.push(this.option(IF_TSOFFSET, this.i64(BigInt(opts.tsoffset))));
    const body = Buffer.concat([
      this.u16(opts.linkType ?? 1),
      this.u16(0),
      this.u32(opts.snapLen ?? 262_144),
      this.options(options),
    ]);
    this.block(BlockType.IDB, body);
    const r = opts.tsresol ?? 6;
    const exp = BigInt(r & 0x7f);
    this.ifaces.push({ units: (r & 0x80) !== 0 ? 1n << exp : 10n ** exp, offset: BigInt(opts.tsoffset ?? 0) });
    return this.ifaces.length - 1;
  }

  /** Ticks of interface `ifId` for a timestamp (if_tsoffset subtracted, sub-tick part rounded down). */
  ticks(ifId: number, ts: PcapngTime): bigint {
    if (typeof ts === 'bigint') return ts;
    const ifc = this.ifaces[ifId];
    if (ifc === undefined) throw new Error(`PcapngWriter: no interface ${ifId} in this section`);
    return (BigInt(ts.sec) - ifc.offset) * ifc.units + (BigInt(ts.ns) * ifc.units) / 1_000_000_000n;
  }

  enhancedPacket(
    ifId: number,
    ts: PcapngTime,
    data: Uint8Array,
    opts: { origLen?: number; capLenField?: number; options?: Buffer; overrides?: BlockOverrides } = {},
  ): this {
    const t = this.ticks(ifId, ts);
    const body = Buffer.concat([
      this.u32(ifId),
      this.tsWords(t),
      this.u32(opts.capLenField ?? data.length),
      this.u32(opts.origLen ?? data.length),
      this.padded(data),
      opts.options ?? Buffer.alloc(0),
    ]);
    return this.block(BlockType.EPB, body, opts.overrides);
  }

  /** Obsolete Packet Block (type 2): 16-bit interface id and drop count. */
  packetBlock(ifId: number, ts: PcapngTime, data: Uint8Array, opts: { origLen?: number; drops?: number } = {}): this {
    const t = this.ticks(ifId, ts);
    const body = Buffer.concat([
      this.u16(ifId),
      this.u16(opts.drops ?? 0xffff),
      this.tsWords(t),
      this.u32(data.length),
      this.u32(opts.origLen ?? data.length),
      this.padded(data),
    ]);
    return this.block(BlockType.PB, body);
  }

  /** Simple Packet Block: interface 0, no timestamp; `data` must be min(origLen, snap length) bytes. */
  simplePacket(data: Uint8Array, origLen: number = data.length): this {
    return this.block(BlockType.SPB, Buffer.concat([this.u32(origLen), this.padded(data)]));
  }

  interfaceStatistics(ifId: number, ts: PcapngTime, opts: PcapngStatisticsOptions = {}): this {
    const options: Buffer[] = [];
    if (opts.startTime !== undefined) options.push(this.option(ISB_STARTTIME, this.tsWords(this.ticks(ifId, opts.startTime))));
    if (opts.endTime !== undefined) options.push(this.option(ISB_ENDTIME, this.tsWords(this.ticks(ifId, opts.endTime))));
    if (opts.ifRecv !== undefined) options.push(this.option(ISB_IFRECV, this.u64(BigInt(opts.ifRecv))));
    if (opts.ifDrop !== undefined) options.push(this.option(ISB_IFDROP, this.u64(BigInt(opts.ifDrop))));
    const body = Buffer.concat([this.u32(ifId), this.tsWords(this.ticks(ifId, ts)), this.options(options)]);
    return this.block(BlockType.ISB, body);
  }

  /** Any block: the body is padded to 4 bytes and framed by its type and lengths (or the overrides). */
  block(type: number, body: Uint8Array, overrides: BlockOverrides = {}): this {
    const padded = this.padded(body);
    const total = 12 + padded.length;
    this.parts.push(
      this.u32(type),
      this.u32(overrides.totalLength ?? total),
      padded,
      this.u32(overrides.trailingLength ?? overrides.totalLength ?? total),
    );
    this.written += total;
    return this;
  }

  /** Appends bytes as they are (garbage, hand-made blocks). */
  raw(bytes: Uint8Array): this {
    this.parts.push(Buffer.from(bytes));
    this.written += bytes.length;
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** An option (code, length, value padded to 4), in the current section's byte order. */
  option(code: number, value: Uint8Array): Buffer {
    return Buffer.concat([this.u16(code), this.u16(value.length), this.padded(value)]);
  }

  /** An option list closed by opt_endofopt; empty when there are no options. */
  options(list: Buffer[]): Buffer {
    if (list.length === 0) return Buffer.alloc(0);
    return Buffer.concat([...list, this.u16(OPT_ENDOFOPT), this.u16(0)]);
  }

  private tsWords(t: bigint): Buffer {
    return Buffer.concat([this.u32(Number(t >> 32n)), this.u32(Number(t & 0xffffffffn))]);
  }

  private padded(b: Uint8Array): Buffer {
    const out = Buffer.alloc((b.length + 3) & ~3);
    out.set(b, 0);
    return out;
  }

  private u16(n: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(n);
    else b.writeUInt16BE(n);
    return b;
  }

  private u32(n: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(n >>> 0);
    else b.writeUInt32BE(n >>> 0);
    return b;
  }

  private u64(n: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigUInt64LE(n);
    else b.writeBigUInt64BE(n);
    return b;
  }

  private i64(n: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigInt64LE(n);
    else b.writeBigInt64BE(n);
    return b;
  }
}
