import type { CaptureError, RawPacket } from './raw-packet.js';
import { NEED_MORE, type CaptureInfo, type CaptureReader, type NextResult } from './reader.js';

/** A reader over several sources; `sources` gives each one's own info and error. */
export interface MergedReader extends CaptureReader {
  readonly sources: readonly CaptureReader[];
}

/**
 * Merges several sources into one stream in timestamp order (tsSec, tsNs); equal timestamps go to the source
 * given first, as mergecap does. A TCP connection that spans rotated files (tcpdump -C / -G) is thus seen in
 * order. Frames keep their own source's frame number and source index.
 *
 * No copying: each source reuses its own RawPacket, and a source is only advanced after its current packet has
 * been handed out, so the packet held for every other source stays valid. A binary heap of source indices
 * keyed on those packets picks the next one in O(log n).
 *
 * Damage in one source ends that source only; the others keep going. `error` is the first damage seen.
 */
export function mergeReaders(readers: readonly CaptureReader[]): MergedReader {
  return new MergeReader(readers);
}

class MergeReader implements MergedReader {
  readonly info: CaptureInfo;
  error: CaptureError | null = null;

  private readonly heads: (RawPacket | null)[];
  private readonly heap: number[] = [];
  /** Sources not yet asked for their first packet: 0..primed-1 are done. */
  private primed = 0;
  /** The source whose packet was handed out last and must move on before the next pick, or -1. */
  private advance = -1;
  /** The source that answered NEED_MORE, for fill(). */
  private waiting = -1;
  private closed = false;

  constructor(readonly sources: readonly CaptureReader[]) {
    this.heads = sources.map(() => null);
    this.info = new MergedInfo(sources);
  }

  next(): NextResult {
    if (this.closed) return null;
    const n = this.sources.length;
    while (this.primed < n) {
      const i = this.primed;
      const r = this.sources[i]!.next();
      if (r === NEED_MORE) {
        this.waiting = i;
        return NEED_MORE;
      }
      this.primed++;
      if (r === null) this.sourceEnded(i);
      else {
        this.heads[i] = r;
        this.push(i);
      }
    }
    if (this.advance >= 0) {
      const i = this.advance;
      const r = this.sources[i]!.next();
      if (r === NEED_MORE) {
        this.waiting = i;
        return NEED_MORE;
      }
      this.advance = -1;
      // i is at the top of the heap: its key changed (new packet) or it left (end).
      if (r === null) {
        this.heads[i] = null;
        this.popTop();
        this.sourceEnded(i);
      } else {
        this.heads[i] = r;
        this.siftDown(0);
      }
    }
    if (this.heap.length === 0) return null;
    const top = this.heap[0]!;
    this.advance = top;
    return this.heads[top]!;
  }

  async fill(): Promise<void> {
    const i = this.waiting;
    if (i < 0) return;
    this.waiting = -1;
    await this.sources[i]!.fill();
  }

  close(): void {
    this.closed = true;
    for (const s of this.sources) s.close();
  }

  private sourceEnded(i: number): void {
    const e = this.sources[i]!.error;
    if (e !== null && this.error === null) this.error = e;
  }

  /** True when source a's packet goes before source b's. */
  private before(a: number, b: number): boolean {
    const pa = this.heads[a]!;
    const pb = this.heads[b]!;
    if (pa.tsSec !== pb.tsSec) return pa.tsSec < pb.tsSec;
    if (pa.tsNs !== pb.tsNs) return pa.tsNs < pb.tsNs;
    return a < b;
  }

  private push(i: number): void {
    const h = this.heap;
    let k = h.length;
    h.push(i);
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.before(h[k]!, h[parent]!)) break;
      const t = h[k]!;
      h[k] = h[parent]!;
      h[parent] = t;
      k = parent;
    }
  }

  private popTop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    this.siftDown(0);
  }

  private siftDown(k: number): void {
    const h = this.heap;
    const n = h.length;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[c]!, h[k]!)) return;
      const t = h[k]!;
      h[k] = h[c]!;
      h[c] = t;
      k = c;
    }
  }
}

/** The run-wide view of the merged sources' facts, computed when read. */
class MergedInfo implements CaptureInfo {
  constructor(private readonly sources: readonly CaptureReader[]) {}

  get name(): string {
    return this.sources.map((s) => s.info.name).join(', ');
  }
  get format(): string {
    return [...new Set(this.sources.map((s) => s.info.format))].join(', ');
  }
  get totalBytes(): number | null {
    let sum = 0;
    for (const s of this.sources) {
      if (s.info.totalBytes === null) return null;
      sum += s.info.totalBytes;
    }
    return sum;
  }
  get bytesRead(): number {
    return this.sources.reduce((a, s) => a + s.info.bytesRead, 0);
  }
  get frames(): number {
    return this.sources.reduce((a, s) => a + s.info.frames, 0);
  }
  get linkTypes(): number[] {
    return [...new Set(this.sources.flatMap((s) => s.info.linkTypes))];
  }
  get endTimeSec(): number | null {
    let best: number | null = null;
    for (const s of this.sources) {
      const t = s.info.endTimeSec;
      if (t !== null && (best === null || t > best)) best = t;
    }
    return best;
  }
  get endTimeNs(): number {
    const sec = this.endTimeSec;
    let ns = 0;
    for (const s of this.sources) if (s.info.endTimeSec === sec && s.info.endTimeNs > ns) ns = s.info.endTimeNs;
    return ns;
  }
  get droppedByCapture(): number | null {
    let sum: number | null = null;
    for (const s of this.sources) {
      const d = s.info.droppedByCapture;
      if (d !== null) sum = (sum ?? 0) + d;
    }
    return sum;
  }
  get notes(): string[] {
    return this.sources.flatMap((s) => s.info.notes.map((n) => `${s.info.name}: ${n}`));
  }
}
