import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { mergeReaders } from '../../src/capture/merge.js';
import { openCapture, type OpenCaptureOptions } from '../../src/capture/open-capture.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { CaptureError } from '../../src/capture/raw-packet.js';
import { drain, frameBytes, prng, tempDir } from './capture-helpers.js';

const dir = tempDir('merge');
let n = 0;

/** [seconds, nanoseconds] of each packet of a source, in file order. */
type Times = [number, number][];

function pcapOf(times: Times, opts: { nanosecond?: boolean; linkType?: number } = {}): string {
  const w = new PcapWriter({ nanosecond: opts.nanosecond ?? true, linkType: opts.linkType ?? 1 });
  times.forEach(([s, ns], i) => w.writePacket(s, ns, frameBytes(i + 1, 40)));
  const file = path.join(dir, `s${++n}.pcap`);
  fs.writeFileSync(file, w.toBuffer());
  return file;
}

/** mergecap's order, computed directly: by time, then by source, each source keeping its own order. */
function mergeOrder(sources: Times[]): [number, number, number, number][] {
  const all: [number, number, number, number][] = [];
  sources.forEach((times, src) => times.forEach(([s, ns], i) => all.push([src, i + 1, s, ns])));
  // Array.prototype.sort is stable: within one source and time, file order is kept.
  return all.sort((a, b) => a[2] - b[2] || a[3] - b[3] || a[0] - b[0]);
}

async function merged(files: string[], opts: OpenCaptureOptions = {}) {
  const readers = [];
  for (const [i, f] of files.entries()) readers.push(await openCapture(f, i, opts));
  const m = mergeReaders(readers);
  const frames = await drain(m);
  return { m, order: frames.map((f) => [f.source, f.frame, f.tsSec, f.tsNs]) };
}

