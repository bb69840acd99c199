import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { openCapture, openCaptureStream } from '../../src/capture/open-capture.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { drain, frameBytes, prng, readCapture, tempDir, type Seen } from './capture-helpers.js';

const dir = tempDir('open');

function pcapBytes(opts: { nanosecond?: boolean; bigEndian?: boolean } = {}): Buffer {
  const w = new PcapWriter({ ...opts, linkType: 1 });
  for (let i = 1; i <= 40; i++) w.writePacket(1_700_000_000 + i, i * 123_457, frameBytes(i, 20 + ((i * 37) % 200)));
  return w.toBuffer();
}

function pcapngBytes(): Buffer {
  const w = new PcapngWriter();
  w.section();
  w.addInterface({ linkType: 1, tsresol: 9 });
  w.addInterface({ linkType: 113 });
  for (let i = 1; i <= 30; i++) w.enhancedPacket(i % 2, { sec: 1_700_000_000 + i, ns: i * 999 }, frameBytes(i, 30 + i * 5));
  w.section({ bigEndian: true });
  w.addInterface({ linkType: 101 });
  for (let i = 31; i <= 40; i++) w.enhancedPacket(0, { sec: 1_700_000_000 + i, ns: 0 }, frameBytes(i, i));
  return w.toBuffer();
}

function save(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** A Readable that hands out `bytes` in small random pieces (1 to 9 bytes). */
function trickle(bytes: Buffer, seed: number): Readable {
  const rnd = prng(seed);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const k = 1 + Math.floor(rnd() * 9);
    pieces.push(bytes.subarray(i, i + k));
    i += k;
  }
  return Readable.from(pieces, { objectMode: false });
}

interface ChildResult {
  frames?: Seen[];
  error?: { file: string; offset: number; reason: string } | null;
  info?: { format: string; totalBytes: number | null; bytesRead: number; linkTypes: number[]; frames: number };
  rejected?: { file: string; offset: number; reason: string };
}

/** Runs stdin-child.js with standard input redirected from `file`, or fed `bytes` through a pipe. */
function runChild(input: { file: string } | { bytes: Buffer }): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const stdin = 'file' in input ? fs.openSync(input.file, 'r') : 'pipe';
    const child = spawn(process.execPath, [path.join(__dirname, 'stdin-child.js'), '--stdin-child'], {
      stdio: [stdin, 'pipe', 'inherit'],
    });
    if (typeof stdin === 'number') fs.closeSync(stdin);
    let out = '';
    const stdout = child.stdout;
    if (stdout === null) throw new Error('no stdout pipe');
    stdout.setEncoding('utf8');
    stdout.on('data', (s: string) => (out += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`child exited with ${code}`));
      else resolve(JSON.parse(out) as ChildResult);
    });
    if ('bytes' in input) child.stdin?.end(input.bytes);
  });
}

