import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { openCapture, openCaptureStream } from '../../src/capture/open-capture.js';
import { BlockType } from '../../src/capture/pcapng-reader.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { CaptureError } from '../../src/capture/raw-packet.js';
import { drain, frameBytes, prng, tempDir } from './capture-helpers.js';

const dir = tempDir('fuzz');

function smallPcap(): Buffer {
  const w = new PcapWriter({ nanosecond: true, bigEndian: true });
  for (let i = 1; i <= 12; i++) w.writePacket(100 + i, i * 7, frameBytes(i, (i * 13) % 70), 80);
  return w.toBuffer();
}

function smallPcapng(): Buffer {
  const w = new PcapngWriter();
  w.section();
  w.addInterface({ tsresol: 9 });
  w.addInterface({ linkType: 113, tsresol: 0x94 });
  w.enhancedPacket(0, { sec: 1, ns: 2 }, frameBytes(1, 17));
  w.simplePacket(frameBytes(2, 40));
  w.block(0x80000001, Buffer.alloc(8));
  w.enhancedPacket(1, { sec: 3, ns: 4 }, frameBytes(3, 0));
  w.interfaceStatistics(1, 0n, { endTime: 5n, ifDrop: 1 });
  w.section({ bigEndian: true });
  w.addInterface({ linkType: 101 });
  w.packetBlock(0, { sec: 5, ns: 0 }, frameBytes(4, 33));
  w.block(BlockType.CUSTOM, Buffer.alloc(12));
  w.enhancedPacket(0, { sec: 6, ns: 0 }, frameBytes(6, 50));
  return w.toBuffer();
}

async function readStream(pieces: Buffer[]) {
  const reader = await openCaptureStream(Readable.from(pieces, { objectMode: false }), 'split', 0);
  return { frames: await drain(reader), error: reader.error };
}

describe('split at every offset (stream path: records assembled from two chunks)', () => {
  for (const [label, bytes] of [
    ['pcap', smallPcap()],
    ['pcapng', smallPcapng()],
  ] as const) {
    it(`${label}: two pieces, cut at each of ${bytes.length - 1} offsets, give the same frames`, async () => {
      const whole = await readStream([bytes]);
      assert.equal(whole.error, null);
      assert.ok(whole.frames.length >= 5);
      for (let k = 1; k < bytes.length; k++) {
        const got = await readStream([bytes.subarray(0, k), bytes.subarray(k)]);
        assert.equal(got.error, null, `cut at ${k}`);
        assert.deepEqual(got.frames, whole.frames, `cut at ${k}`);
      }
    });
  }
});

describe('fuzz: mutated and truncated files never throw anything but CaptureError', () => {
  for (const [label, bytes] of [
    ['pcap', smallPcap()],
    ['pcapng', smallPcapng()],
  ] as const) {
    it(`${label}: 400 mutations, random chunk sizes`, async () => {
      const rnd = prng(label === 'pcap' ? 5 : 6);
      const file = path.join(dir, `${label}.fuzz`);
      let damaged = 0;
      for (let round = 0; round < 400; round++) {
        const b = Buffer.from(bytes);
        const edits = 1 + Math.floor(rnd() * 4);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(rnd() * b.length);
          // Mostly single bytes; sometimes a 32-bit field set to an extreme.
          if (rnd() < 0.7) b[at] = Math.floor(rnd() * 256);
          else if (at + 4 <= b.length) b.writeUInt32LE([0, 0xffffffff, 11, 13, 0x40000, 0x7fffffff][Math.floor(rnd() * 6)]!, at);
        }
        const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
        fs.writeFileSync(file, cut);
        let reader;
        try {
          reader = await openCapture(file, 0, { chunkSize: 1 + Math.floor(rnd() * 64) });
        } catch (err) {
          assert.ok(err instanceof CaptureError, `round ${round}: ${String(err)}`);
          damaged++;
          continue;
        }
        const frames = await drain(reader);
        assert.ok(reader.error === null || reader.error instanceof CaptureError);
        if (reader.error !== null) damaged++;
        assert.ok(frames.length <= 20, `round ${round}: ${frames.length} frames`);
        for (const f of frames) assert.ok(f.capLen <= cut.length && f.tsNs >= 0 && f.tsNs < 1e9, `round ${round}`);
      }
      assert.ok(damaged > 100, `only ${damaged} of 400 mutations were reported as damage`);
    });
  }
});
