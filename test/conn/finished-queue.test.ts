/**
 * The finished-connection queue's ring: entries come out in the order they went in, keep their absolute positions
 * through growth and wrap-around, and ids beyond 32 bits survive.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FinishedQueue } from '../../src/conn/finished-queue.js';

/** A model of the queue: a plain array of [slot, id] from absolute position 0. */
function check(q: FinishedQueue, model: Array<[number, number]>): void {
  assert.equal(q.length, q.tail - q.head);
  assert.equal(q.tail, model.length);
  for (let p = q.head; p < q.tail; p++) {
    assert.equal(q.slotAt(p), model[p]![0], `slot at ${p}`);
    assert.equal(q.idAt(p), model[p]![1], `id at ${p}`);
  }
}

describe('FinishedQueue', () => {
  it('keeps order and positions while it wraps and grows, with pops in between', () => {
    const q = new FinishedQueue(4);
    const model: Array<[number, number]> = [];
    // A seeded walk: bursts of pushes and pops, so that the ring wraps at several sizes before it grows.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let step = 0; step < 4000; step++) {
      const pushes = rand(7);
      for (let i = 0; i < pushes; i++) {
        const entry: [number, number] = [rand(1000), model.length * 3 + 1];
        model.push(entry);
        q.push(entry[0], entry[1]);
      }
      const pops = Math.min(rand(7), q.length);
      q.head += pops;
      check(q, model);
    }
    assert.ok(q.tail > 4000, 'the walk pushed more than the first capacity many times over');
  });

  it('holds ids beyond 32 bits exactly', () => {
    const q = new FinishedQueue(2);
    const ids = [2 ** 31, 2 ** 32 + 5, 2 ** 40 + 1, 7];
    ids.forEach((id, i) => q.push(i, id));
    ids.forEach((id, i) => assert.equal(q.idAt(i), id));
  });

  it('starts again from position 0 when cleared', () => {
    const q = new FinishedQueue(2);
    q.push(1, 1);
    q.push(2, 2);
    q.push(3, 3);
    q.head = 2;
    q.clear();
    assert.equal(q.length, 0);
    q.push(9, 90);
    assert.equal(q.slotAt(0), 9);
    assert.equal(q.idAt(0), 90);
  });

  it('refuses a capacity that is not a power of two', () => {
    assert.throws(() => new FinishedQueue(3), RangeError);
    assert.throws(() => new FinishedQueue(0), RangeError);
  });
});
