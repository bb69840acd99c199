import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENDINGS, isAbnormal, type Ending } from '../../src/classify/labels.js';
import type { ConnectionRecord, Endpoint } from '../../src/classify/record.js';
import { formatDuration } from '../../src/output/format.js';
import { exactMedian as median } from '../../src/output/median-sketch.js';
import { addToServiceTally, newServiceTally, renderServiceTable } from '../../src/output/service-table.js';
import { makeRecord, parseAsciiTable } from '../helpers/records.js';

function key(ep: Endpoint): string {
  return ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

/** Independent median: sort, then the middle value or the mean of the two middle ones. */
function expectedMedian(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/**
 * 25 services (some IPv6) with varied sizes and endings. Service k has k % 7 + 1 connections; its endings and
 * close-wait times cycle through fixed lists, so each service has a different mix.
 */
function buildRecords(): ConnectionRecord[] {
  const endingCycle: Ending[] = ['graceful-fin', 'abortive-rst', 'graceful-fin', 'refused', 'close-wait-stuck', 'open'];
  const out: ConnectionRecord[] = [];
  let id = 1;
  for (let k = 0; k < 25; k++) {
    const server: Endpoint = k % 6 === 5 ? { ip: `2001:db8::${k + 1}`, port: 8443 } : { ip: `198.51.100.${k + 1}`, port: 80 + (k % 3) };
    const n = (k % 7) + 1;
    for (let i = 0; i < n; i++) {
      const ending = endingCycle[(k * 3 + i) % endingCycle.length]!;
      const closeWaitMs = (k + i) % 3 === 0 ? null : 100 * ((k * 7 + i * 13) % 50);
      out.push(makeRecord({ id: id++, server, ending, closeWaitMs }));
    }
  }
  return out;
}

describe('service table', () => {
  const records = buildRecords();
  const text = renderServiceTable(records, { ascii: true });
  const rows = parseAsciiTable(text);
  const header = rows[0]!;
  const body = rows.slice(1);

  // Expected ranking, computed here from the records.
  const groups = new Map<string, ConnectionRecord[]>();
  for (const r of records) groups.set(key(r.server), [...(groups.get(key(r.server)) ?? []), r]);
  const ranked = [...groups.entries()]
    .map(([k, rs]) => ({ k, rs, abnormal: rs.filter((r) => isAbnormal(r.ending)).length }))
    .sort((a, b) => b.abnormal - a.abnormal || b.rs.length - a.rs.length || (a.k < b.k ? -1 : 1));

  it('shows the top 20 services by abnormal count, then total', () => {
    assert.equal(body.length, 20);
    assert.deepEqual(body.map((r) => r[0]), ranked.slice(0, 20).map((g) => g.k));
  });

  it('writes IPv6 servers as [addr]:port', () => {
    assert.ok(body.some((r) => r[0]!.startsWith('[2001:db8::')));
  });

  it('has one column per ending present, in ENDINGS order, between conns and the median', () => {
    const shownEndings = ENDINGS.filter((e) => ranked.slice(0, 20).some((g) => g.rs.some((r) => r.ending === e)));
    assert.deepEqual(header, ['service', 'conns', ...shownEndings, 'median close-wait']);
  });

  it('puts each service count and its median close-wait in the right cells', () => {
    for (const row of body) {
      const rs = groups.get(row[0]!)!;
      assert.equal(row[1], String(rs.length), `${row[0]} conns`);
      header.slice(2, -1).forEach((ending, i) => {
        assert.equal(row[2 + i], String(rs.filter((r) => r.ending === ending).length), `${row[0]} ${ending}`);
      });
      const m = expectedMedian(rs.flatMap((r) => (r.closeWaitMs === null ? [] : [r.closeWaitMs])));
      assert.equal(row[row.length - 1], m === null ? '-' : formatDuration(m), `${row[0]} median`);
    }
  });

  it('sums up the services left out in one line', () => {
    const hidden = ranked.slice(20);
    const conns = hidden.reduce((s, g) => s + g.rs.length, 0);
    assert.ok(text.endsWith(`... and ${hidden.length} more services (${conns} connections)`), text.split('\n').pop());
  });

  it('honours the limit and shows no "more" line when everything fits', () => {
    assert.equal(parseAsciiTable(renderServiceTable(records, { ascii: true, limit: 3 })).length - 1, 3);
    const all = renderServiceTable(records, { ascii: true, limit: 100 });
    assert.equal(parseAsciiTable(all).length - 1, groups.size);
    assert.ok(!all.includes('more service'));
  });

  it('gives the same table from a tally filled one record at a time', () => {
    const t = newServiceTally();
    for (const r of records) addToServiceTally(t, r);
    assert.equal(renderServiceTable(t, { ascii: true }), text);
  });

  it('highlights abnormal endings only when colour is on', () => {
    assert.ok(!renderServiceTable(records).includes('\u001b['));
    const coloured = renderServiceTable(records, { color: true });
    assert.ok(coloured.includes('\u001b[31m'));
    const calm = [makeRecord({ id: 1 }), makeRecord({ id: 2 })];
    assert.ok(!renderServiceTable(calm, { color: true }).includes('\u001b[31m'), 'no red without an abnormal ending');
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    assert.equal(median([300, 100, 200]), 200);
    assert.equal(median([4000, 1000, 3000, 2000]), 2500);
    assert.equal(median([7]), 7);
    assert.equal(median([]), null);
  });
  it('does not reorder its input', () => {
    const v = [3, 1, 2];
    median(v);
    assert.deepEqual(v, [3, 1, 2]);
  });
});
