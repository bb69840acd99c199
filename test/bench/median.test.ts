/** The benchmark's median (bench/compare.ts): every ratio it prints to a peer divides one median by another. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianOf, type Measure } from '../../bench/compare.js';

const m = (wall: number, rssMB = 10, ok = true): Measure => ({ wall, rssMB, ok });

test('the median of an odd count is the middle run', () => {
  assert.equal(medianOf([m(3), m(1), m(2)]).wall, 2);
  assert.equal(medianOf([m(5)]).wall, 5);
});

test('the median of an even count is the mean of the middle two, not the upper one', () => {
  // Taking the upper of two tshark runs made teardown's ratio to it look better than it was.
  assert.equal(medianOf([m(11.4), m(10.6)]).wall, 11);
  assert.equal(medianOf([m(4), m(1), m(3), m(2)]).wall, 2.5);
});

test('the peak is the highest of the runs, and one failed run marks the median failed', () => {
  const r = medianOf([m(1, 50), m(2, 120), m(3, 80, false)]);
  assert.equal(r.rssMB, 120);
  assert.equal(r.ok, false);
});
