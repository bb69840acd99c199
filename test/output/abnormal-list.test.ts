import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENDINGS, isAbnormal } from '../../src/classify/labels.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import {
  addToAbnormal,
  compareIso,
  newAbnormalCollector,
  renderAbnormalList,
} from '../../src/output/abnormal-list.js';
import { isoAtUs, makeRecord } from '../helpers/records.js';

/** Nanoseconds since the epoch as a BigInt, from an ISO string with any number of fraction digits. */
function isoNs(s: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(s)!;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}

/** Entry ids in the order the list shows them. */
function shownIds(text: string): number[] {
  return [...text.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1]));
}

/** 40 records, endings cycling through all of ENDINGS, start times not in id order. */
function buildRecords(): ConnectionRecord[] {
  const out: ConnectionRecord[] = [];
  for (let id = 1; id <= 40; id++) {
    const startUs = ((id * 7919) % 97) * 1_000_000 + (id % 5) * 100_000;
    out.push(makeRecord({ id, ending: ENDINGS[id % ENDINGS.length]!, start: isoAtUs(startUs) }));
  }
  return out;
}

describe('abnormal list', () => {
  const records = buildRecords();
  const abnormal = records.filter((r) => isAbnormal(r.ending));
  const byStart = [...abnormal].sort((a, b) => (isoNs(a.start) < isoNs(b.start) ? -1 : isoNs(a.start) > isoNs(b.start) ? 1 : a.id - b.id));

  it('shows only abnormal connections, earliest start first', () => {
    const text = renderAbnormalList(records, { limit: 100 });
    assert.deepEqual(shownIds(text), byStart.map((r) => r.id));
  });

  it('is bounded, then says how many more and where to find them', () => {
    const text = renderAbnormalList(records, { limit: 5 });
    assert.deepEqual(shownIds(text), byStart.slice(0, 5).map((r) => r.id));
    assert.ok(text.includes(`${abnormal.length - 5} more abnormal connections; use --format json`), text);
  });

  it('defaults to 50 entries', () => {
    const many = Array.from({ length: 60 }, (_, i) => makeRecord({ id: i + 1, ending: 'abortive-rst' }));
    const text = renderAbnormalList(many);
    assert.equal(shownIds(text).length, 50);
    assert.ok(text.includes('10 more abnormal connections'));
  });

  it('keeps the same entries when fed one record at a time in any order', () => {
    const col = newAbnormalCollector(7);
    for (const r of [...records].reverse()) addToAbnormal(col, r);
    assert.equal(col.total, abnormal.length);
    assert.equal(col.kept.length, 7);
    assert.equal(renderAbnormalList(col), renderAbnormalList(records, { limit: 7 }));
  });

  it('orders starts of different resolutions by time, not by string', () => {
    assert.ok(compareIso('2024-01-15T10:00:05.1Z', '2024-01-15T10:00:05.123456Z') < 0);
    assert.ok(compareIso('2024-01-15T10:00:05.2Z', '2024-01-15T10:00:05.123456789Z') > 0);
    assert.ok(compareIso('2024-01-15T10:00:05Z', '2024-01-15T10:00:05.000000001Z') < 0);
    assert.equal(compareIso('2024-01-15T10:00:05.5Z', '2024-01-15T10:00:05.500Z'), 0);
  });

  it('gives each entry its verdict, closer, durations, app view, evidence and explanation', () => {
    const r = makeRecord({
      id: 77,
      client: { ip: '2001:db8::10', port: 50123 },
      ending: 'abortive-rst',
      cause: 'unread-data',
      closer: 'server',
      closeWaitMs: 6000,
      finWait2Ms: 850,
      rstReason: 'TCP_ABORT_ON_DATA',
      confidence: 'medium',
      confidenceReasons: ['capture began mid-connection'],
      appView: { client: 'ECONNRESET', server: 'none' },
      evidence: [101, 105, 230],
      explanation: 'The server closed with unread data in its receive buffer, so Linux sent RST instead of FIN.',
    });
    const text = renderAbnormalList([r], { width: 200 });
    for (const s of ['#77', '[2001:db8::10]:50123', '198.51.100.5:443', 'abortive-rst (unread-data)', 'closer server',
      'confidence medium (capture began mid-connection)', 'close-wait 6.0 s', 'fin-wait-2 850 ms', 'TCP_ABORT_ON_DATA',
      'client ECONNRESET', 'server none', 'frames 101 105 230', r.explanation]) {
      assert.ok(text.includes(s), `missing "${s}"`);
    }
  });

  it('wraps every line to the width without losing a word of the explanation', () => {
    const explanation = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const r = makeRecord({ id: 3, ending: 'lost-state-rst', explanation, client: { ip: '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1', port: 65000 } });
    for (const width of [50, 72, 100]) {
      const text = renderAbnormalList([r], { width });
      for (const l of text.split('\n')) assert.ok(l.length <= width, `${l.length} > ${width}: ${l}`);
      for (let i = 0; i < 60; i++) assert.match(text, new RegExp(`\\bword${i}\\b`));
    }
  });

  it('has no escape codes unless colour is on, and is ASCII in ASCII mode', () => {
    const plain = renderAbnormalList(records);
    assert.ok(!plain.includes('\u001b['));
    assert.ok(renderAbnormalList(records, { color: true }).includes('\u001b['));
    assert.ok(/^[\x20-\x7e\n]*$/.test(renderAbnormalList(records, { ascii: true })));
  });

  it('says so when nothing is abnormal', () => {
    assert.equal(renderAbnormalList([makeRecord({ id: 1, ending: 'graceful-fin' })]), 'No abnormal connections.');
  });
});
