import { GzipDamage } from './gzip-chunks.js';
import type { ChunkSource } from './chunk-source.js';
import { MAX_PCAPNG_BLOCK } from './limits.js';
import { CaptureError, newRawPacket, type RawPacket } from './raw-packet.js';
import type { CaptureReader, NextResult } from './reader.js';
import type { SourceInfo } from './source-info.js';

/** Answer of FramedReader.more(): bytes are now there (look again), await fill() first, or the input has ended. */
export const More = { Ready: 0, Wait: 1, End: 2 } as const;
export type More = (typeof More)[keyof typeof More];

const EMPTY = Buffer.alloc(0);
const SCRATCH_MIN = 64 * 1024;

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}

/**
 * Chunk framing shared by the pcap and pcapng readers (pg-protocol style: asynchronous per chunk, synchronous
 * per record).
 *
 * The record parser looks at `buf[pos, end)`. When a record is incomplete it calls more(need), with `need`
 * the bytes the record needs from `pos`:
 *   - if the chunk that follows is already here (`rest`), the missing bytes are copied into `scratch`
 *     right away, or, once `scratch` is used up, parsing simply continues inside that chunk;
 *   - otherwise the parser returns NEED_MORE and the caller awaits fill(), which copies the unfinished record
 *     into `scratch` (before the source may reuse its buffer) and appends only the bytes this record still
 *     needs from the next chunk.
 * So a record crossing a chunk boundary costs one copy of that record's bytes, and the rest of every chunk is
 * parsed in place: `RawPacket.data` points into the chunk or into `scratch`.
 *
 * Memory: `scratch` never grows past the largest record the parser accepts (callers check a length against
 * the limits before asking for it), and a chunk is dropped as soon as it is parsed.
 */
export abstract class FramedReader implements CaptureReader {
  readonly info: SourceInfo;
  error: CaptureError | null = null;

  /** The one packet object handed out for every frame. */
  protected readonly pkt: RawPacket;
  protected buf: Buffer = EMPTY;
  protected view: DataView = viewOf(EMPTY);
  protected pos = 0;
  protected end = 0;
  /** Stream offset (decompressed) of buf[0]: `base + pos` is where the current record starts. */
  protected base = 0;
  /** Set once next() has returned null: at the end, after damage, or after close(). */
  protected done = false;

  private rest: Buffer | null = null;
  private restPos = 0;
  private restBase = 0;
  private scratch: Buffer = EMPTY;
  private scratchView: DataView = viewOf(EMPTY);
  private need = 0;
  private waiting = false;
  private eof = false;
  private streamPos = 0;
  private sourceFailure: string | null = null;

  constructor(
    private readonly source: ChunkSource,
    info: SourceInfo,
    sourceIndex: number,
  ) {
    this.info = info;
    this.pkt = newRawPacket();
    this.pkt.source = sourceIndex;
  }

  abstract next(): NextResult;

  async fill(): Promise<void> {
    // Only a NEED_MORE answer arms fill(); a stray call must not read (and so skip) a chunk.
    if (!this.waiting || this.done) return;
    this.waiting = false;
    const leftover = this.end - this.pos;
    if (leftover > 0) this.toScratch(this.need);
    let chunk: Buffer | null;
    try {
      chunk = await this.source.read();
    } catch (err) {
      this.sourceFailure = describeSourceError(err);
      this.eof = true;
      this.info.bytesRead = this.source.storedBytes;
      return;
    }
    this.info.bytesRead = this.source.storedBytes;
    if (chunk === null) {
      this.eof = true;
      return;
    }
    const chunkBase = this.streamPos;
    this.streamPos += chunk.length;
    if (leftover === 0) {
      this.setBuf(chunk, 0, chunk.length, chunkBase);
      return;
    }
    const take = Math.min(this.need - leftover, chunk.length);
    chunk.copy(this.scratch, leftover, 0, take);
    this.end = leftover + take;
    if (take < chunk.length) {
      this.rest = chunk;
      this.restPos = take;
      this.restBase = chunkBase;
    }
  }

  close(): void {
    this.done = true;
    this.release();
  }

  /** Stream offset of the byte at `pos`. */
  protected get offset(): number {
    return this.base + this.pos;
  }

