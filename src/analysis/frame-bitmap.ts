/**
 * One bit per frame: the frames at which a shard's connections began. A parallel run numbers connections as one
 * pass would from these (parallel-run.ts): a connection's id is the number of connections, in every shard, that
 * began at its first frame or before. One bit per frame read — an eighth of a byte, whatever the connections —
 * instead of a list of frames that would grow with the connections.
 */

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export class FrameBitmap {
  words = new Uint32Array(1024);

  /** Marks a frame (frame numbers start at 1). */
  set(frame: number): void {
    const w = frame >>> 5;
    if (w >= this.words.length) {
      let n = this.words.length * 2;
      while (n <= w) n *= 2;
      const grown = new Uint32Array(n);
      grown.set(this.words);
      this.words = grown;
    }
    this.words[w]! |= 1 << (frame & 31);
  }
}

/** For each frame in `frames`, the number of marked frames at or before it. One pass over the words. */
export function ranksAt(words: Uint32Array, frames: readonly number[]): number[] {
  const order = frames.map((f, i) => [f, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(frames.length).fill(0);
  let w = 0;
  let below = 0; // marked frames in words [0, w)
  for (const [f, i] of order) {
    const fw = Math.min(f >>> 5, words.length);
    while (w < fw) below += popcount(words[w++]!);
    const bit = f & 31;
    // Bits 0..bit of word fw (when the frame lies inside the bitmap).
    const partial = fw < words.length ? popcount(words[fw]! & (bit === 31 ? 0xffffffff : (2 ** (bit + 1) - 1))) : 0;
    out[i] = below + partial;
  }
  return out;
}