describe('mergeReaders', () => {
  it('yields in timestamp order, ties to the lower source index, each source in its own order', async () => {
    const a: Times = [[1, 0], [2, 0], [2, 0], [5, 0], [5, 1]];
    const b: Times = [[0, 500], [2, 0], [3, 0], [5, 0], [6, 0]];
    const c: Times = [[2, 0], [2, 0]];
    const want = mergeOrder([a, b, c]);
    assert.deepEqual((await merged([pcapOf(a), pcapOf(b), pcapOf(c)])).order, want);
    // The same with every record crossing chunk boundaries in every source.
    assert.deepEqual((await merged([pcapOf(a), pcapOf(b), pcapOf(c)], { chunkSize: 5 })).order, want);
  });

  it('follows a connection across rotated files whose times overlap at the seam', async () => {
    const first: Times = Array.from({ length: 50 }, (_, i) => [100 + Math.floor(i / 10), (i % 10) * 100_000_000]);
    const second: Times = [[104, 950_000_000], ...Array.from({ length: 50 }, (_, i): [number, number] => [105 + Math.floor(i / 10), (i % 10) * 1000])];
    const { order } = await merged([pcapOf(second), pcapOf(first)]);
    assert.deepEqual(order, mergeOrder([second, first]));
    // The seam: the last packet of the earlier file, then the later file's first, then its second.
    assert.deepEqual(order.slice(49, 52), [
      [1, 50, 104, 900_000_000],
      [0, 1, 104, 950_000_000],
      [0, 2, 105, 0],
    ]);
  });

  it('orders nanosecond pcapng against microsecond pcap exactly', async () => {
    const us = pcapOf([[10, 1000], [10, 2000]], { nanosecond: false });
    const w = new PcapngWriter();
    w.section();
    w.addInterface({ tsresol: 9, linkType: 113 });
    w.enhancedPacket(0, 10_000_000_999n, frameBytes(1, 10));
    w.enhancedPacket(0, 10_000_001_000n, frameBytes(2, 10));
    w.enhancedPacket(0, 10_000_001_001n, frameBytes(3, 10));
    const ng = path.join(dir, 'ns.pcapng');
    fs.writeFileSync(ng, w.toBuffer());
    const { m, order } = await merged([us, ng]);
    assert.deepEqual(order, [
      [1, 1, 10, 999],
      [0, 1, 10, 1000],
      [1, 2, 10, 1000],
      [1, 3, 10, 1001],
      [0, 2, 10, 2000],
    ]);
    assert.deepEqual(m.info.linkTypes, [1, 113]);
    assert.equal(m.info.format, 'pcap, pcapng');
  });

  it('merges many sources like a sort would', async () => {
    const rnd = prng(99);
    // Each source in time order (as captures are), in quarter seconds so that ties are common.
    const sources: Times[] = Array.from({ length: 12 }, () => {
      let quarters = Math.floor(rnd() * 200);
      return Array.from({ length: 1 + Math.floor(rnd() * 30) }, (): [number, number] => {
        quarters += Math.floor(rnd() * 6);
        return [Math.floor(quarters / 4), (quarters % 4) * 250_000_000];
      });
    });
    sources.push([]); // a source with a header and no packets
    const { m, order } = await merged(sources.map((s) => pcapOf(s)), { chunkSize: 64 });
    assert.deepEqual(order, mergeOrder(sources));
    assert.equal(m.error, null);
    assert.equal(m.info.frames, order.length);
  });

  it('never reorders within a source whose clock went backwards (as mergecap)', async () => {
    const { order } = await merged([pcapOf([[5, 0], [1, 0]]), pcapOf([[3, 0]])]);
    assert.deepEqual(order, [
      [1, 1, 3, 0],
      [0, 1, 5, 0],
      [0, 2, 1, 0],
    ]);
  });

  it('keeps going after one source is damaged, and reports that source', async () => {
    const a: Times = Array.from({ length: 10 }, (_, i) => [i * 2, 0]);
    const b: Times = Array.from({ length: 10 }, (_, i) => [i * 2 + 1, 0]);
    const fa = pcapOf(a);
    const bytes = fs.readFileSync(fa);
    fs.writeFileSync(fa, bytes.subarray(0, bytes.length - 4 * 56 - 10)); // frames 1-5 whole, 6 cut
    const { m, order } = await merged([fa, pcapOf(b)]);
    const want = mergeOrder([a.slice(0, 5), b]);
    assert.deepEqual(order, want);
    assert.ok(m.error instanceof CaptureError);
    assert.equal(m.error.file, fa);
    assert.match(m.error.reason, /^truncated record: frame 6/);
    assert.equal(m.sources[0]!.error, m.error);
    assert.equal(m.sources[1]!.error, null);
    assert.equal(m.sources[1]!.info.frames, 10);
  });

  it('reports the first damage when several sources are damaged', async () => {
    const fa = pcapOf([[1, 0], [9, 0]]);
    const fb = pcapOf([[2, 0], [3, 0]]);
    const cut = (f: string) => fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 24 + 56 + 20));
    cut(fa);
    cut(fb);
    const { m, order } = await merged([fa, fb]);
    assert.deepEqual(order, [
      [0, 1, 1, 0],
      [1, 1, 2, 0],
    ]);
    // Source 0 is asked for its second frame first (after frame 1 at t=1), so its damage is seen first.
    assert.equal(m.error?.file, fa);
    assert.equal(m.sources[1]!.error?.file, fb);
  });

  it('sums the sources\u2019 facts and prefixes their notes', async () => {
    const a = pcapOf([[1, 0]]);
    const w = new PcapngWriter();
    w.section();
    w.addInterface({ tsresol: 9 });
    w.enhancedPacket(0, 5n, frameBytes(1, 10));
    const unknownAt = w.byteLength;
    w.block(0x80000042, Buffer.alloc(4));
    w.interfaceStatistics(0, 0n, { endTime: 7_000_000_123n, ifDrop: 4 });
    const b = path.join(dir, 'stats.pcapng');
    fs.writeFileSync(b, w.toBuffer());
    const { m } = await merged([a, b]);
    assert.equal(m.info.name, `${a}, ${b}`);
    assert.equal(m.info.frames, 2);
    assert.equal(m.info.totalBytes, fs.statSync(a).size + fs.statSync(b).size);
    assert.equal(m.info.bytesRead, m.info.totalBytes);
    assert.equal(m.info.droppedByCapture, 4);
    assert.deepEqual([m.info.endTimeSec, m.info.endTimeNs], [7, 123]);
    assert.deepEqual(m.info.notes, [`${b}: skipped unknown block of type 0x80000042 at byte ${unknownAt}`]);
  });
});
