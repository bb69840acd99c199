import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { mergeReaders } from '../../src/capture/merge.js';
import { openCapture } from '../../src/capture/open-capture.js';
import { BlockType } from '../../src/capture/pcapng-reader.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { CORPUS, corpusAvailable } from '../helpers/paths.js';
import { drain, frameBytes, readCapture, tempDir, type Seen } from './capture-helpers.js';

const run = promisify(execFile);
const dir = tempDir('tshark');

function hasTool(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
}
const TSHARK = hasTool('tshark');
const MERGECAP = hasTool('mergecap');
const noTshark = TSHARK ? false : 'tshark is not installed';

interface TsharkFrame {
  frame: number;
  time: string;
  capLen: number;
  len: number;
  interfaceId: string;
}

async function tshark(file: string): Promise<TsharkFrame[]> {
  const fields = ['frame.number', 'frame.time_epoch', 'frame.cap_len', 'frame.len', 'frame.interface_id'];
  const { stdout } = await run('tshark', ['-n', '-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [frame, time, capLen, len, interfaceId] = l.split('\t');
      return { frame: Number(frame), time: time ?? '', capLen: Number(capLen), len: Number(len), interfaceId: interfaceId ?? '' };
    });
}

/** tshark prints frame.time_epoch with nine digits; ours is exact seconds and nanoseconds. */
function epoch(f: Seen): string {
  return `${f.tsSec}.${String(f.tsNs).padStart(9, '0')}`;
}

function compare(file: string, ours: Seen[], theirs: TsharkFrame[], opts: { interfaces: boolean; skipTimeOf?: Set<number> }): void {
  const packetsOnly = theirs.filter((t) => ours.some((o) => o.frame === t.frame));
  assert.equal(ours.length, packetsOnly.length, `${file}: frame count`);
  for (const [i, o] of ours.entries()) {
    const t = packetsOnly[i]!;
    assert.equal(o.frame, t.frame, `${file}: frame number`);
    if (!(opts.skipTimeOf?.has(o.frame) ?? false)) assert.equal(epoch(o), t.time, `${file}: time of frame ${o.frame}`);
    assert.equal(o.capLen, t.capLen, `${file}: captured length of frame ${o.frame}`);
    assert.equal(o.origLen, t.len, `${file}: length of frame ${o.frame}`);
    if (opts.interfaces) assert.equal(String(o.interfaceId), t.interfaceId, `${file}: interface of frame ${o.frame}`);
  }
}

/** Runs `fn` over `items`, `width` at a time (tshark takes about half a second to start). */
async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

