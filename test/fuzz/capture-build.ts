/**
 * Turns TCP conversations into captures: TcpSegments (from test/helpers/conversation.ts or generated) become
 * Ethernet/IPv4 or IPv6/TCP frames with the frame builders, and frames become classic pcap bytes or files. Used by
 * the fuzzer for seeds and structure-aware inputs, and by the hostile-traffic tests to run whole captures through
 * the reader, the decoder and the analyzer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures, type RunResult } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { PcapFileWriter, PcapWriter } from '../../src/capture/pcap-writer.js';
import type { RawPacket } from '../../src/capture/raw-packet.js';
import { newRawPacket } from '../../src/capture/raw-packet.js';
import type { TcpSegment } from '../../src/decode/segment.js';
import { Conversation } from '../helpers/conversation.js';
import { build, ethernet, ipv4, ipv6, payload, tcp, tcpOpt, type Layer } from '../helpers/frames.js';

/** One captured frame: its time and bytes. */
export interface Frame {
  tsSec: number;
  tsNs: number;
  data: Buffer;
}

function v4Text(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

function v6Text(words: ArrayLike<number>): string {
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) groups.push(((words[i]! >>> 16) & 0xffff).toString(16), (words[i]! & 0xffff).toString(16));
  return groups.join(':');
}

/** Payload bytes that differ per sequence number, so that retransmissions repeat the same bytes. */
function payloadBytes(seq: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seq + i) & 0xff;
  return b;
}

/**
 * The frame of one TcpSegment: addresses, ports, seq, ack, flags, window, MSS and window scale, and a payload of
 * `payloadLen` bytes (`linkType` 1 Ethernet, or 101 raw IP).
 */
export function segmentFrame(seg: TcpSegment, linkType = 1): Buffer {
  const opts: Buffer[] = [];
  if (seg.mss >= 0) opts.push(tcpOpt.mss(seg.mss));
  if (seg.windowScale >= 0) opts.push(tcpOpt.nop(), tcpOpt.windowScale(seg.windowScale));
  const ip =
    seg.ipVersion === 6
      ? ipv6({ src: v6Text(seg.srcAddr), dst: v6Text(seg.dstAddr) })
      : ipv4({ src: v4Text(seg.srcAddr[0]!), dst: v4Text(seg.dstAddr[0]!) });
  const layers: Layer[] = [];
  if (linkType === 1) layers.push(ethernet());
  layers.push(
    ip,
    tcp({ sport: seg.srcPort, dport: seg.dstPort, seq: seg.seq, ack: seg.ack, flags: seg.flags, window: seg.window & 0xffff, options: opts }),
  );
  if (seg.payloadLen > 0) layers.push(payload(payloadBytes(seg.seq, seg.payloadLen)));
  return build(...layers);
}

export function segmentsToFrames(segments: readonly TcpSegment[], linkType = 1): Frame[] {
  return segments.map((s) => ({ tsSec: s.tsSec, tsNs: s.tsNs, data: segmentFrame(s, linkType) }));
}

/** Classic pcap bytes, nanosecond timestamps (exact for the conversation builder's times). */
export function framesToPcap(frames: readonly Frame[], o: { linkType?: number; bigEndian?: boolean } = {}): Buffer {
  const w = new PcapWriter({ nanosecond: true, linkType: o.linkType ?? 1, bigEndian: o.bigEndian ?? false });
  for (const f of frames) w.writePacket(f.tsSec, f.tsNs, f.data);
  return w.toBuffer();
}

export function writePcap(file: string, frames: readonly Frame[], o: { linkType?: number } = {}): string {
  fs.writeFileSync(file, framesToPcap(frames, o));
  return file;
}

/**
 * Streams frames into a pcap file without holding them (millions of packets): `each(emit)` calls emit for every
 * frame; the frame buffer may be reused by the caller after emit returns.
 */
export function streamPcap(file: string, each: (emit: (tsSec: number, tsNs: number, data: Uint8Array) => void) => void): void {
  const w = new PcapFileWriter(file, { nanosecond: true });
  try {
    each((s, n, d) => w.writePacket(s, n, d));
  } finally {
    w.end();
  }
}

/** A RawPacket over the frame's bytes, for feeding an Analyzer directly (the object is reused by callers). */
export function rawPacketOf(f: Frame, frame: number, linkType = 1, pkt: RawPacket = newRawPacket()): RawPacket {
  pkt.data = f.data;
  pkt.offset = 0;
  pkt.capLen = f.data.length;
  pkt.origLen = f.data.length;
  pkt.linkType = linkType;
  pkt.tsSec = f.tsSec;
  pkt.tsNs = f.tsNs;
  pkt.tsDigits = 9;
  pkt.frame = frame;
  return pkt;
}

/**
 * A small conversation with everything a teardown analysis looks at (handshake with options, data both ways, a
 * retransmission, a keep-alive, FINs or a RST), deterministic in `seed`, for seeds and structure-aware inputs.
 */
