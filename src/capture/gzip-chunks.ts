/**
 * Decompresses a gzip file (RFC 1952, one member or several concatenated) as a stream of chunks, keeping every
 * byte that can be decompressed before any damage.
 *
 * Node's Gunzip throws away the output of the write in which it detects damage (a bad CRC or length in the
 * trailer, corrupt deflate data, a truncated file), so the frames just before the damage were lost. Here the gzip
 * framing is read by hand and only the deflate body goes through zlib (inflateRaw, finishing with a sync flush so
 * that a truncated body yields what it has instead of an error), fed in small slices; the trailer's CRC-32 and
 * length are checked here, after every decompressed byte has been handed on. Damage ends the stream with a
 * GzipDamage error that says where (in compressed bytes) and why.
 */
import * as zlib from 'node:zlib';

/** Damage in the gzip framing or data: `offset` counts compressed bytes from the start of the file. */
export class GzipDamage extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'GzipDamage';
  }
}

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
/** A header longer than this (file name, comment, extra field) is taken as damage: bounded memory. */
const MAX_HEADER = 64 * 1024;
/** Compressed bytes per write to zlib. */
const SLICE = 16 * 1024;
/**
 * Decompressed bytes per output chunk. zlib hands on each full chunk as it goes, so corrupt deflate data loses at
 * most this much before the damage; fixed (not the reader's chunk size) so that what survives depends on the file
 * alone.
 */
const OUT_CHUNK = 4 * 1024;

/** Pulls raw chunks and keeps the unconsumed bytes: the framing parser's view of the compressed file. */
class RawBytes {
  private buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  /** Compressed-file offset of buf[0]. */
  offset = 0;
  private ended = false;

  constructor(private readonly it: AsyncIterator<Buffer>) {}

  get length(): number {
    return this.buf.length;
  }

  /** Makes at least `n` bytes available if the file has them; false at the end of the file. */
  async want(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else if (r.value.length > 0) this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    }
    return this.buf.length >= n;
  }

  /**
   * `n` bytes (fewer only at the end of the file). Always whole slices, whatever the sizes of the chunks read: what
   * zlib produces before damage then depends on the file alone, not on how it was read.
   */
  async take(n: number): Promise<Buffer<ArrayBufferLike>> {
    await this.want(n);
    const k = Math.min(n, this.buf.length);
    const out = this.buf.subarray(0, k);
    this.buf = this.buf.subarray(k);
    this.offset += k;
    return out;
  }

  peek(): Buffer<ArrayBufferLike> {
    return this.buf;
  }

  /** Gives back bytes taken but not consumed (zlib stopped at the end of a deflate stream). */
  unread(bytes: Buffer<ArrayBufferLike>): void {
    if (bytes.length === 0) return;
    this.buf = this.buf.length === 0 ? bytes : Buffer.concat([bytes, this.buf]);
    this.offset -= bytes.length;
  }

  async atEnd(): Promise<boolean> {
    return !(await this.want(1));
  }
}

/** Parses one member header at the current position (throws GzipDamage when it is not one). */
async function readHeader(raw: RawBytes): Promise<void> {
  const start = raw.offset;
  if (!(await raw.want(10))) throw new GzipDamage(start, 'gzip data ends inside a member header');
  const h = raw.peek();
  if (h[0] !== 0x1f || h[1] !== 0x8b) throw new GzipDamage(start, 'not gzip data (no 1f 8b member header)');
  if (h[2] !== 8) throw new GzipDamage(start + 2, `unknown gzip compression method ${h[2]}`);
  const flags = h[3]!;
  let len = 10;
  const need = async (n: number) => {
    if (n > MAX_HEADER) throw new GzipDamage(start, 'gzip member header longer than 64 KiB');
    if (!(await raw.want(n))) throw new GzipDamage(start, 'gzip data ends inside a member header');
  };
  if (flags & FEXTRA) {
    await need(len + 2);
    len += 2 + raw.peek().readUInt16LE(len);
    await need(len);
  }
  for (const f of [FNAME, FCOMMENT]) {
    if (!(flags & f)) continue;
    // A zero-terminated string: bounded by MAX_HEADER.
    for (;;) {
      await need(len + 1);
      if (raw.peek()[len++] === 0) break;
    }
  }
  if (flags & FHCRC) len += 2;
  await need(len);
  await raw.take(len);
}

