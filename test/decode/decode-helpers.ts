/**
 * Shared helpers of the decoder tests: decode one frame with a fresh Decoder, check the frame partition, run
 * tshark, and read capture files with a minimal reader of our own (classic pcap and pcapng), so that these tests
 * depend on nothing but the decoder.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { RawPacket } from '../../src/capture/raw-packet.js';
import { Decoder } from '../../src/decode/decoder.js';
import { newTcpSegment, type DecodeOutcome, type TcpSegment } from '../../src/decode/segment.js';
import type { DecodeStats } from '../../src/decode/stats.js';
import { packet } from '../helpers/frames.js';

export interface Decoded {
  outcome: DecodeOutcome;
  seg: TcpSegment;
  stats: DecodeStats;
  decoder: Decoder;
}

export function decodeFrame(frame: Buffer, linkType = 1, over: Partial<RawPacket> = {}): Decoded {
  const decoder = new Decoder();
  const seg = newTcpSegment();
  const outcome = decoder.decode(packet(frame, linkType, over), seg);
  assertPartition(decoder.stats);
  return { outcome, seg, stats: decoder.stats, decoder };
}

/** Every frame lands in exactly one outcome counter. */
export function assertPartition(s: DecodeStats): void {
  assert.equal(s.tcp + s.notTcp + s.fragments + s.tooShort + s.malformed + s.unknownLinkType, s.frames);
}

/** The one problem reason noted so far (asserts there is exactly one). */
export function onlyProblem(s: DecodeStats): string {
  const reasons = [...s.problems.keys()];
  assert.equal(reasons.length, 1, `expected one problem, got ${reasons.join(', ')}`);
  return reasons[0]!;
}

export const TSHARK = '/usr/bin/tshark';

export function tsharkMissing(): string | false {
  return fs.existsSync(TSHARK) ? false : 'tshark is not installed';
}

/** Runs tshark -r file with args; returns stdout lines (empty lines dropped). */
export function tshark(file: string, args: string[]): string[] {
  const r = spawnSync(TSHARK, ['-r', file, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tshark failed on ${file}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

// ---------------------------------------------------------------- a minimal capture reader for tests

export interface TestRecord {
  frame: number;
  linkType: number;
  data: Buffer;
  origLen: number;
  tsSec: number;
}

/** Reads every record of a classic pcap (either byte order, µs or ns) or pcapng file. */
export function readCapture(file: string): TestRecord[] {
  const b = fs.readFileSync(file);
  const magic = b.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) return readPcapng(b);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${file}: not a capture`);
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const out: TestRecord[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const capLen = u32(o + 8);
    const origLen = u32(o + 12);
    if (o + 16 + capLen > b.length) break;
    out.push({ frame: out.length + 1, linkType, data: b.subarray(o + 16, o + 16 + capLen), origLen, tsSec: u32(o) });
    o += 16 + capLen;
  }
  return out;
}

function readPcapng(b: Buffer): TestRecord[] {
  let le = true;
  let linkTypes: number[] = [];
  const out: TestRecord[] = [];
  for (let o = 0; o + 12 <= b.length;) {
    const type = le ? b.readUInt32LE(o) : b.readUInt32BE(o);
    if (type === 0x0a0d0d0a) {
      le = b.readUInt32LE(o + 8) === 0x1a2b3c4d;
      linkTypes = [];
    }
    const u32 = (p: number) => (le ? b.readUInt32LE(p) : b.readUInt32BE(p));
    const u16 = (p: number) => (le ? b.readUInt16LE(p) : b.readUInt16BE(p));
    const len = u32(o + 4);
    if (len < 12 || o + len > b.length) break;
    if (type === 1) {
      linkTypes.push(u16(o + 8));
    } else if (type === 6) {
      const iface = u32(o + 8);
      const capLen = u32(o + 20);
      const origLen = u32(o + 24);
      out.push({
        frame: out.length + 1,
        linkType: linkTypes[iface] ?? -1,
        data: b.subarray(o + 28, o + 28 + capLen),
        origLen,
        tsSec: 0,
      });
    } else if (type === 3) {
      const origLen = u32(o + 8);
      const capLen = Math.min(origLen, len - 16);
      out.push({
        frame: out.length + 1,
        linkType: linkTypes[0] ?? -1,
        data: b.subarray(o + 12, o + 12 + capLen),
        origLen,
        tsSec: 0,
      });
    }
    o += len;
  }
  return out;
}

export function recordPacket(r: TestRecord): RawPacket {
  return packet(r.data, r.linkType, { frame: r.frame, origLen: r.origLen, tsSec: r.tsSec });
}

/** Decodes every record of a capture; returns the frame numbers decoded as TCP and the decoder. */
export function decodeCapture(file: string): {
  tcpFrames: number[];
  segments: Map<number, TcpSegment>;
  decoder: Decoder;
} {
  const decoder = new Decoder();
  const seg = newTcpSegment();
  const tcpFrames: number[] = [];
  const segments = new Map<number, TcpSegment>();
  for (const r of readCapture(file)) {
    if (decoder.decode(recordPacket(r), seg) === 0) {
      tcpFrames.push(r.frame);
      segments.set(r.frame, {
        ...seg,
        srcAddr: seg.srcAddr.slice(),
        dstAddr: seg.dstAddr.slice(),
        vlans: seg.vlans.slice(),
        sackBlocks: seg.sackBlocks.slice(),
      });
    }
  }
  assertPartition(decoder.stats);
  return { tcpFrames, segments, decoder };
}