export function conversationFrames(o: { seed: number; linkType?: number; rst?: boolean; v6?: boolean }): { frames: Frame[]; segments: TcpSegment[] } {
  const port = 40000 + (o.seed % 20000);
  const cv = new Conversation(
    o.v6
      ? { client: `[2001:db8::1]:${port}`, server: '[2001:db8::2]:443', clientIsn: (o.seed * 2654435761) >>> 0 }
      : { client: `192.0.2.1:${port}`, server: '198.51.100.2:80', clientIsn: (o.seed * 2654435761) >>> 0, serverIsn: 0xfffff000 },
  );
  cv.handshake({ wscale: true });
  cv.data('c', 120);
  cv.ack('s');
  cv.data('s', 1400);
  cv.data('s', 1400);
  cv.retransmit('s');
  cv.ack('c');
  cv.wait(2);
  cv.keepAlive('c');
  cv.ack('s');
  if (o.rst) {
    cv.data('c', 10);
    cv.rstAck('s');
  } else {
    cv.fin('c');
    cv.ack('s');
    cv.fin('s');
    cv.ack('c');
  }
  return { frames: segmentsToFrames(cv.segments, o.linkType ?? 1), segments: cv.segments };
}

/**
 * Recomputes the TCP checksum of an Ethernet/IPv4/TCP frame in place (20-byte IP header, no options), for
 * generators that patch ports, addresses or sequence numbers into a template frame.
 */
export function fixTcpChecksumV4(frame: Buffer): void {
  const ip = 14;
  const tcpAt = ip + 20;
  const tcpLen = frame.readUInt16BE(ip + 2) - 20;
  let sum = 0;
  for (let i = ip + 12; i < ip + 20; i += 2) sum += frame.readUInt16BE(i);
  sum += 6 + tcpLen;
  frame.writeUInt16BE(0, tcpAt + 16);
  const end = tcpAt + tcpLen;
  for (let i = tcpAt; i + 1 < end; i += 2) sum += frame.readUInt16BE(i);
  if ((tcpLen & 1) === 1) sum += frame[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  frame.writeUInt16BE(~sum & 0xffff, tcpAt + 16);
}

/**
 * An Ethernet/IPv4/TCP frame built once with the frame builders, whose addresses, ports, sequence numbers, flags
 * and window are patched in place for each packet (checksum recomputed): millions of packets without building
 * each one, for floods and long connections.
 */
export class TcpFrameTemplate {
  readonly frame: Buffer;

  constructor(payloadLen: number) {
    const layers: Layer[] = [ethernet(), ipv4(), tcp()];
    if (payloadLen > 0) layers.push(payload(payloadLen));
    this.frame = build(...layers);
  }

  /** Addresses as 32-bit numbers (192.0.2.1 = 0xc0000201). */
  set(src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, window = 65535): Buffer {
    const f = this.frame;
    f.writeUInt32BE(src >>> 0, 26);
    f.writeUInt32BE(dst >>> 0, 30);
    // The IPv4 header checksum is not verified by the decoder (offload); keep it right anyway.
    f.writeUInt16BE(0, 24);
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    f.writeUInt16BE(~sum & 0xffff, 24);
    f.writeUInt16BE(sport, 34);
    f.writeUInt16BE(dport, 36);
    f.writeUInt32BE(seq >>> 0, 38);
    f.writeUInt32BE(ack >>> 0, 42);
    f[47] = flags & 0xff;
    f.writeUInt16BE(window, 48);
    fixTcpChecksumV4(f);
    return f;
  }
}

/** 192.0.2.1 → 0xc0000201. */
export function ip4(text: string): number {
  const p = text.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export interface AnalysisOptions {
  /** LINKTYPE of the frames (default 1, Ethernet). */
  linkType?: number;
  maxConnections?: number;
  graceSeconds?: number;
  closeWaitThresholdS?: number;
  finTimeoutS?: number;
}

/**
 * Writes each frame list as a pcap file and analyses them with analyzeCaptures (merged when there are several, as
 * the command merges files): the records in emission order, and the run's result.
 */
export async function analyzeFrameFiles(files: readonly (readonly Frame[])[], o: AnalysisOptions = {}): Promise<{ records: ConnectionRecord[]; result: RunResult }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-frames-'));
  try {
    const paths = files.map((frames, i) => writePcap(path.join(dir, `capture-${i}.pcap`), frames, { linkType: o.linkType ?? 1 }));
    const records: ConnectionRecord[] = [];
    const result = await analyzeCaptures(
      paths,
      {
        classifier: {
          ...DEFAULT_ANALYZER_OPTIONS.classifier,
          ...(o.closeWaitThresholdS !== undefined ? { closeWaitThresholdS: o.closeWaitThresholdS } : {}),
          ...(o.finTimeoutS !== undefined ? { finTimeoutS: o.finTimeoutS } : {}),
        },
        table: {
          ...DEFAULT_ANALYZER_OPTIONS.table,
          ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
          ...(o.graceSeconds !== undefined ? { graceSeconds: o.graceSeconds } : {}),
        },
      },
      { onRecord: (r) => void records.push(r) },
    );
    return { records, result };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One capture of these segments through the whole pipeline (frames, pcap, reader, decoder, table, classifier). */
export function analyzeSegments(segments: readonly TcpSegment[], o: AnalysisOptions = {}): Promise<{ records: ConnectionRecord[]; result: RunResult }> {
  return analyzeFrameFiles([segmentsToFrames(segments)], o);
}
