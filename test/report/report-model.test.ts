/**
 * The report model: counts that match the records offered, the filters (window, --only abnormal), and the
 * bounds that keep a huge capture's report small (table rows, examples, services, time buckets).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDINGS, isAbnormal, type Cause, type Closer, type Ending } from '../../src/classify/labels.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import {
  addToReport,
  examplesOf,
  MAX_STORED_BUCKETS,
  newReportModel,
  rankTally,
  timelineView,
} from '../../src/report/report-model.js';
import { isoToMs } from '../../src/report/time-window.js';
import { BASE_MS, isoAtUs, makeRecord } from '../helpers/records.js';

/** A varied set: endings round-robin, closers round-robin, servers on three ports, one record per second. */
function varied(n: number): ConnectionRecord[] {
  const closers: (Closer | null)[] = ['client', 'server', 'both', null];
  return Array.from({ length: n }, (_, i) =>
    makeRecord({
      id: i + 1,
      ending: ENDINGS[i % ENDINGS.length]!,
      closer: closers[i % closers.length]!,
      server: { ip: '198.51.100.5', port: 8000 + (i % 3) },
    }),
  );
}

describe('report model: counts', () => {
  const records = varied(103);
  const m = newReportModel();
  for (const r of records) addToReport(m, r);

  it('counts every record once, per ending and closer', () => {
    assert.equal(m.seen, records.length);
    assert.equal(m.total, records.length);
    assert.equal(m.abnormal, records.filter((r) => isAbnormal(r.ending)).length);
    for (const e of ENDINGS) {
      const mine = records.filter((r) => r.ending === e);
      const c = m.endings.byEnding.get(e);
      assert.equal(c?.total ?? 0, mine.length, e);
      if (c === undefined) continue;
      assert.equal(c.client, mine.filter((r) => r.closer === 'client').length);
      assert.equal(c.server, mine.filter((r) => r.closer === 'server').length);
      assert.equal(c.both, mine.filter((r) => r.closer === 'both').length);
      assert.equal(c.none, mine.filter((r) => r.closer === null).length);
    }
  });

  it('per-service counts add up to the records of that server port', () => {
    for (const port of [8000, 8001, 8002]) {
      const mine = records.filter((r) => r.server.port === port);
      const entry = m.services.entries.get(`198.51.100.5:${port}`);
      assert.ok(entry);
      assert.equal(entry.total, mine.length);
      assert.equal(entry.abnormal, mine.filter((r) => isAbnormal(r.ending)).length);
    }
    const ranked = rankTally(m.services, 10);
    for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1]!.abnormal >= ranked[i]!.abnormal);
  });

  it('the timeline holds every record, and a view of any width sums to the same counts', () => {
    let stored = 0;
    for (const c of m.timeline.buckets.values()) stored += c.reduce((a, b) => a + b, 0);
    assert.equal(stored, records.length);
    const from = isoToMs(records[0]!.start);
    const to = isoToMs(records[records.length - 1]!.end);
    for (const bars of [1, 7, 60, 500]) {
      const v = timelineView(m.timeline, from, to, bars);
      assert.ok(v);
      assert.ok(v.counts.length <= bars, `${v.counts.length} bars for at most ${bars}`);
      for (const [k, e] of ENDINGS.entries()) {
        let sum = 0;
        for (const c of v.counts) sum += c[k]!;
        assert.equal(sum, records.filter((r) => r.ending === e).length, `${e} in ${bars} bars`);
      }
      // Each record lands in the bucket that covers its end time.
      for (const r of records.slice(0, 10)) {
        const t = isoToMs(r.end);
        const j = v.starts.findIndex((s) => s <= t && t < s + v.widthMs);
        assert.ok(j >= 0 && v.counts[j]![ENDINGS.indexOf(r.ending)]! > 0);
      }
    }
  });
});

describe('report model: filters', () => {
  const records = varied(40);
  it('--only abnormal leaves out the normal endings and counts them', () => {
    const m = newReportModel({ onlyAbnormal: true });
    for (const r of records) addToReport(m, r);
    const abnormal = records.filter((r) => isAbnormal(r.ending));
    assert.equal(m.total, abnormal.length);
    assert.equal(m.normalLeftOut, records.length - abnormal.length);
    for (const e of ENDINGS) if (!isAbnormal(e)) assert.equal(m.endings.byEnding.get(e), undefined);
  });

  it('the window keeps the connections that ended within it, bounds included', () => {
    const from = isoToMs(records[10]!.end);
    const to = isoToMs(records[19]!.end);
    const m = newReportModel({ fromMs: from, toMs: to });
    for (const r of records) addToReport(m, r);
    const inside = records.filter((r) => isoToMs(r.end) >= from && isoToMs(r.end) <= to);
    assert.equal(inside.length, 10);
    assert.equal(m.total, inside.length);
    assert.equal(m.outsideWindow, records.length - inside.length);
    assert.deepEqual(
      m.rows.map((r) => r.id).sort((a, b) => a - b),
      inside.filter((r) => isAbnormal(r.ending)).map((r) => r.id),
    );
  });
});

