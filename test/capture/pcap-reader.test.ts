import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { frameBytes, prng, readCapture, tempDir, type Seen } from './capture-helpers.js';

const dir = tempDir('pcap');

interface Pkt {
  tsSec: number;
  tsNs: number;
  data: Buffer;
  origLen: number;
}

/** Packets with varied lengths (0 to 1600 bytes), some cut by a snap length, timestamps with full ns. */
function makePackets(n: number, seed: number): Pkt[] {
  const rnd = prng(seed);
  const out: Pkt[] = [];
  let sec = 1_700_000_000;
  for (let i = 1; i <= n; i++) {
    sec += Math.floor(rnd() * 3);
    const len = i === 3 ? 0 : Math.floor(rnd() * 1600);
    const cut = rnd() < 0.2;
    out.push({ tsSec: sec, tsNs: Math.floor(rnd() * 1e9), data: frameBytes(i, len), origLen: cut ? len + 100 : len });
  }
  return out;
}

function writePcap(file: string, pkts: Pkt[], opts: { nanosecond: boolean; bigEndian: boolean; linkType?: number }): void {
  const w = new PcapWriter({ ...opts, snapLen: 65535 });
  for (const p of pkts) w.writePacket(p.tsSec, p.tsNs, p.data, p.origLen);
  fs.writeFileSync(file, w.toBuffer());
}

/** What a reader must yield for `pkts`, derived from the layout of the file we wrote. */
function expected(pkts: Pkt[], nanosecond: boolean, linkType: number): Seen[] {
  let off = 24;
  return pkts.map((p, i) => {
    const s: Seen = {
      frame: i + 1,
      source: 0,
      tsSec: p.tsSec,
      tsNs: nanosecond ? p.tsNs : Math.floor(p.tsNs / 1000) * 1000,
      tsDigits: nanosecond ? 9 : 6,
      linkType,
      interfaceId: 0,
      capLen: p.data.length,
      origLen: p.origLen,
      fileOffset: off,
      bytes: p.data.toString('hex'),
    };
    off += 16 + p.data.length;
    return s;
  });
}

describe('classic pcap reader', () => {
  const pkts = makePackets(60, 7);
  for (const nanosecond of [false, true]) {
    for (const bigEndian of [false, true]) {
      const label = `${nanosecond ? 'ns' : 'µs'} ${bigEndian ? 'big' : 'little'}-endian`;
      it(`reads a ${label} file: frames, exact timestamps, lengths, offsets, bytes`, async () => {
        const file = path.join(dir, `t-${label.replace(/\W+/g, '-')}.cap`);
        writePcap(file, pkts, { nanosecond, bigEndian, linkType: 113 });
        const { reader, frames } = await readCapture(file);
        assert.equal(reader.error, null);
        assert.deepEqual(frames, expected(pkts, nanosecond, 113));
        assert.equal(reader.info.format, nanosecond ? 'pcap-ns' : 'pcap');
        assert.deepEqual(reader.info.linkTypes, [113]);
        assert.equal(reader.info.frames, pkts.length);
        const size = fs.statSync(file).size;
        assert.equal(reader.info.totalBytes, size);
        assert.equal(reader.info.bytesRead, size);
        // Frames cut by the snap length are normal: no notes.
        assert.deepEqual(reader.info.notes, []);
        assert.equal(reader.info.endTimeSec, null);
        assert.equal(reader.info.droppedByCapture, null);
      });
    }
  }

  it('yields the same records whatever the chunk size (records cross chunk boundaries)', async () => {
    const small = makePackets(12, 11).map((p) => ({ ...p, data: p.data.subarray(0, p.data.length % 90) }));
    const fixed = small.map((p) => ({ ...p, origLen: Math.max(p.origLen % 90, p.data.length) }));
    const file = path.join(dir, 'chunks.pcap');
    writePcap(file, fixed, { nanosecond: true, bigEndian: false });
    const want = expected(fixed, true, 1);
    const size = fs.statSync(file).size;
    const sizes = [...Array.from({ length: 40 }, (_, i) => i + 1), 63, 64, 100, 257, 1000, size - 1, size, size + 1];
    for (const chunkSize of sizes) {
      const { reader, frames } = await readCapture(file, { chunkSize });
      assert.equal(reader.error, null, `chunk size ${chunkSize}`);
      assert.deepEqual(frames, want, `chunk size ${chunkSize}`);
    }
  });

  it('keeps only the link type bits of the header field (FCS flags are masked as libpcap does)', async () => {
    const w = new PcapWriter({ linkType: 0x14000001 });
    w.writePacket(1, 0, frameBytes(1, 60));
    const file = path.join(dir, 'fcs.pcap');
    fs.writeFileSync(file, w.toBuffer());
    const { reader, frames } = await readCapture(file);
    assert.deepEqual(reader.info.linkTypes, [1]);
    assert.equal(frames[0]!.linkType, 1);
  });

  it('carries an out-of-range sub-second field into the seconds and notes it', async () => {
    const w = new PcapWriter();
    w.writeRecord(100, 999_999, 4, 4, frameBytes(1, 4));
    w.writeRecord(100, 2_500_000, 4, 4, frameBytes(2, 4));
    const file = path.join(dir, 'frac.pcap');
    fs.writeFileSync(file, w.toBuffer());
    const { reader, frames } = await readCapture(file);
    assert.equal(reader.error, null);
    assert.deepEqual(
      frames.map((f) => [f.tsSec, f.tsNs]),
      [
        [100, 999_999_000],
        [102, 500_000_000],
      ],
    );
    assert.equal(reader.info.notes.length, 1);
    assert.match(reader.info.notes[0]!, /frame 2: sub-second field 2500000 is 1 s or more/);
  });

  it('reads a file whose only content is the header: no frames, no error', async () => {
    const file = path.join(dir, 'header-only.pcap');
    fs.writeFileSync(file, new PcapWriter().toBuffer());
    const { reader, frames } = await readCapture(file);
    assert.deepEqual(frames, []);
    assert.equal(reader.error, null);
  });

  it('counts a repeated oddity under one note instead of one note per frame', async () => {
    const w = new PcapWriter({ snapLen: 10 });
    for (let i = 1; i <= 500; i++) w.writePacket(i, 0, frameBytes(i, 20));
    const file = path.join(dir, 'notes.pcap');
    fs.writeFileSync(file, w.toBuffer());
    const { reader, frames } = await readCapture(file);
    assert.equal(frames.length, 500);
    assert.deepEqual(reader.info.notes, [
      "frame 1: captured length 20 above the file's snap length 10 (kept whole) (500 times in all)",
    ]);
  });
});
