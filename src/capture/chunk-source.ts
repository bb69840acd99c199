import type { FileHandle } from 'node:fs/promises';

/**
 * Where a reader's bytes come from, one chunk at a time. The framing in FramedReader is the only consumer.
 *
 * A chunk is valid only until the next read(): the file source reads into one reused buffer, so the reader
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

/** A file (or FIFO) read with FileHandle.read into one buffer that is reused for every chunk. */
export class FileChunkSource implements ChunkSource {
  storedBytes = 0;
  private readonly buf: Buffer;
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    chunkSize: number,
    private readonly ownsHandle = true,
  ) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  async read(): Promise<Buffer | null> {
    if (this.closed) return null;
    // position null = the handle's current position, so FIFOs and character devices work as well as files.
    const { bytesRead } = await this.fh.read(this.buf, 0, this.buf.length, null);
    if (bytesRead === 0) return null;
    this.storedBytes += bytesRead;
    return this.buf.subarray(0, bytesRead);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Closing is asynchronous; nothing useful can be done with a failure to close a read-only handle.
    if (this.ownsHandle) this.fh.close().catch(() => undefined);
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