describe('openCapture: format detection, gzip, standard input', () => {
  it('detects the format from the content, never the name', async () => {
    const asPcapng = save('really-pcap.pcapng', pcapBytes());
    const asPcap = save('really-pcapng.pcap', pcapngBytes());
    const noExt = save('capture', pcapBytes({ nanosecond: true, bigEndian: true }));
    assert.equal((await readCapture(asPcapng)).reader.info.format, 'pcap');
    assert.equal((await readCapture(asPcap)).reader.info.format, 'pcapng');
    assert.equal((await readCapture(noExt)).reader.info.format, 'pcap-ns');
  });

  for (const [label, bytes, format] of [
    ['pcap', pcapBytes(), 'pcap+gzip'],
    ['big-endian ns pcap', pcapBytes({ nanosecond: true, bigEndian: true }), 'pcap-ns+gzip'],
    ['pcapng', pcapngBytes(), 'pcapng+gzip'],
  ] as const) {
    it(`reads gzip-compressed ${label} as a stream, with the same frames and offsets as the plain file`, async () => {
      const plain = await readCapture(save(`${label}.plain`, bytes));
      assert.equal(plain.reader.error, null);
      const gz = zlib.gzipSync(bytes);
      const file = save(`${label}.gz`, gz);
      for (const chunkSize of [undefined, 1, 7, 100]) {
        const { reader, frames } = await readCapture(file, chunkSize === undefined ? {} : { chunkSize });
        assert.equal(reader.error, null);
        assert.deepEqual(frames, plain.frames, `chunk size ${chunkSize}`);
        assert.equal(reader.info.format, format);
        assert.equal(reader.info.totalBytes, gz.length);
        assert.equal(reader.info.bytesRead, gz.length, 'bytesRead counts compressed bytes');
      }
    });
  }

  it('reads concatenated gzip members (e.g. a file gzipped in pieces) as one stream', async () => {
    const bytes = pcapBytes();
    const cut = 500;
    const file = save('members.gz', Buffer.concat([zlib.gzipSync(bytes.subarray(0, cut)), zlib.gzipSync(bytes.subarray(cut))]));
    const plain = await readCapture(save('members.plain', bytes));
    const { reader, frames } = await readCapture(file);
    assert.equal(reader.error, null);
    assert.deepEqual(frames, plain.frames);
  });

  it('reads a stream handing out bytes in pieces of 1 to 9 bytes (plain and gzip)', async () => {
    for (const [i, bytes] of [pcapBytes(), pcapngBytes(), zlib.gzipSync(pcapngBytes())].entries()) {
      const plainBytes = i === 2 ? pcapngBytes() : bytes;
      const plain = await readCapture(save(`trickle-${i}`, plainBytes));
      const reader = await openCaptureStream(trickle(bytes, i + 1), 'trickle', 0);
      const frames = await drain(reader);
      assert.equal(reader.error, null);
      assert.deepEqual(frames, plain.frames);
      assert.equal(reader.info.totalBytes, null);
      assert.equal(reader.info.bytesRead, bytes.length);
    }
  });

  it('reads "-" from a redirected file and from a pipe, in a child process', async () => {
    const cases: [string, Buffer][] = [
      ['pcap', pcapBytes()],
      ['pcapng', pcapngBytes()],
      ['pcapng+gzip', zlib.gzipSync(pcapngBytes())],
    ];
    for (const [format, bytes] of cases) {
      const file = save(`stdin-${format}`, bytes);
      const direct = await readCapture(file, {}, 3);
      for (const input of [{ file }, { bytes }]) {
        const got = await runChild(input);
        assert.equal(got.error, null);
        assert.deepEqual(got.frames, direct.frames, `${format} via ${'file' in input ? 'redirect' : 'pipe'}`);
        assert.equal(got.info?.format, format);
        assert.equal(got.info?.totalBytes, null);
        assert.equal(got.info?.bytesRead, bytes.length);
      }
    }
  });

  const noMkfifo = spawnSync('sh', ['-c', 'command -v mkfifo'], { stdio: 'ignore' }).status === 0 ? false : 'mkfifo is not available';
  for (const gzip of [false, true]) {
    it(`reads a FIFO (no size, no read-ahead) like a file${gzip ? ': gzip too (it cannot be read again from the start)' : ''}`, { skip: noMkfifo }, async () => {
      const capture = pcapngBytes();
      const bytes = gzip ? zlib.gzipSync(capture) : capture;
      const plain = await readCapture(save(`fifo-plain-${gzip}`, capture));
      const fifo = path.join(dir, `capture-${gzip}.fifo`);
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      // A writer in another process; opening the FIFO for reading blocks until it is there.
      const writer = spawn('sh', ['-c', 'cat "$0" > "$1"', save(`fifo-src-${gzip}`, bytes), fifo], { stdio: 'ignore' });
      const written = new Promise((resolve) => writer.on('close', resolve));
      const { reader, frames } = await readCapture(fifo, { chunkSize: 100 });
      await written;
      assert.equal(reader.error, null);
      assert.ok(plain.frames.length > 0);
      assert.deepEqual(frames, plain.frames);
      assert.equal(reader.info.totalBytes, null);
      assert.equal(reader.info.bytesRead, bytes.length);
    });
  }

  it('releases the file when closed part-way, and when it ends', { skip: fs.existsSync('/proc/self/fd') ? false : 'no /proc' }, async () => {
    const file = save('close.pcap', pcapBytes());
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    const r = await openCapture(file, 0, { chunkSize: 64 });
    assert.ok(r.next() !== null);
    r.close();
    assert.equal(r.next(), null);
    assert.equal(r.error, null);
    await drain(await openCapture(file, 0, { chunkSize: 64 }));
    // Closing is asynchronous (after any read in flight): give it a moment.
    // At most as many as before: a descriptor an earlier test was still closing may be gone by now.
    for (let i = 0; i < 50 && fds() > before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(fds() <= before, `${fds()} descriptors open, ${before} before`);
  });

  it('rejects an empty standard input and damage in it names "-"', async () => {
    const empty = await runChild({ bytes: Buffer.alloc(0) });
    assert.deepEqual(empty.rejected, { file: '-', offset: 0, reason: 'empty file: no capture header' });
    const cut = pcapBytes();
    const got = await runChild({ bytes: cut.subarray(0, cut.length - 3) });
    assert.equal(got.frames?.length, 39);
    assert.equal(got.error?.file, '-');
    assert.match(got.error?.reason ?? '', /^truncated record: frame 40/);
  });
});
