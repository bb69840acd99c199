import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameBitmap, ranksAt } from '../../src/analysis/frame-bitmap.js';

describe('frame bitmap', () => {
  it('ranks agree with counting by hand, at word edges and beyond the end', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const density of [0.01, 0.3, 0.97]) {
      const bm = new FrameBitmap();
      const marked: number[] = [];
      for (let f = 1; f < 100_000; f++) {
        if (rnd() < density || f % 32 === 31 || f % 32 === 0) {
          bm.set(f);
          marked.push(f);
        }
      }
      const queries = [0, 1, 31, 32, 33, 63, 64, 99_999, 100_000, 1_000_000];
      for (let i = 0; i < 200; i++) queries.push(Math.floor(rnd() * 110_000));
      const want = queries.map((q) => marked.filter((f) => f <= q).length);
      assert.deepEqual(ranksAt(bm.words, queries), want, `density ${density}`);
    }
  });
});
