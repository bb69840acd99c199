import type { FileHandle } from 'node:fs/promises';

/**
 * Where a reader's bytes come from, one chunk at a time. The framing in FramedReader is the only consumer.
 *
 * A chunk is valid only until the next read(): the file source reads into reused buffers, so the reader
 * copies the unfinished record it still needs before it asks for more.
 */
export interface ChunkSource {
  /** The next chunk, or null at the end of the input. Rejects on an I/O or decompression error. */
  read(): Promise<Buffer | null>;
  /** Bytes consumed from storage so far (compressed bytes when the input is gzip). */
  readonly storedBytes: number;
  /** Releases the file descriptor or stream. Idempotent. */
  close(): void;
}

/**
 * A file (or FIFO) read with FileHandle.read into reused buffers.
 *
 * For regular files the next chunk is read ahead into a second buffer while the reader parses the current
 * one, so that the disk (or page cache) and the parser overlap: without it a fifth of the run was spent
 * waiting for reads. A FIFO is read only on demand: a read left pending on it would keep the process alive
 * after the capture is closed.
 */
export class FileChunkSource implements ChunkSource {
  storedBytes = 0;
  private readonly bufs: Buffer[];
  /** Index in `bufs` of the buffer the next (or in-flight) read fills. */
  private fillIndex = 0;
  private inFlight: Promise<number> | null = null;
  private ended = false;
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    chunkSize: number,
    private readonly readAhead = false,
  ) {
    this.bufs = readAhead ? [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)] : [Buffer.allocUnsafe(chunkSize)];
  }

  async read(): Promise<Buffer | null> {
    if (this.closed || this.ended) return null;
    const i = this.fillIndex;
    const n = await (this.inFlight ?? this.startRead());
    this.inFlight = null;
    if (n === 0 || this.closed) {
      this.ended = true;
      return null;
    }
    this.storedBytes += n;
    if (this.readAhead) {
      // The chunk handed out now stays valid until the next read(): fill the other buffer meanwhile.
      this.fillIndex = 1 - i;
      this.startRead();
    }
    return this.bufs[i]!.subarray(0, n);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const pending = this.inFlight;
    // Close after any read in flight has settled. Nothing useful can be done with a failed close of a
    // read-only handle.
    const done = () => this.fh.close().catch(() => undefined);
    if (pending === null) void done();
    else void pending.then(done, done);
  }

  private startRead(): Promise<number> {
    const buf = this.bufs[this.fillIndex]!;
    // position null = the handle's current position, so FIFOs and character devices work as well as files.
    const p = this.fh.read(buf, 0, buf.length, null).then((r) => r.bytesRead);
    // A failure is reported by the read() that awaits it; a read ahead nobody awaits must not be unhandled.
    p.catch(() => undefined);
    this.inFlight = p;
    return p;
  }
}

/**
 * Chunks from an async iterator: standard input, or the output of a gunzip stream. The chunks are fresh
 * buffers owned by the stream, so nothing is copied here.
 */
export class IterableChunkSource implements ChunkSource {
  private closed = false;

  constructor(
    private readonly it: AsyncIterator<Buffer>,
    private readonly countStored: () => number,
    private readonly onClose: () => void,
  ) {}

  get storedBytes(): number {
    return this.countStored();
  }

  async read(): Promise<Buffer | null> {
    if (this.closed) return null;
    const r = await this.it.next();
    if (r.done === true) return null;
    return r.value;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

/**
 * Hands out bytes that were already read while sniffing the format, then the rest of the inner source.
 * With one sniffed chunk the prefix is the inner source's own (reused) buffer: that is safe because the
 * reader never asks the inner source for more before it has copied what it still needs from the prefix.
 */
export class PrefixedChunkSource implements ChunkSource {
  private prefix: Buffer | null;

  constructor(
    prefix: Buffer,
    private readonly inner: ChunkSource,
  ) {
    this.prefix = prefix.length > 0 ? prefix : null;
  }

  get storedBytes(): number {
    return this.inner.storedBytes;
  }

  read(): Promise<Buffer | null> {
    const p = this.prefix;
    if (p !== null) {
      this.prefix = null;
      return Promise.resolve(p);
    }
    return this.inner.read();
  }

  close(): void {
    this.prefix = null;
    this.inner.close();
  }
}

