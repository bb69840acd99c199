import * as fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import { FileChunkSource, IterableChunkSource, PrefixedChunkSource, type ChunkSource } from './chunk-source.js';
import { describeSourceError } from './framed-reader.js';
import { gunzipChunks } from './gzip-chunks.js';
import { DEFAULT_CHUNK_SIZE } from './limits.js';
import { isPcapMagic, PcapReader } from './pcap-reader.js';
import { PCAPNG_MAGIC, PcapngReader } from './pcapng-reader.js';
import { CaptureError } from './raw-packet.js';
import type { CaptureReader } from './reader.js';
import { SourceInfo } from './source-info.js';

export interface OpenCaptureOptions {
  /**
   * Bytes per read from a file (default 1 MiB); also the read size under gzip. Tests pass tiny values to
   * force records across chunk boundaries.
   */
  chunkSize?: number;
  /** The stream "-" stands for (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

const GZIP_ID1 = 0x1f;
const GZIP_ID2 = 0x8b;
/** Bytes needed to tell the formats apart: the gzip id needs 2, the capture magics 4. */
const SNIFF_BYTES = 4;
const MODIFIED_PCAP_MAGICS = [0xa1b2cd34, 0x34cdb2a1];

/**
 * Opens a capture source: a file path, or "-" for standard input. The format comes from the content, never the
 * name: classic pcap (µs or ns, either byte order), pcapng, and either of them gzip-compressed.
 *
 * Rejects with a CaptureError (file, offset, reason) when the source cannot be opened or has no usable
 * capture header. Damage later in the file is reported through the reader's `error`.
 */
export async function openCapture(
  pathOrDash: string,
  sourceIndex: number,
  opts: OpenCaptureOptions = {},
): Promise<CaptureReader> {
  if (pathOrDash === '-') return openCaptureStream(opts.stdin ?? process.stdin, '-', sourceIndex, opts);
  const name = pathOrDash;
  const chunkSize = chunkSizeOf(opts);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(name, 'r');
  } catch (err) {
    throw new CaptureError(name, 0, describeOpenError(err));
  }
  let handedOver = false;
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new CaptureError(name, 0, 'is a directory');
    // FIFOs and devices (e.g. <(zcat …)) have no size; they are read the same way.
    const totalBytes = st.isFile() ? st.size : null;
    if (totalBytes === 0) throw new CaptureError(name, 0, 'empty file: no capture header');
    const fileSource = new FileChunkSource(fh, chunkSize, st.isFile());
    const head = await sniff(fileSource, name, false);
    if (isGzip(head)) {
      // Decompress the sniffed bytes, then the rest from the same handle (a FIFO cannot be read again from the
      // start). The file source reuses its buffers, so each chunk is copied before zlib is handed it.
      const raw = Readable.from(replay(Buffer.from(head), fileSource, true), { objectMode: false });
      handedOver = true;
      return await openGzip(raw, () => fileSource.storedBytes, name, sourceIndex, totalBytes);
    }
    handedOver = true;
    return await startReader(new PrefixedChunkSource(head, fileSource), head, name, sourceIndex, totalBytes, false);
  } finally {
    if (!handedOver) fh.close().catch(() => undefined);
  }
}

/**
 * Opens a capture read from a stream (standard input, or any Readable in tests). Same detection and errors as
 * openCapture; totalBytes is unknown.
 */