describe('cross-check against tshark', () => {
  const corpusSkip = noTshark || (corpusAvailable() ? false : `the shared corpus is not at ${CORPUS}`);

  it('every corpus capture: same frame numbers, timestamps (ns), lengths and interfaces as tshark', { skip: corpusSkip }, async () => {
    const files = fs
      .readdirSync(path.join(CORPUS, 'zeek'))
      .filter((f) => /\.(pcap|pcapng)$/.test(f))
      .map((f) => path.join(CORPUS, 'zeek', f));
    assert.ok(files.length >= 30, `found ${files.length} captures`);
    let frames = 0;
    await inBatches(files, 4, async (file) => {
      const [{ reader, frames: ours }, theirs] = await Promise.all([readCapture(file), tshark(file)]);
      assert.equal(reader.error, null, `${file}: ${String(reader.error)}`);
      compare(file, ours, theirs, { interfaces: reader.info.format.startsWith('pcapng') });
      frames += ours.length;
    });
    assert.ok(frames > 5000, `compared ${frames} frames`);
  });

  it('files made by our writers read the same in tshark (sections, byte orders, resolutions, offsets)', { skip: noTshark }, async () => {
    const w = new PcapngWriter();
    const spbFrames = new Set<number>();
    let frame = 0;
    w.section();
    w.addInterface({ linkType: 1 });
    w.addInterface({ linkType: 113, tsresol: 9 });
    w.addInterface({ linkType: 101, tsresol: 0x8a, tsoffset: 1_000 });
    w.addInterface({ linkType: 1, tsresol: 0x94, tsoffset: -60 });
    for (let i = 0; i < 20; i++) {
      const ns = (i * 123_456_789) % 1_000_000_000;
      w.enhancedPacket(i % 4, { sec: 1_700_000_000 + i, ns }, frameBytes(++frame, 40 + i), { origLen: 1500 });
    }
    w.packetBlock(1, 1_700_000_100_000_000_001n, frameBytes(++frame, 33));
    w.block(BlockType.CUSTOM, Buffer.from([0, 0, 0x7f, 0xff, 9, 9, 9, 9]));
    ++frame;
    w.simplePacket(frameBytes(++frame, 50));
    spbFrames.add(frame);
    w.interfaceStatistics(0, { sec: 1_700_000_200, ns: 0 }, { ifDrop: 3 });
    w.section({ bigEndian: true });
    w.addInterface({ linkType: 0, tsresol: 3 });
    w.addInterface({ linkType: 1, tsresol: 0x9e });
    for (let i = 0; i < 10; i++) w.enhancedPacket(i % 2, { sec: 1_600_000_000 + i, ns: i * 77_777_777 }, frameBytes(++frame, 60));
    const ng = path.join(dir, 'writer.pcapng');
    fs.writeFileSync(ng, w.toBuffer());

    const files: [string, boolean][] = [[ng, true]];
    for (const [nanosecond, bigEndian] of [[false, false], [true, true], [true, false], [false, true]] as const) {
      const pw = new PcapWriter({ nanosecond, bigEndian, linkType: 113, snapLen: 100 });
      for (let i = 1; i <= 20; i++) pw.writePacket(1_700_000_000 + i, i * 98_765_431, frameBytes(i, i * 5), i * 5 + (i % 3));
      const f = path.join(dir, `writer-${nanosecond ? 'ns' : 'us'}-${bigEndian ? 'be' : 'le'}.pcap`);
      fs.writeFileSync(f, pw.toBuffer());
      files.push([f, false]);
    }
    for (const [file, interfaces] of files) {
      const [{ reader, frames }, theirs] = await Promise.all([readCapture(file), tshark(file)]);
      assert.equal(reader.error, null);
      compare(file, frames, theirs, { interfaces, skipTimeOf: spbFrames });
    }
  });

  // mergecap picks, among equal timestamps, the last file it scans (its is_earlier() is "earlier or equal");
  // we pick the first source, so that the seam between rotated files named in order stays in order. Hence
  // the comparison: same time sequence, and within each run of equal times the same sources.
  it('merges in mergecap\u2019s time order (ties aside)', { skip: noTshark || (MERGECAP ? false : 'mergecap is not installed') }, async () => {
    // Each source's frames have their own length, so tshark's view of the merged file names the source.
    const sources = [
      [[1, 0], [2, 0], [2, 0], [4, 500], [7, 0]],
      [[0, 1], [2, 0], [3, 0], [4, 500], [4, 500]],
      [[2, 0], [6, 999_999_000], [6, 999_999_000]],
    ];
    const files = sources.map((times, s) => {
      const w = new PcapWriter();
      times.forEach(([sec, ns], i) => w.writePacket(sec!, ns!, frameBytes(i + 1, 40 + s)));
      const f = path.join(dir, `merge-${s}.pcap`);
      fs.writeFileSync(f, w.toBuffer());
      return f;
    });
    const out = path.join(dir, 'mergecap.pcapng');
    await run('mergecap', ['-w', out, ...files]);
    const theirs = (await tshark(out)).map((t) => [t.len - 40, t.time]);
    const readers = [];
    for (const [i, f] of files.entries()) readers.push(await openCapture(f, i));
    const ours = (await drain(mergeReaders(readers))).map((f) => [f.source, epoch(f)]);
    const runs = (list: (string | number)[][]) => {
      const byTime = new Map<string, number[]>();
      for (const [src, time] of list) byTime.set(String(time), [...(byTime.get(String(time)) ?? []), Number(src)].sort());
      return [...byTime.entries()];
    };
    assert.deepEqual(
      ours.map((o) => o[1]),
      theirs.map((t) => t[1]),
    );
    assert.deepEqual(runs(ours), runs(theirs));
    // Ties: ours go to the lower source index.
    assert.deepEqual(
      ours.filter((o) => o[1] === '2.000000000').map((o) => o[0]),
      [0, 0, 1, 2],
    );
  });
});