describe('report model: bounds', () => {
  it('the table keeps the N earliest abnormal connections by start, whatever order they arrive in', () => {
    const records = varied(300).filter((r) => isAbnormal(r.ending));
    const shuffled = records.slice().sort((a, b) => ((a.id * 7919) % 301) - ((b.id * 7919) % 301));
    const m = newReportModel({ tableLimit: 25 });
    for (const r of shuffled) addToReport(m, r);
    assert.equal(m.abnormal, records.length);
    assert.equal(m.rows.length, 25);
    const earliest = records
      .slice()
      .sort((a, b) => isoToMs(a.start) - isoToMs(b.start))
      .slice(0, 25)
      .map((r) => r.id);
    assert.deepEqual(
      m.rows.map((r) => r.id),
      earliest,
    );
  });

  it('examples: at most K per ending, and every cause seen gets one when K allows', () => {
    const causes: Cause[] = ['linger-abort', 'linger-abort', 'linger-abort', 'unread-data', 'linger-abort', 'data-after-close'];
    const records = causes.map((cause, i) => makeRecord({ id: i + 1, ending: 'abortive-rst', cause, closer: 'client' }));
    const m = newReportModel({ examplesPerEnding: 3 });
    for (const r of records) addToReport(m, r);
    const ex = examplesOf(m, 'abortive-rst');
    assert.equal(ex.length, 3);
    assert.deepEqual(new Set(ex.map((r) => r.cause)), new Set(['linger-abort', 'unread-data', 'data-after-close']));
    const none = newReportModel({ examplesPerEnding: 0 });
    for (const r of records) addToReport(none, r);
    assert.equal(examplesOf(none, 'abortive-rst').length, 0);
  });

  it('only abnormal endings get examples', () => {
    const m = newReportModel();
    for (const r of varied(50)) addToReport(m, r);
    for (const e of m.examples.keys()) assert.ok(isAbnormal(e), e);
  });

  it('services beyond maxTracked are pruned, keeping the most affected, and the pruning is reported', () => {
    const m = newReportModel({ maxTracked: 20 });
    // Port 9000 gets many resets; 500 other ports one graceful close each.
    for (let i = 0; i < 60; i++) {
      addToReport(m, makeRecord({ id: i + 1, ending: 'abortive-rst', server: { ip: '198.51.100.7', port: 9000 } }));
    }
    for (let i = 0; i < 500; i++) {
      addToReport(m, makeRecord({ id: 100 + i, ending: 'graceful-fin', server: { ip: '198.51.100.7', port: 10000 + i } }));
    }
    assert.ok(m.services.entries.size <= 20, `${m.services.entries.size} services tracked`);
    assert.ok(m.services.dropped > 0);
    const top = rankTally(m.services, 1)[0]!;
    assert.equal(top.key, '198.51.100.7:9000');
    assert.equal(top.abnormal, 60);
  });

  it('the timeline stays within its bucket bound over a long span, and coarsens to round widths', () => {
    const m = newReportModel();
    // One connection every 37 minutes for 40 days, starting 3 ms after midnight.
    const n = 1600;
    for (let i = 0; i < n; i++) {
      const endUs = (i * 37 * 60_000 + 3) * 1000;
      addToReport(m, makeRecord({ id: i + 1, start: isoAtUs(endUs - 1000), end: isoAtUs(endUs), ending: 'graceful-fin' }));
      assert.ok(m.timeline.buckets.size <= MAX_STORED_BUCKETS);
    }
    assert.ok(m.timeline.maxIndex - m.timeline.minIndex + 1 <= MAX_STORED_BUCKETS);
    assert.equal((86_400_000 * 64) % m.timeline.widthMs, 0, `width ${m.timeline.widthMs} ms`);
    let stored = 0;
    for (const c of m.timeline.buckets.values()) stored += c[0]!;
    assert.equal(stored, n);
    assert.equal(m.timeline.anchorMs % 86_400_000, 0);
    assert.ok(m.timeline.anchorMs <= BASE_MS);
  });
});

describe('report model: per-ending facts', () => {
  it('what the applications saw and the reset reasons are counted per ending', () => {
    const mk = (id: number, ending: Ending, client: 'ECONNRESET' | 'EPIPE' | 'none'): ConnectionRecord =>
      makeRecord({ id, ending, appView: { client, server: 'none' }, rstReason: ending === 'abortive-rst' ? 'TCP_STATE' : null });
    const records = [mk(1, 'abortive-rst', 'ECONNRESET'), mk(2, 'abortive-rst', 'EPIPE'), mk(3, 'abortive-rst', 'ECONNRESET'), mk(4, 'refused', 'none')];
    const m = newReportModel();
    for (const r of records) addToReport(m, r);
    const f = m.facts.get('abortive-rst')!;
    assert.deepEqual(f.appView.client, { ECONNRESET: 2, EPIPE: 1 });
    assert.deepEqual(f.appView.server, { none: 3 });
    assert.deepEqual(f.byRstReason, { TCP_STATE: 3 });
    assert.equal(f.firstEndMs, isoToMs(records[0]!.end));
    assert.equal(f.lastEndMs, isoToMs(records[2]!.end));
  });
});
