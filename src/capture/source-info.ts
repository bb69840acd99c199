import { MAX_NOTE_KINDS } from './limits.js';
import type { CaptureInfo } from './reader.js';

/**
 * CaptureInfo of one source, with bounded notes: each kind of oddity keeps the text of its first occurrence and
 * a count, and at most MAX_NOTE_KINDS kinds are kept. A capture where every frame has the same oddity therefore
 * costs one string, not one per frame.
 */
export class SourceInfo implements CaptureInfo {
  format = '';
  totalBytes: number | null;
  bytesRead = 0;
  frames = 0;
  linkTypes: number[] = [];
  endTimeSec: number | null = null;
  endTimeNs = 0;
  droppedByCapture: number | null = null;

  private readonly kinds = new Map<string, { text: string; count: number }>();
  /** Kinds that came after the table was full (remembered, up to a bound, so they are counted once). */
  private readonly droppedKinds = new Set<string>();
  private droppedOverflow = false;

  constructor(
    readonly name: string,
    totalBytes: number | null,
  ) {
    this.totalBytes = totalBytes;
  }

  /** Rendered on demand, so that counting an oddity never builds a string. */
  get notes(): string[] {
    const out: string[] = [];
    for (const k of this.kinds.values()) {
      out.push(k.count === 1 ? k.text : `${k.text} (${k.count} times in all)`);
    }
    const dropped = this.droppedKinds.size;
    if (dropped > 0) out.push(`${dropped}${this.droppedOverflow ? ' or more' : ''} more kinds of notes not shown`);
    return out;
  }

  /**
   * Counts one more occurrence of a kind already noted and returns true; returns false when the kind is new,
   * in which case the caller builds the text and calls note(). Keeps the per-frame path free of strings.
   */
  bump(kind: string): boolean {
    const k = this.kinds.get(kind);
    if (k !== undefined) {
      k.count++;
      return true;
    }
    // A kind past the table's bound: nothing more to write down for it.
    return this.droppedKinds.has(kind);
  }

  note(kind: string, text: string): void {
    const k = this.kinds.get(kind);
    if (k !== undefined) {
      k.count++;
      return;
    }
    if (this.kinds.size >= MAX_NOTE_KINDS) {
      if (this.droppedKinds.size < MAX_NOTE_KINDS * 16) this.droppedKinds.add(kind);
      else this.droppedOverflow = true;
      return;
    }
    this.kinds.set(kind, { text, count: 1 });
  }
}
