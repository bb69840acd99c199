import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addToSketch, EXACT_VALUES, exactMedian, newMedianSketch, sketchMedian, type MedianSketch } from '../../src/output/median-sketch.js';
import { prng } from '../capture/capture-helpers.js';

/** Durations spread over nine decades (1 µs to 20 min, in ms), as close-waits are. */
function durations(n: number, seed: number): number[] {
  const r = prng(seed);
  return Array.from({ length: n }, () => 10 ** (r() * 9 - 3));
}

function sketchOf(values: number[]): MedianSketch {
  const s = newMedianSketch();
  for (const v of values) addToSketch(s, v);
  return s;
}

describe('median sketch', () => {
  it('is exact up to EXACT_VALUES values', () => {
    for (const n of [1, 2, 3, 10, EXACT_VALUES - 1, EXACT_VALUES]) {
      const v = durations(n, n);
      assert.equal(sketchMedian(sketchOf(v)), exactMedian(v), `${n} values`);
    }
    assert.equal(sketchMedian(newMedianSketch()), null);
  });

  it('beyond them, is within 0.5 % of the exact median, for odd and even counts', () => {
    for (const [n, seed] of [[EXACT_VALUES + 1, 1], [EXACT_VALUES + 2, 2], [10_001, 3], [100_000, 4]] as const) {
      const v = durations(n, seed);
      const s = sketchOf(v);
      assert.equal(s.exact, null, 'switched to the histogram');
      const got = sketchMedian(s)!;
      const want = exactMedian(v)!;
      assert.ok(Math.abs(got - want) <= want * 0.005 + 1e-12, `${n} values: ${got} vs ${want}`);
    }
  });

  it('values under a microsecond count as zero; many equal values give that value within 0.5 %', () => {
    const s = sketchOf([...new Array(EXACT_VALUES + 1).fill(0.0001), 5, 6]);
    assert.equal(sketchMedian(s), 0);
    const t = sketchOf(new Array(5000).fill(1.5));
    assert.ok(Math.abs(sketchMedian(t)! - 1.5) <= 1.5 * 0.005);
  });

  it('memory does not grow with the number of values; values past the last bucket share it', () => {
    const s = newMedianSketch();
    const r = prng(5);
    for (let i = 0; i < 1_000_000; i++) addToSketch(s, 10 ** (r() * 9 - 3));
    const size = s.buckets!.byteLength;
    for (let i = 0; i < 1_000_000; i++) addToSketch(s, 1e20);
    assert.equal(s.buckets!.byteLength, size);
    assert.ok(size < 16 * 1024, `${size} bytes`);
    assert.equal(s.count, 2_000_000);
  });
});
