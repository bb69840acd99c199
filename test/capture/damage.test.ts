import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { MAX_CAPLEN, MAX_PCAPNG_BLOCK } from '../../src/capture/limits.js';
import { openCapture, openCaptureStream } from '../../src/capture/open-capture.js';
import { BlockType } from '../../src/capture/pcapng-reader.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { CaptureError } from '../../src/capture/raw-packet.js';
import { NEED_MORE } from '../../src/capture/reader.js';
import { drain, frameBytes, readCapture, tempDir } from './capture-helpers.js';

const dir = tempDir('damage');
let n = 0;

function save(bytes: Uint8Array, ext = 'cap'): string {
  const file = path.join(dir, `f${++n}.${ext}`);
  fs.writeFileSync(file, bytes);
  return file;
}

/** A valid µs pcap of frames 1..count with 100-byte records; returns the bytes and each record's offset. */
function validPcap(count: number, opts: { snapLen?: number } = {}): { bytes: Buffer; offsets: number[] } {
  const w = new PcapWriter({ snapLen: opts.snapLen ?? 65535 });
  const offsets: number[] = [];
  for (let i = 1; i <= count; i++) {
    offsets.push(24 + (i - 1) * 116);
    w.writePacket(1_700_000_000 + i, i * 1000, frameBytes(i, 100));
  }
  return { bytes: w.toBuffer(), offsets };
}

/** pcapng with one section, one Ethernet interface and `count` EPBs of 100 bytes (each block 132 bytes). */
function validPcapng(count: number): { w: PcapngWriter; offsets: number[] } {
  const w = new PcapngWriter();
  w.section();
  w.addInterface({ linkType: 1 });
  const offsets: number[] = [];
  for (let i = 1; i <= count; i++) {
    offsets.push(w.byteLength);
    w.enhancedPacket(0, { sec: 1_700_000_000 + i, ns: 0 }, frameBytes(i, 100));
  }
  return { w, offsets };
}

