import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CaptureFormat, LinkTypeName } from './manifest.js';
import { CLIENT_IF } from './netns.js';
import { exited, spawnTracked, stopChild } from './proc.js';

/**
 * Captures in the client namespace: tcpdump for pcap (Ethernet, or Linux cooked v2 on `-i any`), dumpcap for
 * pcapng. The lab waits until the tool says it is capturing before any application starts, and stops it with
 * SIGINT after a settling delay so the tool writes out everything it has.
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
  stoppedAtMs = 0;

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

export const LINKTYPE_NUMBERS: Record<LinkTypeName, number> = { EN10MB: 1, LINUX_SLL2: 276 };
