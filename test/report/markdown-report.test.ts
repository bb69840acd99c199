/**
 * The Markdown report of the mixed sample, checked against the records analyzeCaptures gives for the same
 * capture: the table of abnormal connections lists exactly the abnormal ones, and the counts in its tables match.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runReport, type ReportArgs } from '../../src/cli/report-command.js';
import { ENDINGS, isAbnormal, type Ending } from '../../src/classify/labels.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { SAMPLES } from '../helpers/paths.js';
import { isoToMs } from '../../src/report/time-window.js';
import { analyzeFiles } from './report-helpers.js';

const MIXED = path.join(SAMPLES, 'mixed.pcap');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-report-md-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const BASE: Omit<ReportArgs, 'files' | 'output'> = {
  closeWaitThreshold: 5,
  finTimeout: 60,
  maxConnections: 100_000,
  examples: 3,
  limit: 500,
  top: 10,
};

async function report(name: string, over: Partial<ReportArgs> = {}): Promise<{ status: number; text: string; stderr: string }> {
  const output = path.join(dir, name);
  let stderr = '';
  const status = await runReport({ ...BASE, files: [MIXED], output, ...over }, { stderr: { write: (s: string) => (stderr += s) }, env: {} });
  return { status, text: fs.existsSync(output) ? fs.readFileSync(output, 'utf8') : '', stderr };
}

/** The lines of the section under `## heading`, up to the next `## `. */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`## ${heading}`);
  assert.ok(start >= 0, `no section "${heading}"`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Body rows of the first GFM table in `lines`, split into trimmed cells (a "\|" inside a cell is not a split). */
function tableRows(lines: string[]): string[][] {
  const i = lines.findIndex((l) => /^\| ?-{3}/.test(l) || /^\|\s*-+:?\s*\|/.test(l));
  assert.ok(i > 0, 'no table');
  const rows: string[][] = [];
  for (const l of lines.slice(i + 1)) {
    if (!l.startsWith('|')) break;
    rows.push(l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return rows;
}

const unCode = (cell: string): string => cell.replace(/^`+ ?| ?`+$/g, '').replace(/^\*\*|\*\*$/g, '');
const num = (cell: string): number => Number(unCode(cell).replace(/,/g, ''));

describe('Markdown report of the mixed sample', () => {
  let records: ConnectionRecord[] = [];
  let text = '';
  before(async () => {
    records = (await analyzeFiles([MIXED])).records;
    const r = await report('review.md');
    assert.equal(r.status, 0, r.stderr);
    text = r.text;
  });

  it('lists exactly the abnormal connections of the records, earliest first', () => {
    const rows = tableRows(section(text, 'All abnormal connections'));
    const ids = rows.map((c) => Number(c[0]));
    const abnormal = records.filter((r) => isAbnormal(r.ending));
    assert.ok(abnormal.length >= 10);
    assert.deepEqual(ids.slice().sort((a, b) => a - b), abnormal.map((r) => r.id).sort((a, b) => a - b));
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const c of rows) {
      const r = byId.get(Number(c[0]))!;
      assert.equal(c[4], r.ending, `#${r.id} ending`);
      assert.equal(c[5], r.cause ?? '—', `#${r.id} cause`);
      assert.equal(c[6], r.closer ?? '—', `#${r.id} closer`);
      assert.equal(c[7], `${r.appView.client} / ${r.appView.server}`, `#${r.id} app view`);
      assert.ok(c[9]!.includes(`${r.client.port}`) && c[9]!.includes(`${r.server.port}`), `#${r.id} filter`);
    }
    const starts = ids.map((id) => isoToMs(byId.get(id)!.start));
    assert.deepEqual(starts, starts.slice().sort((a, b) => a - b), 'earliest first');
    assert.doesNotMatch(section(text, 'All abnormal connections').join('\n'), /more abnormal connection/);
  });

  it('the endings table counts what the records say, per closer', () => {
    const rows = tableRows(section(text, 'Endings at a glance'));
    const seen = new Set<string>();
    for (const c of rows) {
      const name = unCode(c[0]!);
      if (name === 'total') {
        assert.equal(num(c[6]!), records.length);
        continue;
      }
      assert.ok((ENDINGS as readonly string[]).includes(name), name);
      seen.add(name);
      const mine = records.filter((r) => r.ending === name);
      assert.deepEqual(
        [num(c[2]!), num(c[3]!), num(c[4]!), num(c[5]!), num(c[6]!)],
        [
          mine.filter((r) => r.closer === 'client').length,
          mine.filter((r) => r.closer === 'server').length,
          mine.filter((r) => r.closer === 'both').length,
          mine.filter((r) => r.closer === null).length,
          mine.length,
        ],
        name,
      );
    }
    assert.deepEqual([...seen].sort(), [...new Set(records.map((r) => r.ending))].sort());
  });

  it('one part per abnormal ending, with its count, the advice and a ladder of one of its connections', () => {
    const parts = section(text, 'Abnormal endings').join('\n');
    const counts = new Map<Ending, number>();
    for (const r of records) if (isAbnormal(r.ending)) counts.set(r.ending, (counts.get(r.ending) ?? 0) + 1);
    for (const [e, n] of counts) {
      assert.match(parts, new RegExp(`^### .*\\(\`${e}\`\\): ${n} connections?$`, 'm'), e);
    }
    const headings = [...parts.matchAll(/^#### Connection #(\d+):/gm)].map((m) => Number(m[1]));
    const byId = new Map(records.map((r) => [r.id, r]));
    const drawn = new Set(headings.map((id) => byId.get(id)!.ending));
    assert.deepEqual([...drawn].sort(), [...counts.keys()].sort(), 'every abnormal ending has an example');
    for (const id of headings) assert.match(parts, new RegExp(`^Connection #${id} +client `, 'm'), `ladder of #${id}`);
    assert.match(parts, /\*\*What it means\.\*\*/);
    assert.match(parts, /\*\*How to fix it\.\*\*/);
  });

  it('services table: the connections of each server add up', () => {
    const rows = tableRows(section(text, 'Services and hosts most affected'));
    for (const c of rows) {
      const key = unCode(c[0]!);
      const mine = records.filter((r) => (r.server.ip.includes(':') ? `[${r.server.ip}]:${r.server.port}` : `${r.server.ip}:${r.server.port}`) === key);
      assert.equal(num(c[1]!), mine.length, key);
      assert.equal(Number(/\d+/.exec(unCode(c[2]!))?.[0] ?? '0'), mine.filter((r) => isAbnormal(r.ending)).length, key);
    }
  });
});

describe('report options', () => {
  let records: ConnectionRecord[] = [];
  let captureStart = '';
  before(async () => {
    const a = await analyzeFiles([MIXED]);
    records = a.records;
    captureStart = a.summary.captureStart!;
  });

  it('--limit bounds the table and says how many were left out', async () => {
    const r = await report('limit.md', { limit: 4 });
    const rows = tableRows(section(r.text, 'All abnormal connections'));
    const abnormal = records.filter((x) => isAbnormal(x.ending)).length;
    assert.equal(rows.length, 4);
    assert.match(r.text, new RegExp(`and ${abnormal - 4} more abnormal connections`));
  });

  it('--only abnormal leaves the normal endings out of the tables', async () => {
    const r = await report('only.md', { only: 'abnormal' });
    const names = tableRows(section(r.text, 'Endings at a glance')).map((c) => unCode(c[0]!)).filter((n) => n !== 'total');
    assert.ok(names.length > 0);
    for (const n of names) assert.ok(isAbnormal(n as Ending), n);
  });

  it('--from/--to keep the connections that ended in the window (date and time, or time of day)', async () => {
    const ends = records.map((r) => r.end).sort((a, b) => isoToMs(a) - isoToMs(b));
    const from = ends[5]!;
    const to = ends[14]!;
    const expected = records.filter((r) => isoToMs(r.end) >= isoToMs(from) && isoToMs(r.end) <= isoToMs(to));
    const r = await report('window.md', { from, to });
    assert.equal(r.status, 0, r.stderr);
    const total = tableRows(section(r.text, 'Endings at a glance')).find((c) => unCode(c[0]!) === 'total')!;
    assert.equal(num(total[6]!), expected.length);
    const listed = tableRows(section(r.text, 'All abnormal connections')).map((c) => Number(c[0]));
    assert.deepEqual(listed.sort((a, b) => a - b), expected.filter((x) => isAbnormal(x.ending)).map((x) => x.id).sort((a, b) => a - b));

    // A time of day on the capture's date: from a whole second after the first packet to the end.
    const second = new Date(Date.parse(captureStart) + 2000).toISOString().slice(11, 19);
    const since = Date.parse(`${captureStart.slice(0, 10)}T${second}Z`);
    const later = records.filter((x) => isoToMs(x.end) >= since);
    const r2 = await report('tod.md', { from: second });
    assert.equal(r2.status, 0, r2.stderr);
    const total2 = tableRows(section(r2.text, 'Endings at a glance')).find((c) => unCode(c[0]!) === 'total')!;
    assert.equal(num(total2[6]!), later.length);
    assert.ok(later.length > 0 && later.length < records.length);
  });

  it('usage errors: an output that is neither .html nor .md, a bad time, a window that ends before it starts', async () => {
    const cases: [Partial<ReportArgs>, RegExp][] = [
      [{ output: path.join(dir, 'review.pdf') }, /\.html or \.md/],
      [{ from: 'noon' }, /--from/],
      [{ from: '10:06:50', to: '10:06:49' }, /before --from/],
      [{ files: ['-'], from: '10:06' }, /date/],
    ];
    for (const [over, re] of cases) {
      const r = await report('usage.md', over);
      assert.equal(r.status, 2, JSON.stringify(over));
      assert.match(r.stderr, re);
    }
    assert.equal(fs.existsSync(path.join(dir, 'review.pdf')), false);
  });

  it('a damaged or missing capture: status 3, and the report of what could be read is still written', async () => {
    const missing = path.join(dir, 'nope.pcap');
    const r = await report('damaged.md', { files: [MIXED, missing] });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /nope\.pcap/);
    assert.match(r.text, /Damaged or unreadable input/);
    const total = tableRows(section(r.text, 'Endings at a glance')).find((c) => unCode(c[0]!) === 'total')!;
    assert.equal(num(total[6]!), records.length);
  });

  it('escapes a hostile title in both formats', async () => {
    const title = '<script>alert(1)</script> | *x*';
    const md = await report('hostile.md', { title });
    assert.match(md.text, /^# \\<script\\>alert\(1\)\\<\/script\\> \\\| \\\*x\\\*$/m);
    const html = await report('hostile.html', { title });
    assert.doesNotMatch(html.text, /<script/i);
    assert.match(html.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt; \| \*x\*/);
  });
});