  /**
   * Called when fewer than `need` bytes (counted from `pos`) are buffered. `need` must already have been
   * checked against the format's limits.
   */
  protected more(need: number): More {
    const rest = this.rest;
    if (rest !== null) {
      if (this.end === this.pos) {
        // The record assembled in scratch is consumed: go on inside the chunk, no copy.
        this.rest = null;
        this.setBuf(rest, this.restPos, rest.length, this.restBase);
        return More.Ready;
      }
      // The record in scratch knows its full length only now (its header was the first need): top it up.
      this.toScratch(need);
      const take = Math.min(need - this.end, rest.length - this.restPos);
      rest.copy(this.scratch, this.end, this.restPos, this.restPos + take);
      this.end += take;
      this.restPos += take;
      if (this.restPos >= rest.length) this.rest = null;
      return More.Ready;
    }
    if (this.eof) return More.End;
    this.need = need;
    this.waiting = true;
    return More.Wait;
  }

  /** Waits until `need` bytes are buffered at `pos`; false when the input ends first. For file headers only. */
  protected async ensure(need: number): Promise<boolean> {
    for (;;) {
      if (this.end - this.pos >= need) return true;
      const m = this.more(need);
      if (m === More.End) return this.sourceFailure === null ? false : this.throwSourceFailure();
      if (m === More.Wait) await this.fill();
    }
  }

  /** Clean end of input (between records). */
  protected finish(): null {
    if (this.sourceFailure !== null) return this.damage(this.offset, this.sourceFailure);
    this.done = true;
    this.release();
    return null;
  }

  /** The input ended inside a record: a read or gzip failure explains it better than the format can. */
  protected truncated(reason: string): null {
    return this.damage(this.offset, this.sourceFailure ?? reason);
  }

  protected damage(offset: number, reason: string): null {
    this.error = new CaptureError(this.info.name, offset, reason);
    this.done = true;
    this.release();
    return null;
  }

  private throwSourceFailure(): never {
    throw new CaptureError(this.info.name, this.offset, this.sourceFailure ?? 'read failed');
  }

  private setBuf(b: Buffer, pos: number, end: number, base: number): void {
    this.buf = b;
    this.view = b === this.scratch ? this.scratchView : viewOf(b);
    this.pos = pos;
    this.end = end;
    this.base = base;
  }

  /** Moves the unfinished record `[pos, end)` to scratch[0], making room for `need` bytes. */
  private toScratch(need: number): void {
    const len = this.end - this.pos;
    if (need > MAX_PCAPNG_BLOCK) need = MAX_PCAPNG_BLOCK; // callers check first; this only bounds memory
    if (this.buf === this.scratch) {
      if (this.scratch.length < need) {
        const grown = Buffer.allocUnsafe(Math.max(need, SCRATCH_MIN));
        this.scratch.copy(grown, 0, this.pos, this.end);
        this.scratch = grown;
        this.scratchView = viewOf(grown);
      } else if (this.pos > 0) {
        this.scratch.copyWithin(0, this.pos, this.end);
      }
    } else {
      if (this.scratch.length < need) {
        this.scratch = Buffer.allocUnsafe(Math.max(need, SCRATCH_MIN));
        this.scratchView = viewOf(this.scratch);
      }
      this.buf.copy(this.scratch, 0, this.pos, this.end);
    }
    this.setBuf(this.scratch, 0, len, this.base + this.pos);
  }

  private release(): void {
    this.rest = null;
    this.waiting = false;
    this.source.close();
  }
}

/** The reason text of a failure of the source under a reader (I/O, gzip damage). */
export function describeSourceError(err: unknown): string {
  if (err instanceof GzipDamage) return `${err.reason} (at byte ${err.offset} of the compressed file)`;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const msg = typeof e.message === 'string' ? e.message : String(err);
  if (code === 'EISDIR') return 'is a directory';
  // zlib errors carry codes like Z_DATA_ERROR / Z_BUF_ERROR: say it is the compression that broke.
  if (code.startsWith('Z_') || code === 'ERR_PADDING_1') return `gzip data is damaged: ${msg}`;
  return `read failed: ${msg}`;
}
