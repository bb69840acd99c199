import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CaptureFormat, LinkTypeName } from './manifest.js';
import { CLIENT_IF } from './netns.js';
import { exited, spawnTracked, stopChild } from './proc.js';

/**
 * Captures in the client namespace: tcpdump for pcap (Ethernet, or Linux cooked v2 on `-i any`), dumpcap for
 * pcapng. The lab waits until the tool says it is capturing before any application starts, and stops it with
 * SIGINT after a settling delay so the tool writes out everything it has. A pcap file ends with its last packet;
 * dumpcap's pcapng file also records when the capture stopped (isb_endtime), which is what shows a sender's
 * silent give-up.
 */

export type CaptureTool = 'tcpdump' | 'dumpcap';

export interface CaptureSpec {
  tool: CaptureTool;
  /** 'veth': the client's veth; 'any': tcpdump -i any -y LINUX_SLL2. */
  iface: 'veth' | 'any';
  format: CaptureFormat;
  linkType: LinkTypeName;
}

export const TCPDUMP_VETH: CaptureSpec = { tool: 'tcpdump', iface: 'veth', format: 'pcap', linkType: 'EN10MB' };
export const TCPDUMP_ANY_SLL2: CaptureSpec = { tool: 'tcpdump', iface: 'any', format: 'pcap', linkType: 'LINUX_SLL2' };
export const DUMPCAP_VETH: CaptureSpec = { tool: 'dumpcap', iface: 'veth', format: 'pcapng', linkType: 'EN10MB' };

export function captureArgs(spec: CaptureSpec, file: string): string[] {
  if (spec.tool === 'tcpdump') {
    // --immediate-mode: without it the last packets can still sit in the ring when tcpdump stops.
    // -B 4096 (KiB): room for bulk responses (GSO super-frames) without drops.
    const iface = spec.iface === 'any' ? ['-i', 'any', '-y', 'LINUX_SLL2'] : ['-i', CLIENT_IF];
    return ['tcpdump', ...iface, '-n', '-U', '--immediate-mode', '-B', '4096', '-w', file, 'tcp'];
  }
  return ['dumpcap', '-i', CLIENT_IF, '-f', 'tcp', '-B', '4', '-w', file];
}