export async function openCaptureStream(
  stream: NodeJS.ReadableStream,
  name: string,
  sourceIndex: number,
  // Accepted like openCapture's: a stream arrives in its producer's chunks, so there is nothing to size here.
  _opts: OpenCaptureOptions = {},
): Promise<CaptureReader> {
  if ((stream as { isTTY?: boolean }).isTTY === true) {
    throw new CaptureError(name, 0, 'standard input is a terminal: pipe a capture into it, or name a file');
  }
  const readable = stream as Readable;
  let stored = 0;
  const it = readable[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const counted: AsyncIterator<Buffer> = {
    next: async () => {
      const r = await it.next();
      if (r.done !== true) stored += r.value.length;
      return r;
    },
  };
  const source = new IterableChunkSource(counted, () => stored, () => readable.destroy());
  let head: Buffer;
  try {
    head = await sniff(source, name, false);
  } catch (err) {
    source.close();
    throw err;
  }
  if (isGzip(head)) {
    // Feed zlib the sniffed bytes, then the rest of the stream (its chunks are fresh buffers: no copy).
    const raw = Readable.from(replay(head, source), { objectMode: false });
    return openGzip(raw, () => stored, name, sourceIndex, null);
  }
  return startReader(new PrefixedChunkSource(head, source), head, name, sourceIndex, null, false);
}

async function openGzip(
  raw: Readable,
  countStored: () => number,
  name: string,
  sourceIndex: number,
  totalBytes: number | null,
): Promise<CaptureReader> {
  // Decompressed as a stream of small chunks: the whole file is never held decompressed, and
  // damage is reported after everything before it (see gzip-chunks.ts).
  const chunks = gunzipChunks(raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const source = new IterableChunkSource(chunks, countStored, () => {
    void chunks.return(undefined);
    raw.destroy();
  });
  let head: Buffer;
  try {
    head = await sniff(source, name, true);
  } catch (err) {
    source.close();
    throw err;
  }
  return startReader(new PrefixedChunkSource(head, source), head, name, sourceIndex, totalBytes, true);
}

async function startReader(
  source: ChunkSource,
  head: Buffer,
  name: string,
  sourceIndex: number,
  totalBytes: number | null,
  gzip: boolean,
): Promise<CaptureReader> {
  const magic = head.readUInt32BE(0);
  const info = new SourceInfo(name, totalBytes);
  let reader: PcapReader | PcapngReader;
  if (isPcapMagic(magic)) reader = new PcapReader(source, info, sourceIndex, gzip);
  else if (magic === PCAPNG_MAGIC) reader = new PcapngReader(source, info, sourceIndex, gzip);
  else {
    source.close();
    throw new CaptureError(name, 0, describeUnknownMagic(magic, gzip));
  }
  try {
    await reader.readHeader();
  } catch (err) {
    reader.close();
    throw err;
  }
  return reader;
}

/**
 * Reads until SNIFF_BYTES are known or the input ends; returns those bytes. With one chunk it returns that
 * chunk itself (no copy); PrefixedChunkSource then hands it to the reader first.
 */
async function sniff(source: ChunkSource, name: string, gzip: boolean): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  // Bounded: each round adds at least one byte or stops.
  while (have < SNIFF_BYTES) {
    let chunk: Buffer | null;
    try {
      chunk = await source.read();
    } catch (err) {
      throw new CaptureError(name, have, describeSourceError(err));
    }
    if (chunk === null) break;
    if (chunk.length === 0) continue;
    have += chunk.length;
    // Another read follows: copy, since the file source reuses its buffer.
    parts.push(have < SNIFF_BYTES ? Buffer.from(chunk) : chunk);
  }
  const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  if (head.length === 0) {
    throw new CaptureError(name, 0, gzip ? 'empty gzip stream: no capture header' : 'empty file: no capture header');
  }
  // A gzip file may be shorter than a capture magic (it is then damaged, which its reader reports); the stream
  // inside a gzip file may not: a capture header has at least four bytes.
  if (head.length < SNIFF_BYTES && !(!gzip && head.length >= 2 && isGzip(head))) {
    throw new CaptureError(name, 0, `not a capture file: only ${head.length} bytes`);
  }
  return head;
}

/** The sniffed bytes, then the rest of the source; `copy` when the source reuses its buffers. */
async function* replay(head: Buffer, source: ChunkSource, copy = false): AsyncGenerator<Buffer> {
  try {
    yield head;
    for (;;) {
      const c = await source.read();
      if (c === null) return;
      yield copy ? Buffer.from(c) : c;
    }
  } finally {
    // Reached also when the reader closes early (the stream is destroyed): release standard input too.
    source.close();
  }
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === GZIP_ID1 && head[1] === GZIP_ID2;
}

function chunkSizeOf(opts: OpenCaptureOptions): number {
  const n = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  return Number.isInteger(n) && n >= 1 ? n : DEFAULT_CHUNK_SIZE;
}

function describeUnknownMagic(magic: number, gzip: boolean): string {
  const hex = `0x${magic.toString(16).padStart(8, '0')}`;
  if (MODIFIED_PCAP_MAGICS.includes(magic)) {
    return `unsupported capture format: modified (Kuznetzov) pcap, magic ${hex}; convert it with editcap -F pcap`;
  }
  return gzip ? `not a capture file: gzip-compressed data with unknown magic ${hex}` : `not a capture file: unknown magic ${hex}`;
}

function describeOpenError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'no such file (a part of the path is not a directory)';
    default:
      return `cannot open: ${(err as { message?: unknown }).message ?? String(err)}`;
  }
}

