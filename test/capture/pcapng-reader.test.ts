import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { BlockType, PcapngInterface, ticksToTime } from '../../src/capture/pcapng-reader.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { frameBytes, prng, readCapture, tempDir, type Seen } from './capture-helpers.js';

const dir = tempDir('pcapng');

function save(name: string, w: PcapngWriter): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, w.toBuffer());
  return file;
}

/** The pcapng rule (seconds = ticks / units, ns = remainder × 10^9 / units, rounded down), in BigInt. */
function timeOf(ticks: bigint, tsresol: number, offset = 0n): [number, number] {
  const exp = BigInt(tsresol & 0x7f);
  const units = (tsresol & 0x80) !== 0 ? 1n << exp : 10n ** exp;
  return [Number(ticks / units + offset), Number(((ticks % units) * 1_000_000_000n) / units)];
}

function randomTicks(rnd: () => number, max: bigint): bigint {
  const hi = BigInt(Math.floor(rnd() * 4294967296));
  const lo = BigInt(Math.floor(rnd() * 4294967296));
  return ((hi << 32n) | lo) % max;
}

describe('pcapng reader', () => {
  it('reads several sections in both byte orders, each interface with its own link type and resolution', async () => {
    const w = new PcapngWriter();
    const want: Seen[] = [];
    let frame = 0;
    const add = (ifId: number, ticks: bigint, tsresol: number, offset: bigint, linkType: number, digits: number, len: number) => {
      const off = w.byteLength;
      const data = frameBytes(++frame, len);
      w.enhancedPacket(ifId, ticks, data, { origLen: len + 3 });
      const [tsSec, tsNs] = timeOf(ticks, tsresol, offset);
      want.push({
        frame,
        source: 0,
        tsSec,
        tsNs,
        tsDigits: digits,
        linkType,
        interfaceId: ifId,
        capLen: len,
        origLen: len + 3,
        fileOffset: off,
        bytes: data.toString('hex'),
      });
    };
    w.section();
    const eth = w.addInterface({ linkType: 1 });
    const sll = w.addInterface({ linkType: 113, tsresol: 9 });
    add(eth, 1_700_000_000_123_456n, 6, 0n, 1, 6, 61);
    add(sll, 1_700_000_000_123_456_789n, 9, 0n, 113, 9, 62);
    add(eth, 1_700_000_001_000_001n, 6, 0n, 1, 6, 63);
    w.section({ bigEndian: true });
    const raw = w.addInterface({ linkType: 101, tsresol: 3 });
    const nul = w.addInterface({ linkType: 0, tsresol: 0x8a, tsoffset: -5 });
    add(nul, 1_700_000_002n * 1024n + 1n, 0x8a, -5n, 0, 4, 1);
    add(raw, 1_700_000_003_999n, 3, 0n, 101, 3, 2);
    w.section();
    const eth2 = w.addInterface({ linkType: 1, tsresol: 9 });
    add(eth2, 1_700_000_004_000_000_007n, 9, 0n, 1, 9, 1514);

    const { reader, frames } = await readCapture(save('sections.pcapng', w));
    assert.equal(reader.error, null);
    assert.deepEqual(frames, want);
    assert.deepEqual(reader.info.linkTypes, [1, 113, 101, 0, 1]);
    assert.equal(reader.info.format, 'pcapng');
    assert.equal(reader.info.frames, 6);
  });

  it('converts timestamps exactly for power-of-10 and power-of-2 if_tsresol, with the digits each needs', async () => {
    // Digits needed to tell ticks apart: 10^-n needs n (at most 9); 2^-10 s ≈ 0.98 ms needs 4, 2^-20 needs 7.
    const cases: [number, number][] = [
      [0, 0], [1, 1], [3, 3], [6, 6], [9, 9], [10, 9], [12, 9], [19, 9],
      [0x80, 0], [0x81, 1], [0x8a, 4], [0x94, 7], [0x9e, 9], [0xa0, 9], [0xa8, 9], [0xbf, 9],
    ];
    const rnd = prng(42);
    const w = new PcapngWriter();
    w.section();
    const want: [number, number, number, number][] = [];
    cases.forEach(([tsresol, digits], ifId) => {
      w.addInterface({ linkType: 1, tsresol });
      const exp = BigInt(tsresol & 0x7f);
      const units = (tsresol & 0x80) !== 0 ? 1n << exp : 10n ** exp;
      // Keep seconds within 2^53 so they are exact numbers; otherwise any 64-bit tick count.
      const max = units * (1n << 53n) < 1n << 64n ? units * (1n << 53n) : 1n << 64n;
      for (const ticks of [0n, units - 1n, units, max - 1n, randomTicks(rnd, max), randomTicks(rnd, max)]) {
        w.enhancedPacket(ifId, ticks, frameBytes(ifId, 8));
        const [s, ns] = timeOf(ticks, tsresol);
        want.push([ifId, s, ns, digits]);
      }
    });
    const { reader, frames } = await readCapture(save('resolutions.pcapng', w));
    assert.equal(reader.error, null);
    assert.deepEqual(
      frames.map((f) => [f.interfaceId, f.tsSec, f.tsNs, f.tsDigits]),
      want,
    );
  });

  it('ticksToTime agrees with BigInt arithmetic on random tick counts for every resolution', () => {
    const rnd = prng(1234);
    const out = { tsSec: 0, tsNs: 0 };
    for (const tsresol of [3, 6, 9, 10, 11, 12, 0x8a, 0x94, 0x9e, 0xa0, 0xa1, 0xa4]) {
      for (const offset of [0, -86_400, 3_600]) {
        const ifc = new PcapngInterface(1, 0, tsresol, offset);
        for (let i = 0; i < 2000; i++) {
          const ticks = randomTicks(rnd, 1n << 64n);
          const [s, ns] = timeOf(ticks, tsresol, BigInt(offset));
          if (s > Number.MAX_SAFE_INTEGER) continue;
          ticksToTime(ifc, Number(ticks >> 32n), Number(ticks & 0xffffffffn), out);
          assert.deepEqual([out.tsSec, out.tsNs], [s, ns], `tsresol 0x${tsresol.toString(16)} ticks ${ticks}`);
        }
      }
    }
  });

  it('honours if_tsoffset, positive and negative', async () => {
    const w = new PcapngWriter();
    w.section();
    w.addInterface({ tsresol: 9, tsoffset: 1_600_000_000 });
    w.addInterface({ tsoffset: -3_600n });
    w.enhancedPacket(0, 100_000_000_123n, frameBytes(1, 10));
    w.enhancedPacket(1, 1_700_003_600_000_001n, frameBytes(2, 10));
    const { frames } = await readCapture(save('tsoffset.pcapng', w));
    assert.deepEqual(
      frames.map((f) => [f.tsSec, f.tsNs]),
      [
        [1_600_000_100, 123],
        [1_700_000_000, 1000],
      ],
    );
  });

  it('numbers EPB, SPB, obsolete PB and Wireshark-listed non-packet records as Wireshark does', async () => {
    const w = new PcapngWriter();
    w.section();
    w.addInterface({ linkType: 1, snapLen: 100 });
    w.addInterface({ linkType: 113 });
    w.enhancedPacket(0, { sec: 10, ns: 5000 }, frameBytes(1, 60)); // frame 1
    const spbOff = w.byteLength;
    w.simplePacket(frameBytes(2, 100), 150); // frame 2: cut to the snap length 100
    w.packetBlock(1, { sec: 11, ns: 7000 }, frameBytes(3, 70), { origLen: 80 }); // frame 3
    w.block(BlockType.CUSTOM, Buffer.from([0, 0, 0x7f, 0xff, 1, 2, 3, 4])); // frame 4, no packet
    w.block(BlockType.NRB, Buffer.from([0, 0, 0, 0])); // not a frame
    w.block(BlockType.DSB, Buffer.alloc(8)); // not a frame
    w.enhancedPacket(1, { sec: 12, ns: 0 }, frameBytes(5, 33)); // frame 5
    const { reader, frames } = await readCapture(save('blocks.pcapng', w));
    assert.equal(reader.error, null);
    assert.deepEqual(
      frames.map((f) => [f.frame, f.interfaceId, f.linkType, f.capLen, f.origLen, f.tsSec, f.tsNs]),
      [
        [1, 0, 1, 60, 60, 10, 5000],
        [2, 0, 1, 100, 150, 10, 5000], // no timestamp of its own: the previous frame's
        [3, 1, 113, 70, 80, 11, 7000],
        [5, 1, 113, 33, 33, 12, 0],
      ],
    );
    assert.equal(frames[1]!.fileOffset, spbOff);
    assert.equal(frames[1]!.bytes, frameBytes(2, 100).toString('hex'));
    assert.equal(reader.info.frames, 4);
    const notes = reader.info.notes.join('\n');
    assert.match(notes, /frame 2: Simple Packet Blocks carry no timestamp/);
    assert.match(notes, /frame 4: Custom Block is a frame in Wireshark's numbering but no packet/);
    assert.doesNotMatch(notes, /Name Resolution|Decryption/);
  });

  it('takes the whole packet of an SPB when the snap length is 0 (no limit)', async () => {
    const w = new PcapngWriter();
    w.section();
    w.addInterface({ snapLen: 0 });
    w.simplePacket(frameBytes(1, 301));
    const { reader, frames } = await readCapture(save('spb-nosnap.pcapng', w));
    assert.equal(reader.error, null);
    assert.equal(frames[0]!.capLen, 301);
    assert.equal(frames[0]!.bytes, frameBytes(1, 301).toString('hex'));
  });

  it('skips unknown blocks by their length, noting each type once and at most 20 kinds', async () => {
    const w = new PcapngWriter();
    w.section();
    w.addInterface();
    for (let t = 0; t < 25; t++) {
      w.block(0x80000100 + t, frameBytes(t, 1 + t)); // local-use block types, odd lengths padded
      w.block(0x80000100 + t, Buffer.alloc(4));
      w.enhancedPacket(0, { sec: t, ns: 0 }, frameBytes(t, 5 + t));
    }
    const { reader, frames } = await readCapture(save('unknown.pcapng', w));
    assert.equal(reader.error, null);
    assert.deepEqual(
      frames.map((f) => [f.frame, f.tsSec, f.capLen]),
      Array.from({ length: 25 }, (_, t) => [t + 1, t, 5 + t]),
    );
    const notes = reader.info.notes;
    assert.equal(notes.length, 21);
    assert.match(notes[0]!, /skipped unknown block of type 0x80000100 at byte \d+ \(2 times in all\)/);
    // 25 block types, 20 kinds kept: 5 kinds more (each seen twice, counted once).
    assert.equal(notes[20], '5 more kinds of notes not shown');
  });

  it('records isb_endtime (latest) and isb_ifdrop (latest per interface, summed)', async () => {
    const w = new PcapngWriter();
    w.section();
    w.addInterface({ tsresol: 9 });
    w.addInterface();
    w.enhancedPacket(0, { sec: 100, ns: 1 }, frameBytes(1, 20));
    w.interfaceStatistics(0, { sec: 101, ns: 0 }, { endTime: { sec: 101, ns: 123_456_789 }, ifDrop: 3 });
    w.interfaceStatistics(1, { sec: 101, ns: 0 }, { endTime: { sec: 100, ns: 0 }, ifDrop: 2, ifRecv: 50 });
    w.interfaceStatistics(0, { sec: 102, ns: 0 }, { startTime: { sec: 99, ns: 0 }, endTime: { sec: 101, ns: 500 }, ifDrop: 5 });
    w.interfaceStatistics(7, 0n); // no such interface
    const { reader, frames } = await readCapture(save('isb.pcapng', w));
    assert.equal(reader.error, null);
    assert.equal(frames.length, 1);
    assert.equal(reader.info.droppedByCapture, 5 + 2);
    assert.deepEqual([reader.info.endTimeSec, reader.info.endTimeNs], [101, 123_456_789]);
    assert.match(reader.info.notes.join('\n'), /Interface Statistics Block for unknown interface 7 ignored/);
  });

  it('yields the same records whatever the chunk size, across sections and byte orders', async () => {
    const w = new PcapngWriter();
    let i = 0;
    for (const bigEndian of [false, true, false]) {
      w.section({ bigEndian });
      w.addInterface({ linkType: 1, tsresol: bigEndian ? 9 : 6, snapLen: 64 });
      w.addInterface({ linkType: 113 });
      w.enhancedPacket(1, { sec: ++i, ns: 7 }, frameBytes(i, i % 9), { options: w.options([w.option(1, Buffer.from('a comment'))]) });
      w.simplePacket(frameBytes(++i, 64), 70);
      w.block(0x80000001, Buffer.alloc(12));
      w.packetBlock(0, { sec: ++i, ns: 9 }, frameBytes(i, 3));
      w.interfaceStatistics(0, { sec: i, ns: 0 }, { ifDrop: i });
      w.enhancedPacket(0, { sec: ++i, ns: 11 }, frameBytes(i, 0));
    }
    const file = save('chunks.pcapng', w);
    const whole = await readCapture(file);
    assert.equal(whole.reader.error, null);
    assert.equal(whole.frames.length, 12);
    const size = fs.statSync(file).size;
    for (const chunkSize of [...Array.from({ length: 48 }, (_, k) => k + 1), 100, 127, 128, 129, 500, size - 1, size]) {
      const { reader, frames } = await readCapture(file, { chunkSize });
      assert.equal(reader.error, null, `chunk size ${chunkSize}`);
      assert.deepEqual(frames, whole.frames, `chunk size ${chunkSize}`);
      assert.equal(reader.info.droppedByCapture, whole.reader.info.droppedByCapture);
    }
  });
});
