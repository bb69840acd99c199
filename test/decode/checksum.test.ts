/** The fast word sum against a plain reference, at every alignment and length that matters. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { sumWords, wordHalves } from '../../src/decode/checksum.js';
import { inetChecksum } from '../helpers/frames.js';

function random(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** The reference's folded sum (before the final complement), modulo 65535. */
function referenceSum(part: Buffer): number {
  return (~inetChecksum(part) & 0xffff) % 65535;
}

describe('checksum', () => {
  it('matches the reference for lengths 0..100 at offsets 0..7', () => {
    const buf = random(300, 7);
    for (let start = 0; start < 8; start++) {
      for (let len = 0; len <= 100; len++) {
        const part = buf.subarray(start, start + len);
        assert.equal(sumWords(buf, start, start + len) % 65535, referenceSum(part), `start ${start} len ${len}`);
      }
    }
  });

  it('works on a Buffer that is a view into a larger pool, and when the memory changes', () => {
    const pool = random(5000, 11);
    for (const off of [1, 3, 1001]) {
      const view = pool.subarray(off, off + 2000);
      assert.equal(sumWords(view, 5, 1500) % 65535, referenceSum(view.subarray(5, 1500)));
    }
    const other = random(3000, 12);
    assert.equal(sumWords(other, 0, 3000) % 65535, referenceSum(other));
  });

  it('all-0xff data and large buffers (reduced between blocks)', () => {
    const ff = Buffer.alloc(65535, 0xff);
    assert.equal(sumWords(ff, 0, ff.length) % 65535, referenceSum(ff));
    const big = random(3 << 20, 3);
    assert.equal(sumWords(big, 1, big.length) % 65535, referenceSum(big.subarray(1)));
  });

  it('wordHalves adds the two 16-bit halves', () => {
    assert.equal(wordHalves(0xc0000201), 0xc000 + 0x0201);
    assert.equal(wordHalves(0xffffffff), 0x1fffe);
  });
});
