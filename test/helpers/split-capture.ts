import * as fs from 'node:fs';
import * as path from 'node:path';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { eachPacket } from './each-packet.js';

/** Splits a classic-pcap-compatible capture into `parts` files of consecutive frames (rotation by count). */
export async function splitCapture(file: string, parts: number, dir: string): Promise<string[]> {
  const frames: { sec: number; ns: number; data: Buffer; orig: number; link: number; digits: number }[] = [];
  await eachPacket(file, (p) => {
    frames.push({ sec: p.tsSec, ns: p.tsNs, data: Buffer.from(p.data.subarray(p.offset, p.offset + p.capLen)), orig: p.origLen, link: p.linkType, digits: p.tsDigits });
  });
  const per = Math.ceil(frames.length / parts);
  const names: string[] = [];
  for (let i = 0; i < parts; i++) {
    const chunk = frames.slice(i * per, (i + 1) * per);
    if (chunk.length === 0) break;
    // Same resolution as the source, so that timestamps print the same.
    const w = new PcapWriter({ nanosecond: chunk[0]!.digits > 6, linkType: chunk[0]!.link });
    for (const f of chunk) w.writePacket(f.sec, f.ns, f.data, f.orig);
    w.end();
    const name = path.join(dir, `part${i}.pcap`);
    fs.writeFileSync(name, w.toBuffer());
    names.push(name);
  }
  return names;
}

