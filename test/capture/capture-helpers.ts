import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCapture, type OpenCaptureOptions } from '../../src/capture/open-capture.js';
import type { RawPacket } from '../../src/capture/raw-packet.js';
import { NEED_MORE, type CaptureReader } from '../../src/capture/reader.js';

/** A plain copy of what a reader yielded for one frame (RawPacket itself is reused by the reader). */
export interface Seen {
  frame: number;
  source: number;
  tsSec: number;
  tsNs: number;
  tsDigits: number;
  linkType: number;
  interfaceId: number;
  capLen: number;
  origLen: number;
  fileOffset: number;
  bytes: string;
}

export function snapshot(p: RawPacket): Seen {
  return {
    frame: p.frame,
    source: p.source,
    tsSec: p.tsSec,
    tsNs: p.tsNs,
    tsDigits: p.tsDigits,
    linkType: p.linkType,
    interfaceId: p.interfaceId,
    capLen: p.capLen,
    origLen: p.origLen,
    fileOffset: p.fileOffset,
    bytes: p.data.toString('hex', p.offset, p.offset + p.capLen),
  };
}

/** Drains a reader the way the pipeline does (synchronous next(), await fill() on NEED_MORE). */
export async function drain(r: CaptureReader): Promise<Seen[]> {
  const out: Seen[] = [];
  // Bounded by the input: every NEED_MORE is followed by a fill() that reads a chunk or reaches the end.
  for (;;) {
    const p = r.next();
    if (p === NEED_MORE) {
      await r.fill();
      continue;
    }
    if (p === null) return out;
    out.push(snapshot(p));
  }
}

export async function readCapture(file: string, opts: OpenCaptureOptions = {}, sourceIndex = 0) {
  const reader = await openCapture(file, sourceIndex, opts);
  const frames = await drain(reader);
  return { reader, frames };
}

/** Frame bytes that identify their frame: the index in the first 4 bytes, then a pattern. */
export function frameBytes(i: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let k = 0; k < len; k++) b[k] = (i * 31 + k * 7) & 0xff;
  if (len >= 4) b.writeUInt32BE(i >>> 0, 0);
  return b;
}

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `teardown-${prefix}-`));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