async function rejects(file: string, offset: number, reason: string | RegExp): Promise<void> {
  await assert.rejects(openCapture(file, 0), (err: unknown) => {
    assert.ok(err instanceof CaptureError, `expected a CaptureError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.equal(err.offset, offset);
    if (typeof reason === 'string') assert.equal(err.reason, reason);
    else assert.match(err.reason, reason);
    assert.equal(err.message, `${file}: at byte ${offset}: ${err.reason}`);
    return true;
  });
}

/** Reads to the end; checks the frames kept and the damage (file, offset, reason). */
async function damaged(file: string, kept: number[], offset: number, reason: string | RegExp, chunkSize?: number) {
  const { reader, frames } = await readCapture(file, chunkSize === undefined ? {} : { chunkSize });
  assert.deepEqual(
    frames.map((f) => f.frame),
    kept,
  );
  for (const f of frames) assert.equal(f.bytes, frameBytes(f.frame, f.capLen).toString('hex'));
  const err = reader.error;
  assert.ok(err instanceof CaptureError, 'expected damage to be reported');
  assert.equal(err.file, file);
  assert.equal(err.offset, offset);
  if (typeof reason === 'string') assert.equal(err.reason, reason);
  else assert.match(err.reason, reason);
  // After damage the reader stays finished.
  assert.equal(reader.next(), null);
  await reader.fill();
  assert.equal(reader.next(), null);
  return reader;
}

describe('unreadable sources are rejected with file, offset and reason', () => {
  it('zero-length file', async () => {
    await rejects(save(Buffer.alloc(0)), 0, 'empty file: no capture header');
  });
  it('wrong magic', async () => {
    await rejects(save(Buffer.from('\x7fELF\x02\x01\x01\x00 not a capture', 'latin1')), 0, 'not a capture file: unknown magic 0x7f454c46');
  });
  it('a directory', async () => {
    await rejects(dir, 0, 'is a directory');
  });
  it('a missing file', async () => {
    await rejects(path.join(dir, 'no-such.pcap'), 0, 'no such file');
  });
  it('a file too short for any magic', async () => {
    await rejects(save(Buffer.from([0xd4, 0xc3, 0xb2])), 0, 'not a capture file: only 3 bytes');
  });
  it('a truncated pcap file header', async () => {
    await rejects(save(validPcap(0).bytes.subarray(0, 10)), 0, 'truncated pcap file header: 10 of 24 bytes');
  });
  it('an unsupported pcap version', async () => {
    const b = validPcap(1).bytes;
    b.writeUInt16LE(3, 4);
    await rejects(save(b), 4, 'unsupported pcap version 3.4');
  });
  it('the modified (Kuznetzov) pcap magic, with advice', async () => {
    const b = validPcap(1).bytes;
    b.writeUInt32BE(0xa1b2cd34, 0);
    await rejects(save(b), 0, /^unsupported capture format: modified \(Kuznetzov\) pcap, magic 0xa1b2cd34/);
  });
  it('a pcapng file cut inside its Section Header Block', async () => {
    const b = validPcapng(1).w.toBuffer();
    await rejects(save(b.subarray(0, 20)), 0, 'truncated pcapng Section Header Block: 20 of 28 bytes');
  });
  it('a pcapng Section Header Block with a bad byte-order magic', async () => {
    const b = validPcapng(1).w.toBuffer();
    b.writeUInt32BE(0x01020304, 8);
    await rejects(save(b), 8, 'Section Header Block with a bad byte-order magic 0x01020304');
  });
  it('gzip data whose content has an unknown magic', async () => {
    await rejects(save(zlib.gzipSync(Buffer.from('hello, world'))), 0, 'not a capture file: gzip-compressed data with unknown magic 0x68656c6c');
  });
  it('an empty gzip stream', async () => {
    await rejects(save(zlib.gzipSync(Buffer.alloc(0))), 0, 'empty gzip stream: no capture header');
  });
});

describe('damage in classic pcap: every frame before it is kept', () => {
  it('a truncated last record', async () => {
    const { bytes, offsets } = validPcap(5);
    const file = save(bytes.subarray(0, bytes.length - 5));
    await damaged(file, [1, 2, 3, 4], offsets[4]!, 'truncated record: frame 5 declares 100 captured bytes but the file ends after 95');
    // The same with records crossing chunk boundaries.
    await damaged(file, [1, 2, 3, 4], offsets[4]!, /^truncated record: frame 5/, 7);
  });

  it('a file cut inside the last record header', async () => {
    const { bytes, offsets } = validPcap(5);
    const file = save(bytes.subarray(0, offsets[4]! + 7));
    await damaged(file, [1, 2, 3, 4], offsets[4]!, 'truncated record header: the file ends 7 bytes into the 16-byte header of frame 5');
  });

  it('a record longer than the snap length (within 256 KiB) is kept, with a note', async () => {
    const { bytes } = validPcap(4, { snapLen: 64 });
    const { reader, frames } = await readCapture(save(bytes));
    assert.equal(reader.error, null);
    assert.deepEqual(
      frames.map((f) => f.capLen),
      [100, 100, 100, 100],
    );
    assert.deepEqual(reader.info.notes, ["frame 1: captured length 100 above the file's snap length 64 (kept whole) (4 times in all)"]);
  });

  it('a captured length above the original length is kept, with a note', async () => {
    const w = new PcapWriter();
    w.writePacket(1, 0, frameBytes(1, 100), 60);
    const { reader, frames } = await readCapture(save(w.toBuffer()));
    assert.equal(reader.error, null);
    assert.equal(frames.length, 1);
    assert.deepEqual(reader.info.notes, ['frame 1: captured length 100 above the original length 60']);
  });

  it('an absurd record length (> 256 KiB) stops at once, without waiting for the bytes it claims', async () => {
    const { bytes, offsets } = validPcap(4);
    bytes.writeUInt32LE(MAX_CAPLEN + 1, offsets[2]! + 8);
    const file = save(bytes);
    await damaged(
      file,
      [1, 2],
      offsets[2]!,
      `absurd record length ${MAX_CAPLEN + 1} in the header of frame 3 (limit ${MAX_CAPLEN} bytes): the file is damaged here`,
    );
  });

  it('a record of exactly 256 KiB is a packet, not damage', async () => {
    const w = new PcapWriter();
    w.writePacket(1, 0, frameBytes(1, MAX_CAPLEN));
    w.writePacket(2, 0, frameBytes(2, 10));
    for (const chunkSize of [undefined, 4096]) {
      const { reader, frames } = await readCapture(save(w.toBuffer()), chunkSize === undefined ? {} : { chunkSize });
      assert.equal(reader.error, null);
      assert.deepEqual(
        frames.map((f) => f.capLen),
        [MAX_CAPLEN, 10],
      );
      assert.equal(frames[0]!.bytes, frameBytes(1, MAX_CAPLEN).toString('hex'));
    }
  });

  it('garbage appended after valid data: reported where the valid data ends', async () => {
    const { bytes } = validPcap(3);
    const junk = Buffer.from('this is not a packet record, only trailing junk from a bad copy', 'latin1');
    const claimed = junk.readUInt32LE(8);
    assert.ok(claimed > MAX_CAPLEN);
    await damaged(
      save(Buffer.concat([bytes, junk])),
      [1, 2, 3],
      bytes.length,
      `absurd record length ${claimed} in the header of frame 4 (limit ${MAX_CAPLEN} bytes): the file is damaged here`,
    );
    // Fewer bytes of junk than a record header.
    await damaged(
      save(Buffer.concat([bytes, junk.subarray(0, 5)])),
      [1, 2, 3],
      bytes.length,
      'truncated record header: the file ends 5 bytes into the 16-byte header of frame 4',
    );
  });

  it('a gzip file cut short: the frames decompressed before the cut are kept', async () => {
    const { bytes, offsets } = validPcap(400);
    const gz = zlib.gzipSync(bytes);
    const file = save(gz.subarray(0, Math.floor(gz.length * 0.6)), 'gz');
    const { reader, frames } = await readCapture(file);
    assert.ok(frames.length > 0 && frames.length < 400, `kept ${frames.length}`);
    assert.deepEqual(
      frames.map((f) => f.frame),
      Array.from({ length: frames.length }, (_, i) => i + 1),
    );
    const err = reader.error;
    assert.ok(err instanceof CaptureError);
    assert.equal(err.file, file);
    assert.equal(err.offset, offsets[frames.length]);
    assert.match(err.reason, /^gzip data ends early \(the file was cut short\) \(at byte \d+ of the compressed file\)$/);
  });
});

describe('damaged gzip: everything decompressed before the damage is kept', () => {
  it('a bad CRC-32 in the trailer: every frame is kept, then the damage is named', async () => {
    const { bytes } = validPcap(50);
    const gz = Buffer.from(zlib.gzipSync(bytes));
    gz[gz.length - 7]! ^= 0xff;
    const file = save(gz, 'gz');
    const { reader, frames } = await readCapture(file);
    assert.equal(frames.length, 50);
    assert.match(reader.error?.reason ?? '', /^gzip data is damaged: CRC-32 does not match the data \(at byte \d+ of the compressed file\)$/);
  });

  it('several gzip members (cat a.gz b.gz) read as one stream; garbage after them is damage', async () => {
    const { bytes } = validPcap(30);
    const cut = 24 + 16 + 60;
    const two = Buffer.concat([zlib.gzipSync(bytes.subarray(0, cut)), zlib.gzipSync(bytes.subarray(cut))]);
    const whole = await readCapture(save(two, 'gz'));
    assert.equal(whole.frames.length, 30);
    assert.equal(whole.reader.error, null);
    const tail = await readCapture(save(Buffer.concat([two, Buffer.from('not gzip at all')]), 'gz'));
    assert.equal(tail.frames.length, 30);
    assert.match(tail.reader.error?.reason ?? '', /^garbage after the gzip data/);
  });
});

describe('damage in pcapng: every frame before it is kept', () => {
  it('a block length below 12', async () => {
    const { w, offsets } = validPcapng(2);
    w.block(BlockType.EPB, Buffer.alloc(20), { totalLength: 8 });
    await damaged(save(w.toBuffer()), [1, 2], offsets[1]! + 132, 'Enhanced Packet Block length 8 is below the 12-byte minimum: the file is damaged here');
  });

  it('a block length that is not a multiple of 4', async () => {
    const { w, offsets } = validPcapng(3);
    const b = w.toBuffer();
    b.writeUInt32LE(130, offsets[1]! + 4);
    await damaged(save(b), [1], offsets[1]!, 'Enhanced Packet Block length 130 is not a multiple of 4: the file is damaged here');
  });

  it('a block length that disagrees with its trailing copy', async () => {
    const { w, offsets } = validPcapng(3);
    const b = w.toBuffer();
    b.writeUInt32LE(136, offsets[2]! + 132 - 4);
    await damaged(save(b), [1, 2], offsets[2]!, 'Enhanced Packet Block length 132 disagrees with its trailing copy 136: the file is damaged here');
  });

  it('an absurd block length, without waiting for the bytes it claims', async () => {
    const { w, offsets } = validPcapng(3);
    const b = w.toBuffer();
    b.writeUInt32LE(0x00fffff0, offsets[1]! + 4);
    await damaged(save(b), [1], offsets[1]!, `absurd Enhanced Packet Block length ${0x00fffff0} (limit ${MAX_PCAPNG_BLOCK} bytes): the file is damaged here`);
  });

  it('an absurd captured length inside a block', async () => {
    const { w, offsets } = validPcapng(2);
    const b = w.toBuffer();
    b.writeUInt32LE(300_000, offsets[1]! + 20);
    await damaged(save(b), [1], offsets[1]!, /^absurd captured length 300000 in the Enhanced Packet Block of frame 2 \(limit 262144 bytes\)/);
  });

  it('a captured length the block cannot hold', async () => {
    const { w, offsets } = validPcapng(2);
    const b = w.toBuffer();
    b.writeUInt32LE(101, offsets[1]! + 20);
    await damaged(save(b), [1], offsets[1]!, 'Enhanced Packet Block of 132 bytes cannot hold its 101 captured bytes: the file is damaged here');
  });

  it('a truncated last block', async () => {
    const { w, offsets } = validPcapng(4);
    const b = w.toBuffer();
    const file = save(b.subarray(0, b.length - 10));
    await damaged(file, [1, 2, 3], offsets[3]!, 'truncated block: Enhanced Packet Block of 132 bytes, but the file ends after 122');
    await damaged(file, [1, 2, 3], offsets[3]!, /^truncated block: Enhanced Packet Block of 132 bytes/, 5);
    await damaged(save(b.subarray(0, offsets[3]! + 6)), [1, 2, 3], offsets[3]!, 'truncated block: the file ends 6 bytes into a block header');
  });

  it('garbage appended after valid data', async () => {
    const { w } = validPcapng(2);
    const valid = w.toBuffer();
    const junk = Buffer.from('JUNKJUNKJUNKJUNKJUNK', 'latin1');
    const type = junk.readUInt32LE(0);
    const len = junk.readUInt32LE(4);
    await damaged(
      save(Buffer.concat([valid, junk])),
      [1, 2],
      valid.length,
      `absurd block of type 0x${type.toString(16)} length ${len} (limit ${MAX_PCAPNG_BLOCK} bytes): the file is damaged here`,
    );
  });

  it('an EPB naming an interface with no Interface Description Block', async () => {
    const { w, offsets } = validPcapng(2);
    w.block(BlockType.EPB, Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.alloc(16), frameBytes(3, 4)]));
    await damaged(save(w.toBuffer()), [1, 2], offsets[1]! + 132, 'Enhanced Packet Block names interface 2, but this section has 1 Interface Description Block(s)');
  });

  it('interfaces do not carry over into a new section', async () => {
    const { w, offsets } = validPcapng(1);
    w.section();
    const at = w.byteLength;
    w.block(BlockType.EPB, Buffer.concat([Buffer.alloc(20), frameBytes(2, 4)]));
    assert.ok(at > offsets[0]!);
    await damaged(save(w.toBuffer()), [1], at, 'Enhanced Packet Block names interface 0, but this section has 0 Interface Description Block(s)');
  });

  it('a Simple Packet Block before any Interface Description Block', async () => {
    const w = new PcapngWriter();
    w.section();
    const at = w.byteLength;
    w.simplePacket(frameBytes(1, 10));
    await damaged(save(w.toBuffer()), [], at, 'Simple Packet Block before any Interface Description Block in this section');
  });

  it('a later section with a bad byte-order magic or an unsupported version', async () => {
    const { w } = validPcapng(1);
    const at = w.byteLength;
    w.section({ major: 2 });
    const b = w.toBuffer();
    await damaged(save(b), [1], at, 'unsupported pcapng version 2.0');
    b.writeUInt32BE(0xdeadbeef, at + 8);
    await damaged(save(b), [1], at + 8, 'Section Header Block with a bad byte-order magic 0xdeadbeef');
  });

  it('an interface option running past its block', async () => {
    const w = new PcapngWriter();
    w.section();
    const at = w.byteLength;
    // if_tsresol claiming 64 bytes in a block that has 4 after the option header.
    w.block(BlockType.IDB, Buffer.from([1, 0, 0, 0, 0, 0, 4, 0, 9, 0, 64, 0, 6, 0, 0, 0]));
    await damaged(save(w.toBuffer()), [], at, 'option 9 of an Interface Description Block runs past the block end');
  });
});

describe('memory stays bounded whatever a length claims', () => {
  /** An endless stream: the given head, then zero bytes forever. Counts what was pulled from it. */
  function endless(head: Buffer): { stream: Readable; pulled: () => number } {
    let pulled = 0;
    let sentHead = false;
    const zeros = Buffer.alloc(64 * 1024);
    const stream = new Readable({
      read() {
        const c = sentHead ? zeros : head;
        sentHead = true;
        pulled += c.length;
        this.push(c);
      },
    });
    return { stream, pulled: () => pulled };
  }

  it('an absurd pcap record length on an endless stream stops at the header', async () => {
    const { bytes } = validPcap(1);
    const header = Buffer.alloc(16);
    header.writeUInt32LE(0x7fffffff, 8);
    const src = endless(Buffer.concat([bytes, header]));
    const reader = await openCaptureStream(src.stream, 'endless', 0);
    const frames = await drain(reader);
    assert.equal(frames.length, 1);
    assert.match(reader.error?.reason ?? '', /^absurd record length 2147483647/);
    assert.ok(src.pulled() < 1024 * 1024, `pulled ${src.pulled()} bytes`);
  });

  it('a large but allowed pcapng block length reads only that block, then finds the damage', async () => {
    const { w } = validPcapng(1);
    const at = w.byteLength;
    const header = Buffer.alloc(8);
    header.writeUInt32LE(0x80000001, 0);
    header.writeUInt32LE(MAX_PCAPNG_BLOCK, 4);
    const src = endless(Buffer.concat([w.toBuffer(), header]));
    const reader = await openCaptureStream(src.stream, 'endless', 0);
    let steps = 0;
    for (;;) {
      const p = reader.next();
      if (p === null) break;
      if (p === NEED_MORE) {
        steps++;
        await reader.fill();
      }
    }
    assert.ok(steps > 1);
    assert.equal(reader.error?.offset, at);
    assert.match(reader.error?.reason ?? '', /disagrees with its trailing copy 0/);
    assert.ok(src.pulled() < MAX_PCAPNG_BLOCK + 5 * 65536, `pulled ${src.pulled()} bytes`);
  });
});
