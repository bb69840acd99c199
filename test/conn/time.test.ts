import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTime } from '../../src/conn/time.js';

describe('isoTime', () => {
  it('matches Date for any order of seconds (the per-second cache never serves a stale date)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const secs = [0, 1, 59, 60, 86399, 86400, 951782400, 1700000000, 4102444799];
    for (let i = 0; i < 2000; i++) {
      const sec = rnd() < 0.5 ? secs[Math.floor(rnd() * secs.length)]! : Math.floor(rnd() * 4e9);
      const ns = Math.floor(rnd() * 1e9);
      const digits = [0, 3, 6, 9][Math.floor(rnd() * 4)]!;
      const want = new Date(sec * 1000).toISOString().slice(0, 19);
      const frac = digits === 0 ? '' : `.${String(ns).padStart(9, '0').slice(0, digits)}`;
      assert.equal(isoTime(sec, ns, digits), `${want}${frac}Z`);
    }
  });

  it('times outside the years 0000-9999 (64-bit pcapng ticks in a damaged file) are written as @epoch, never thrown', () => {
    assert.equal(isoTime(1e13, 5, 9), '@10000000000000.000000005');
    assert.equal(isoTime(-1e12, 0, 6), '@-1000000000000.000000');
    assert.equal(isoTime(253_402_300_799, 0, 0), '9999-12-31T23:59:59Z');
    assert.equal(isoTime(253_402_300_800, 0, 0), '@253402300800');
  });
});