/**
 * Runs `action` and resolves when it calls `done`, or when the stream errors or closes: a zlib stream that fails
 * does not always call back the write that failed, and nothing here may wait forever.
 */
function settled(stream: zlib.InflateRaw, action: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('error', done);
    stream.once('close', done);
    action(done);
  });
}

/** Decompresses one member's deflate body and checks its trailer; yields the decompressed chunks. */
async function* inflateMember(raw: RawBytes): AsyncGenerator<Buffer> {
  const bodyStart = raw.offset;
  const inflate = zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: OUT_CHUNK });
  const out: Buffer[] = [];
  let ended = false;
  let failure: Error | null = null;
  inflate.on('data', (c: Buffer) => out.push(c));
  inflate.on('end', () => (ended = true));
  inflate.on('error', (e: Error) => (failure = e));
  let fed = 0;
  let crc = 0;
  let size = 0;
  const flushOut = function* (): Generator<Buffer> {
    while (out.length > 0) {
      const c = out.shift()!;
      crc = zlib.crc32(c, crc);
      size = (size + c.length) >>> 0;
      yield c;
    }
  };
  let streamEnded = false;
  let lastSlice: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  let lastSliceStart = 0;
  while (!streamEnded && failure === null) {
    const slice = await raw.take(SLICE);
    if (slice.length === 0) break;
    lastSlice = slice;
    lastSliceStart = fed;
    await settled(inflate, (done) => inflate.write(slice, () => done()));
    fed += slice.length;
    // zlib consumes input only up to the end of the deflate stream: if it left some, the body ended in this slice.
    if (inflate.bytesWritten < fed) streamEnded = true;
    // Let the stream deliver what the write produced before handing it on.
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield* flushOut();
  }
  if (failure === null && !ended) await settled(inflate, (done) => {
    inflate.once('end', done);
    inflate.end();
  });
  yield* flushOut();
  if (failure !== null) {
    throw new GzipDamage(bodyStart + Math.min(fed, inflate.bytesWritten), `gzip data is damaged: ${(failure as Error).message}`);
  }
  if (!streamEnded) {
    // zlib took every byte without reaching the end of the deflate stream (or exactly at the end of the file,
    // where the trailer is missing): the file was cut short.
    throw new GzipDamage(bodyStart + fed, 'gzip data ends early (the file was cut short)');
  }
  // Bytes of the last slice that zlib did not consume belong to the trailer (and what follows): give them back.
  raw.unread(lastSlice.subarray(inflate.bytesWritten - lastSliceStart));
  const trailerAt = raw.offset;
  if (!(await raw.want(8))) throw new GzipDamage(trailerAt, 'gzip data ends inside a member trailer (the file was cut short)');
  const t = await raw.take(8);
  const wantCrc = t.readUInt32LE(0);
  const wantSize = t.readUInt32LE(4);
  if (wantCrc !== crc >>> 0) throw new GzipDamage(trailerAt, 'gzip data is damaged: CRC-32 does not match the data');
  if (wantSize !== size) throw new GzipDamage(trailerAt + 4, 'gzip data is damaged: length does not match the data');
}

/**
 * The decompressed chunks of a gzip file given as its raw chunks. Several members follow one another; bytes after
 * the last member that do not start another one are damage (reported after everything before them).
 */
export async function* gunzipChunks(rawChunks: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  const raw = new RawBytes(rawChunks);
  let members = 0;
  while (members === 0 || !(await raw.atEnd())) {
    const at = raw.offset;
    if (members > 0) {
      const p = raw.peek();
      // Zero padding after the last member (some tools write it) is not damage.
      if (p.every((b) => b === 0)) {
        await raw.take(p.length);
        continue;
      }
      if (!(await raw.want(2)) || raw.peek()[0] !== 0x1f || raw.peek()[1] !== 0x8b) {
        throw new GzipDamage(at, 'garbage after the gzip data');
      }
    }
    await readHeader(raw);
    yield* inflateMember(raw);
    members++;
  }
}
