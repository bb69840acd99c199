import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { createCsvWriter } from '../../src/output/csv-output.js';
import { newRunSummary } from '../../src/output/run-summary.js';
import { closeWaitScenario, makeRecord } from '../helpers/records.js';

/** A small RFC 4180 parser: quoted fields may hold commas, CR, LF and doubled quotes; records end with CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (ch === '"') {
        quoted = false;
        i++;
      } else {
        field += ch;
        i++;
      }
    } else if (ch === '"') {
      assert.equal(field, '', `quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else {
      assert.ok(ch !== '\r' && ch !== '\n', `bare line break outside quotes at ${i}`);
      field += ch;
      i++;
    }
  }
  assert.equal(quoted, false, 'unterminated quote');
  assert.ok(field === '' && row.length === 0, 'the last record must end with CRLF');
  return rows;
}

const COLUMNS = [
  'id', 'client_ip', 'client_port', 'server_ip', 'server_port', 'start', 'end', 'duration_ms', 'packets_client',
  'packets_server', 'bytes_client', 'bytes_server', 'handshake', 'ending', 'cause', 'closer', 'close_wait_ms',
  'fin_wait2_ms', 'rst_reason', 'confidence', 'app_client', 'app_server', 'evidence', 'tunnel', 'incarnation',
  'explanation', 'tcp_stream', 'zeek_conn_state', 'zeek_history', 'display_filter',
];

/** The row a record should become, written independently of the code under test. */
function expectedRow(r: ConnectionRecord): string[] {
  const s = (v: string | number | null): string => (v === null ? '' : String(v));
  return [
    s(r.id), r.client.ip, s(r.client.port), r.server.ip, s(r.server.port), r.start, r.end, s(r.durationMs),
    s(r.packets.client), s(r.packets.server), s(r.bytes.client), s(r.bytes.server), r.handshake, r.ending, s(r.cause),
    s(r.closer), s(r.closeWaitMs), s(r.finWait2Ms), s(r.rstReason), r.confidence, r.appView.client, r.appView.server,
    r.evidence.join(' '), r.tunnel, s(r.incarnation), r.explanation, s(r.tcpStream), r.zeekConnState!, r.zeekHistory!,
    r.displayFilter,
  ];
}

class Collector extends Writable {
  readonly chunks: string[] = [];
  constructor() {
    super({ decodeStrings: false, write: (chunk: string, _e, cb) => { this.chunks.push(String(chunk)); cb(); } });
  }
}

async function toCsv(records: ConnectionRecord[]): Promise<string> {
  const out = new Collector();
  const sink = createCsvWriter(out);
  for (const r of records) if (!sink.write(r)) await sink.drain();
  await sink.finish(newRunSummary({ closeWaitThresholdMs: 5000, finTimeoutMs: 60000 }));
  return out.chunks.join('');
}

describe('--format csv', () => {
  const tricky = [
    closeWaitScenario(6, { id: 1 }),
    makeRecord({ id: 2, ending: 'abortive-rst', cause: 'unread-data', closer: 'server', rstReason: 'TCP_ABORT_ON_DATA',
      explanation: 'He said "close it", then: nothing,\nthen a reset.\r\nSee frame 12, "RST".' }),
    makeRecord({ id: 3, ending: 'open', closer: null, client: { ip: '2001:db8::1', port: 50000 }, tunnel: 'gre,vxlan',
      evidence: [], explanation: '"' }),
    makeRecord({ id: 4, explanation: '' }),
  ];

  it('writes the header row with the documented columns', async () => {
    const rows = parseCsv(await toCsv(tricky));
    assert.deepEqual(rows[0], COLUMNS);
  });

  it('round-trips commas, quotes and line breaks through an RFC 4180 parser', async () => {
    const rows = parseCsv(await toCsv(tricky));
    assert.equal(rows.length, tricky.length + 1);
    tricky.forEach((r, i) => assert.deepEqual(rows[i + 1], expectedRow(r), `record ${r.id}`));
  });

  it('quotes only the fields that need it', async () => {
    const text = await toCsv([makeRecord({ id: 9, explanation: 'plain words' })]);
    assert.ok(!text.includes('"'));
    assert.ok(text.includes(',plain words,'));
  });

  it('writes empty fields for nulls and joins evidence frames with spaces', async () => {
    const r = makeRecord({ id: 5, closer: null, cause: null, closeWaitMs: null, evidence: [3, 17, 40] });
    const row = parseCsv(await toCsv([r]))[1]!;
    assert.equal(row[COLUMNS.indexOf('closer')], '');
    assert.equal(row[COLUMNS.indexOf('cause')], '');
    assert.equal(row[COLUMNS.indexOf('close_wait_ms')], '');
    assert.equal(row[COLUMNS.indexOf('evidence')], '3 17 40');
  });

  it('writes the header even for a run without connections', async () => {
    assert.deepEqual(parseCsv(await toCsv([])), [COLUMNS]);
  });
});