export class RunningCapture {
  private stderr = '';
  readonly startedAtMs: number;
  /** When the lab sent SIGINT. */
  stoppedAtMs = 0;
  /** When the tool had exited (its file complete). */
  exitedAtMs = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly command: string,
    startedAtMs: number,
  ) {
    this.startedAtMs = startedAtMs;
  }

  /** Starts the tool inside `ns` and resolves once it reports that it is capturing. */
  static async start(ns: string, spec: CaptureSpec, file: string, timeoutMs = 10_000): Promise<RunningCapture> {
    const args = captureArgs(spec, file);
    const child = spawnTracked('ip', ['netns', 'exec', ns, ...args]);
    const ready = spec.tool === 'tcpdump' ? /listening on /m : /Capturing on /m;
    let stderr = '';
    const startedAtMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${args[0]} did not start capturing within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (ready.test(stderr)) {
          clearTimeout(timer);
          resolve(Date.now());
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${args[0]} exited (${code}) before capturing: ${stderr}`));
      });
    });
    const cap = new RunningCapture(child, args.map((a) => (a === file ? path.basename(file) : a)).join(' '), startedAtMs);
    cap.stderr = stderr;
    child.stderr!.on('data', (d: string) => (cap.stderr += d));
    return cap;
  }

  /** SIGINT, wait for the exit, and return the tool's own packet count and kernel drop count. */
  async stop(): Promise<{ captured: number | null; dropped: number | null; stderr: string }> {
    this.stoppedAtMs = Date.now();
    if (exited(this.child)) throw new Error(`capture tool died early: ${this.stderr}`);
    await stopChild(this.child, 'SIGINT', 10_000);
    this.exitedAtMs = Date.now();
    const s = this.stderr;
    const captured = /(\d+) packets? captured/.exec(s) ?? /Packets captured: (\d+)/.exec(s);
    const dropped = /(\d+) packets? dropped by kernel/.exec(s) ?? /Packets received\/dropped on interface '[^']*': \d+\/(\d+)/.exec(s);
    return {
      captured: captured ? Number(captured[1]) : null,
      dropped: dropped ? Number(dropped[1]) : null,
      stderr: s,
    };
  }
}

/**
 * Link type and format straight from the file header: pcap global header (link type at offset 20) or the
 * first pcapng Interface Description Block. Independent of any dissector, so the manifest states what is there.
 */
export function readCaptureHeader(file: string): { format: CaptureFormat; linkType: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n < 24) throw new Error(`${file}: too short for a capture header (${n} bytes)`);
    const magicBE = buf.readUInt32BE(0);
    if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) return { format: 'pcap', linkType: buf.readUInt32BE(20) };
    if (magicBE === 0xd4c3b2a1 || magicBE === 0x4d3cb2a1) return { format: 'pcap', linkType: buf.readUInt32LE(20) };
    if (magicBE === 0x0a0d0d0a) {
      const bom = buf.readUInt32LE(8);
      const le = bom === 0x1a2b3c4d;
      const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
      const u16 = (o: number): number => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
      let off = 0;
      // Walk a few blocks until the first IDB (type 1).
      for (let i = 0; i < 8 && off + 12 <= n; i++) {
        const type = u32(off);
        const len = u32(off + 4);
        if (type === 1) return { format: 'pcapng', linkType: u16(off + 8) };
        if (len < 12) break;
        off += len;
      }
      throw new Error(`${file}: no interface description block near the start`);
    }
    throw new Error(`${file}: unknown capture magic 0x${magicBE.toString(16)}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** The end time a pcapng file records: the last isb_endtime of its Interface Statistics Blocks, as stored. */
export interface IsbEndtime {
  /** The raw 64-bit value (high word first, as for packet timestamps). */
  ticks: bigint;
  /** if_tsresol of the interface the block refers to (6, microseconds, when the IDB states none). */
  tsresol: number;
  /** if_tsoffset of that interface, seconds. */
  tsoffset: number;
}

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_ISB = 5;
const IDB_TSRESOL = 9;
const IDB_TSOFFSET = 14;
const ISB_ENDTIME = 3;
/** Far more blocks than any lab capture has: the walk is bounded even on a damaged file. */
const MAX_BLOCKS = 1_000_000;

/**
 * Reads the isb_endtime a pcapng file holds, straight from the blocks (not through the project's reader, whose
 * handling of it is what the samples test). Null when the file is not pcapng or records no end.
 */
export function readIsbEndtime(file: string): IsbEndtime | null {
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || buf.readUInt32BE(0) !== BT_SHB) return null;
  let le = true;
  let ifaces: Array<{ tsresol: number; tsoffset: number }> = [];
  let found: IsbEndtime | null = null;
  let off = 0;
  for (let n = 0; n < MAX_BLOCKS && off + 12 <= buf.length; n++) {
    if (buf.readUInt32BE(off) === BT_SHB) {
      // The byte-order magic decides how this section, the SHB's own length included, is read.
      le = buf.readUInt32LE(off + 8) === 0x1a2b3c4d;
      ifaces = [];
    }
    const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const u16 = (o: number): number => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
    const type = u32(off);
    const len = u32(off + 4);
    if (len < 12 || len % 4 !== 0 || off + len > buf.length) break;
    const end = off + len - 4;
    /** Walks the options from `o` to the block's end. */
    const options = (o: number, each: (code: number, at: number, olen: number) => void): void => {
      while (o + 4 <= end) {
        const code = u16(o);
        const olen = u16(o + 2);
        if (code === 0 || o + 4 + olen > end) break;
        each(code, o + 4, olen);
        o += 4 + ((olen + 3) & ~3);
      }
    };
    if (type === BT_IDB && len >= 20) {
      const iface = { tsresol: 6, tsoffset: 0 };
      options(off + 16, (code, at, olen) => {
        if (code === IDB_TSRESOL && olen >= 1) iface.tsresol = buf[at]!;
        else if (code === IDB_TSOFFSET && olen === 8) iface.tsoffset = Number(le ? buf.readBigInt64LE(at) : buf.readBigInt64BE(at));
      });
      ifaces.push(iface);
    } else if (type === BT_ISB && len >= 24) {
      const iface = ifaces[u32(off + 8)];
      if (iface !== undefined) {
        options(off + 20, (code, at, olen) => {
          if (code === ISB_ENDTIME && olen === 8) {
            const ticks = (BigInt(u32(at)) << 32n) | BigInt(u32(at + 4));
            found = { ticks, tsresol: iface.tsresol, tsoffset: iface.tsoffset };
          }
        });
      }
    }
    off += len;
  }
  return found;
}

/** Seconds since 1970 for `ticks` in the units if_tsresol declares (10^-n s, or 2^-n s with the high bit set). */
export function ticksToSeconds(ticks: bigint, tsresol: number, tsoffset: number): number {
  const exp = tsresol & 0x7f;
  const perSecond = (tsresol & 0x80) !== 0 ? 2n ** BigInt(exp) : 10n ** BigInt(exp);
  return Number(ticks / perSecond) + Number(ticks % perSecond) / Number(perSecond) + tsoffset;
}

export const LINKTYPE_NUMBERS: Record<LinkTypeName, number> = { EN10MB: 1, LINUX_SLL2: 276 };
