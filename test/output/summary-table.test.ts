import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENDINGS, type Closer, type Ending } from '../../src/classify/labels.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { newRunSummary, type RunSummary } from '../../src/output/run-summary.js';
import {
  addToEndingTally,
  newEndingTally,
  renderCaptureHeader,
  renderSummaryTable,
} from '../../src/output/summary-table.js';
import { makeRecord, parseAsciiTable } from '../helpers/records.js';

const ESC = '\u001b[';

/** A varied set: each (ending, closer, n) triple makes n records. */
const PLAN: Array<[Ending, Closer | null, number]> = [
  ['graceful-fin', 'client', 7],
  ['graceful-fin', 'server', 3],
  ['graceful-fin', 'both', 1],
  ['abortive-rst', 'server', 4],
  ['abortive-rst', 'client', 2],
  ['refused', null, 5],
  ['close-wait-stuck', 'server', 2],
  ['open', null, 1],
];

function planRecords(): ConnectionRecord[] {
  const out: ConnectionRecord[] = [];
  let id = 1;
  for (const [ending, closer, n] of PLAN) {
    for (let i = 0; i < n; i++) out.push(makeRecord({ id: id++, ending, closer }));
  }
  // Shuffle deterministically so the table cannot rely on input order.
  return out.sort((a, b) => ((a.id * 7919) % 31) - ((b.id * 7919) % 31));
}

function expectedCount(records: ConnectionRecord[], ending: Ending | null, closer: Closer | null | 'total'): number {
  return records.filter((r) => (ending === null || r.ending === ending) && (closer === 'total' || r.closer === closer)).length;
}

describe('summary table', () => {
  const records = planRecords();
  const rows = parseAsciiTable(renderSummaryTable(records, { ascii: true }));

  it('has the closer columns and a total column', () => {
    assert.deepEqual(rows[0], ['ending', 'client', 'server', 'both', '-', 'total']);
  });

  it('lists only the endings present, in ENDINGS order, then the total row', () => {
    const present = ENDINGS.filter((e) => records.some((r) => r.ending === e));
    assert.deepEqual(rows.slice(1).map((r) => r[0]), [...present, 'total']);
  });

  it('puts every count in the right cell', () => {
    const closers: Array<Closer | null | 'total'> = ['client', 'server', 'both', null, 'total'];
    for (const row of rows.slice(1)) {
      const ending = row[0] === 'total' ? null : (row[0] as Ending);
      const expected = closers.map((cl) => String(expectedCount(records, ending, cl)));
      assert.deepEqual(row.slice(1), expected, `row ${row[0]}`);
    }
    assert.equal(rows[rows.length - 1]![5], String(records.length));
  });

  it('gives the same table from a tally filled one record at a time', () => {
    const t = newEndingTally();
    for (const r of records) addToEndingTally(t, r);
    assert.equal(renderSummaryTable(t, { ascii: true }), renderSummaryTable(records, { ascii: true }));
  });

  it('is plain ASCII in ASCII mode, box-drawn otherwise, and has colour only when asked', () => {
    const ascii = renderSummaryTable(records, { ascii: true });
    assert.ok(/^[\x20-\x7e\n]*$/.test(ascii));
    const unicode = renderSummaryTable(records);
    assert.ok(unicode.includes('│'));
    assert.ok(!unicode.includes(ESC));
    const coloured = renderSummaryTable(records, { color: true });
    assert.ok(coloured.includes(ESC));
  });

  it('says so when there are no connections', () => {
    assert.equal(renderSummaryTable([]), 'No TCP connections.');
  });
});

function sampleSummary(): RunSummary {
  const s = newRunSummary({ closeWaitThresholdMs: 5000, finTimeoutMs: 60000 });
  s.files.push(
    { name: 'a.pcapng', format: 'pcapng', frames: 1200, bytes: 3_200_000, linkTypes: [1], error: null, droppedByCapture: 7, notes: [] },
    { name: 'b\u001b[31m.pcap', format: 'pcap', frames: 34, bytes: 4096, linkTypes: [1], error: 'at byte 4000: record cut short', droppedByCapture: null, notes: [] },
  );
  s.captureStart = '2024-01-15T10:00:00.000000Z';
  s.captureEnd = '2024-01-15T10:04:03.000000Z';
  s.packetsRead = 1234;
  s.tcpSegments = 1100;
  s.notTcp = 120;
  s.notTcpByKind = { udp: 100, arp: 20 };
  s.fragments = 3;
  s.tooShort = 2;
  s.malformed = 5;
  s.unknownLinkType = 4;
  s.badChecksums = 9;
  s.connections = 42;
  s.evictedConnections = 6;
  s.outOfWindowRstsIgnored = 8;
  return s;
}

describe('capture header', () => {
  it('names files, the span, the packets, the connections and the damage', () => {
    const s = sampleSummary();
    const text = renderCaptureHeader(s, { width: 200 });
    for (const f of ['a.pcapng', 'record cut short', '1,234 read', '1,100 TCP segments', '120 not TCP', 'udp 100', 'arp 20',
      '3 IP fragments', '42 connections', '6 evicted', '8 out-of-window RSTs ignored', '5 malformed', '2 too short',
      '4 unknown link type', '9 bad TCP checksums', '7 dropped', '1 file cut short', s.captureStart!, s.captureEnd!, '4 min 3 s']) {
      assert.ok(text.includes(f), `missing "${f}" in:\n${text}`);
    }
    // A file name from the command line cannot smuggle escape sequences into the terminal.
    assert.ok(!text.includes(ESC));
  });
  it('counts fragments that were never reassembled as damage (their segments are missing)', () => {
    const s = newRunSummary({ closeWaitThresholdMs: 5000, finTimeoutMs: 60000 });
    s.fragments = 3;
    assert.match(renderCaptureHeader(s), /^Damage\s+3 IP fragments not reassembled$/m);
  });
  it('says "none" when nothing was damaged', () => {
    const s = newRunSummary({ closeWaitThresholdMs: 5000, finTimeoutMs: 60000 });
    assert.match(renderCaptureHeader(s), /^Damage\s+none$/m);
  });
  it('wraps to the width', () => {
    const text = renderCaptureHeader(sampleSummary(), { width: 60 });
    for (const l of text.split('\n')) assert.ok(l.length <= 60, l);
  });
});
