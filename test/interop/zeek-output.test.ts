/**
 * `--format zeek` / `--format zeek-json` on built records: the layout of Zeek's ASCII and JSON log writers
 * (unset `-`, empty `(empty)`, six-decimal times, meta lines), read back the way zeek-cut reads a log.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { newRunSummary } from '../../src/output/run-summary.js';
import { createZeekJsonWriter, createZeekTsvWriter, escapeZeek, zeekUid } from '../../src/output/zeek-output.js';
import { makeRecord } from '../helpers/records.js';
import { TextCollector } from './zeek-corpus.js';

const OPEN = new Date(2024, 0, 15, 10, 0, 0);
const summary = newRunSummary({ closeWaitThresholdMs: 5000, finTimeoutMs: 60000 });

async function write(records: ConnectionRecord[], json = false): Promise<string> {
  const out = new TextCollector();
  const sink = json ? createZeekJsonWriter(out) : createZeekTsvWriter(out, { now: () => OPEN });
  for (const r of records) if (!sink.write(r)) await sink.drain();
  await sink.finish(summary);
  return out.text();
}

/** What zeek-cut does: the separator from `#separator` (escaped), the columns from `#fields`, rows selected by name. */
function zeekCut(text: string, columns: string[]): string[][] {
  const lines = text.split('\n').filter((l) => l !== '');
  const sepLine = lines.find((l) => l.startsWith('#separator '))!;
  const sep = sepLine.slice('#separator '.length).replace(/\\x([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  const fields = lines.find((l) => l.startsWith(`#fields${sep}`))!.split(sep).slice(1);
  const idx = columns.map((c) => fields.indexOf(c));
  assert.ok(idx.every((i) => i >= 0), `columns ${columns.join(' ')} in #fields`);
  return lines.filter((l) => !l.startsWith('#')).map((l) => idx.map((i) => l.split(sep)[i]!));
}

const rec = (over: Partial<ConnectionRecord> = {}): ConnectionRecord =>
  makeRecord({
    id: 3,
    start: '2024-01-15T10:00:03.123456789Z',
    client: { ip: '192.0.2.7', port: 40003 },
    server: { ip: '198.51.100.5', port: 443 },
    packets: { client: 6, server: 5 },
    ending: 'abortive-rst',
    cause: null,
    closer: 'server',
    appView: { client: 'ECONNRESET', server: 'none' },
    zeekConnState: 'RSTR',
    zeekHistory: 'ShADadr',
    zeekConn: { duration: 1.5, origBytes: 120, respBytes: 0, missedBytes: 0 },
    ...over,
  });

describe('--format zeek', () => {
  it('writes the meta lines the way Zeek’s ASCII writer does', async () => {
    const lines = (await write([rec()])).split('\n');
    assert.equal(lines[0], '#separator \\x09');
    assert.equal(lines[1], '#set_separator\t,');
    assert.equal(lines[2], '#empty_field\t(empty)');
    assert.equal(lines[3], '#unset_field\t-');
    assert.equal(lines[4], '#path\tconn');
    assert.equal(lines[5], '#open\t2024-01-15-10-00-00');
    assert.ok(lines[6]!.startsWith('#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t'));
    assert.ok(lines[6]!.endsWith('\tteardown_ending\tteardown_cause\tteardown_closer\tteardown_app_client\tteardown_app_server'));
    assert.ok(lines[7]!.startsWith('#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t'));
    assert.equal(lines[9], '#close\t2024-01-15-10-00-00');
    assert.equal(lines[10], '');
    assert.equal(lines.length, 11);
  });

  it('reads back through zeek-cut: times to the microsecond, unset as -, our labels in the extra columns', async () => {
    const [row] = zeekCut(await write([rec()]), [
      'ts', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes', 'resp_bytes',
      'conn_state', 'history', 'orig_pkts', 'resp_pkts', 'ip_proto', 'teardown_ending', 'teardown_cause', 'teardown_closer',
      'teardown_app_client',
    ]);
    // 10:00:03 UTC on 2024-01-15, nanoseconds cut to microseconds as Zeek reads traces.
    const epoch = Date.UTC(2024, 0, 15, 10, 0, 3) / 1000;
    assert.deepEqual(row, [
      `${epoch}.123456`, '192.0.2.7', '40003', '198.51.100.5', '443', 'tcp', '-', '1.500000', '120', '0',
      'RSTR', 'ShADadr', '6', '5', '6', 'abortive-rst', '-', 'server', 'ECONNRESET',
    ]);
  });

  it('leaves duration and sizes unset when Zeek would (no duration), and an empty history unset', async () => {
    const [row] = zeekCut(await write([rec({ zeekHistory: '', zeekConn: { duration: null, origBytes: null, respBytes: null, missedBytes: 0 } })]), [
      'duration', 'orig_bytes', 'resp_bytes', 'missed_bytes', 'history',
    ]);
    assert.deepEqual(row, ['-', '-', '-', '0', '-']);
  });

  it('gives every row as many fields as #fields names, one row per record', async () => {
    const text = await write([rec({ id: 1 }), rec({ id: 2 }), rec({ id: 3 })]);
    const fields = text.split('\n').find((l) => l.startsWith('#fields\t'))!.split('\t').slice(1);
    const rows = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(rows.length, 3);
    for (const r of rows) assert.equal(r.split('\t').length, fields.length);
  });

  it('writes a complete, empty log for a run without connections', async () => {
    const text = await write([]);
    assert.equal(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length, 0);
    assert.match(text, /^#separator \\x09\n/);
    assert.match(text, /#close\t\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\n$/);
  });

  it('makes a stable uid in Zeek’s shape, different for different connections', () => {
    const a = zeekUid(rec({ id: 1 }));
    assert.match(a, /^C[0-9A-Za-z]{15,18}$/);
    assert.equal(zeekUid(rec({ id: 1 })), a);
    assert.notEqual(zeekUid(rec({ id: 2 })), a);
  });
});

describe('--format zeek-json', () => {
  it('writes one object per line with Zeek’s names, leaving unset fields out', async () => {
    const lines = (await write([rec(), rec({ id: 4 })], true)).split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 2);
    const o = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o), [
      'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'duration', 'orig_bytes', 'resp_bytes',
      'conn_state', 'missed_bytes', 'history', 'orig_pkts', 'resp_pkts', 'ip_proto', 'teardown_ending', 'teardown_closer',
      'teardown_app_client', 'teardown_app_server',
    ]);
    assert.equal(o.ts, Date.UTC(2024, 0, 15, 10, 0, 3) / 1000 + 0.123456);
    assert.equal(o['id.orig_p'], 40003);
    assert.equal(o.duration, 1.5);
    assert.equal(o.conn_state, 'RSTR');
  });
});

describe('Zeek string escaping', () => {
  it('escapes the separator, control and non-ASCII bytes, and values that would read as markers', () => {
    assert.equal(escapeZeek('a\tb'), 'a\\x09b');
    assert.equal(escapeZeek('é'), '\\xc3\\xa9');
    assert.equal(escapeZeek('-'), '\\x2d');
    assert.equal(escapeZeek(''), '(empty)');
    assert.equal(escapeZeek('graceful-fin'), 'graceful-fin');
  });
});
