/** --from/--to: full dates and times of day, and ISO instants with more digits than Date.parse keeps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoToMs, isTimeOfDay, parseTimeArg } from '../../src/report/time-window.js';

const START = Date.UTC(2026, 10, 21, 10, 6, 47, 138); // a capture's first packet

function ms(text: string, start: number | null = START): number {
  const t = parseTimeArg(text, start);
  assert.ok(t.ok, t.ok ? '' : t.error);
  return t.ms;
}

describe('isoToMs', () => {
  it('keeps the sub-millisecond digits as a fraction', () => {
    assert.equal(isoToMs('2026-11-21T10:06:47.138596Z'), Date.UTC(2026, 10, 21, 10, 6, 47, 138) + 0.596);
    assert.equal(isoToMs('2026-11-21T10:06:47Z'), Date.UTC(2026, 10, 21, 10, 6, 47));
    assert.equal(isoToMs('2026-11-21T10:06:47.5+01:00'), Date.UTC(2026, 10, 21, 9, 6, 47, 500));
  });
});

describe('parseTimeArg', () => {
  it('a time of day is taken on the UTC date of the capture', () => {
    assert.ok(isTimeOfDay('14:02') && isTimeOfDay('14:02:30.25') && !isTimeOfDay('2026-11-21T14:02'));
    assert.equal(ms('14:02'), Date.UTC(2026, 10, 21, 14, 2));
    assert.equal(ms('9:05:30'), Date.UTC(2026, 10, 21, 9, 5, 30));
    assert.equal(ms('10:06:47.5'), Date.UTC(2026, 10, 21, 10, 6, 47, 500));
  });
  it('a date and time is absolute: Z, an offset, or none (UTC); a space may stand for the T', () => {
    assert.equal(ms('2026-11-20T23:59:59Z'), Date.UTC(2026, 10, 20, 23, 59, 59));
    assert.equal(ms('2026-11-21 14:02'), Date.UTC(2026, 10, 21, 14, 2));
    assert.equal(ms('2026-11-21T15:02:00+01:00'), Date.UTC(2026, 10, 21, 14, 2));
    assert.equal(ms('2026-11-21T09:02-0500'), Date.UTC(2026, 10, 21, 14, 2));
    assert.equal(ms('2026-11-21'), Date.UTC(2026, 10, 21));
  });
  it('says why a value is refused', () => {
    for (const bad of ['25:00', '14:61', 'yesterday', '2026-13-01T00:00Z', '14h02']) {
      const t = parseTimeArg(bad, START);
      assert.equal(t.ok, false, bad);
    }
    const noDate = parseTimeArg('14:02', null);
    assert.equal(noDate.ok, false);
    assert.match(noDate.ok ? '' : noDate.error, /date/);
  });
});
