/**
 * Seeds of the capture fuzzer: the bundled samples and the shared corpus of real public captures, read where
 * they lie (never copied), plus small generated captures that reach the pcapng blocks and link types the real
 * files do not have (SPB, obsolete PB, ISB, custom blocks, several sections in both byte orders, gzip).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { CORPUS, SAMPLES } from '../helpers/paths.js';
import { conversationFrames, framesToPcap } from './capture-build.js';

export interface Seed {
  name: string;
  bytes: Buffer;
}

const CAPTURE_NAME = /\.(pcap|pcapng|cap)(\.gz)?$/;

function readDir(dir: string, label: string, maxBytes: number): Seed[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => CAPTURE_NAME.test(f))
    .sort()
    .map((f) => path.join(dir, f))
    .filter((p) => fs.statSync(p).size <= maxBytes)
    .map((p) => ({ name: `${label}/${path.basename(p)}`, bytes: fs.readFileSync(p) }));
}

/** The samples bundled with the project (always present). */
export function sampleSeeds(): Seed[] {
  return readDir(SAMPLES, 'samples', Infinity);
}

/**
 * The shared corpus (../shared/corpus/zeek), when it lies beside the clone. `maxBytes` leaves out the largest
 * traces where a run must stay short (three of them are 0.4 to 1.3 MB).
 */
export function corpusSeeds(maxBytes = Infinity): Seed[] {
  return readDir(path.join(CORPUS, 'zeek'), 'corpus', maxBytes);
}

/** Small generated captures covering what the real files lack. */
export function generatedSeeds(): Seed[] {
  const out: Seed[] = [];
  const conv = conversationFrames({ seed: 1 });

  // pcapng with every packet block kind, two sections in both byte orders, ISB, custom and unknown blocks.
  const w = new PcapngWriter();
  w.section();
  w.addInterface({ tsresol: 9, name: 'eth0' });
  w.addInterface({ linkType: 113, tsresol: 0x94, tsoffset: 1 });
  conv.frames.forEach((f, i) => {
    const ts = { sec: f.tsSec, ns: f.tsNs };
    if (i % 5 === 3) w.packetBlock(0, ts, f.data);
    else w.enhancedPacket(0, ts, f.data);
  });
  w.simplePacket(conv.frames[0]!.data);
  w.block(0x00000bad, Buffer.alloc(12, 0x41));
  w.block(0x80001234, Buffer.alloc(8));
  w.interfaceStatistics(0, { sec: 1_700_000_100, ns: 0 }, { endTime: { sec: 1_700_000_200, ns: 0 }, ifDrop: 3 });
  w.section({ bigEndian: true });
  w.addInterface({ linkType: 101 });
  w.enhancedPacket(0, { sec: 1_700_000_300, ns: 5 }, conv.frames[0]!.data.subarray(14));
  out.push({ name: 'generated/blocks.pcapng', bytes: w.toBuffer() });

  // Classic pcap, nanosecond big-endian, a connection with data, FINs, and a reset one.
  const ns = new PcapWriter({ nanosecond: true, bigEndian: true });
  for (const f of conv.frames) ns.writePacket(f.tsSec, f.tsNs, f.data);
  out.push({ name: 'generated/conversation-ns-be.pcap', bytes: ns.toBuffer() });

  // Raw IP link type, and gzip of a pcap.
  const rawIp = conversationFrames({ seed: 2, linkType: 101, rst: true });
  out.push({ name: 'generated/raw-ip-rst.pcap', bytes: framesToPcap(rawIp.frames, { linkType: 101 }) });
  out.push({ name: 'generated/conversation.pcap.gz', bytes: gzipSync(framesToPcap(conv.frames)) });
  return out;
}

/** Every seed: samples, generated captures, and the corpus when present (`corpusMax` bounds their size). */
export function allSeeds(corpusMax = Infinity): { seeds: Seed[]; corpusPresent: boolean } {
  const corpus = corpusSeeds(corpusMax);
  return { seeds: [...sampleSeeds(), ...generatedSeeds(), ...corpus], corpusPresent: fs.existsSync(path.join(CORPUS, 'zeek')) };
}
