import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { createJsonWriter, createNdjsonWriter, orderedRecord } from '../../src/output/json-output.js';
import { newRunSummary } from '../../src/output/run-summary.js';
import type { RecordSink } from '../../src/output/sink.js';
import { REPO } from '../helpers/paths.js';
import { closeWaitScenario, makeRecord } from '../helpers/records.js';

/** A Writable that keeps every chunk; with a delay, it applies real backpressure (tiny high-water mark). */
class Collector extends Writable {
  readonly chunks: string[] = [];
  constructor(delayMs = 0) {
    super({
      decodeStrings: false,
      highWaterMark: delayMs > 0 ? 64 : 16384,
      write: (chunk: string, _enc, cb) => {
        this.chunks.push(String(chunk));
        if (delayMs > 0) setTimeout(cb, delayMs);
        else cb();
      },
    });
  }
  text(): string {
    return this.chunks.join('');
  }
}

/** Writes records the way the pipeline does: await drain() only when write() says so. */
async function pump(sink: RecordSink, records: ConnectionRecord[]): Promise<number> {
  let waits = 0;
  for (const r of records) {
    if (!sink.write(r)) {
      waits++;
      await sink.drain();
    }
  }
  return waits;
}

function sampleRecords(): ConnectionRecord[] {
  return [
    closeWaitScenario(6, { id: 1 }),
    makeRecord({ id: 2, ending: 'abortive-rst', cause: 'unread-data', closer: 'server', rstReason: 'TCP_ABORT_ON_DATA',
      explanation: 'Quotes " and \\ backslashes, a newline\nand unicode → survive.' }),
    makeRecord({ id: 3, ending: 'open', closer: null, client: { ip: '2001:db8::1', port: 50000 }, tunnel: 'vlan/vxlan',
      confidence: 'low', confidenceReasons: ['capture ended while open'], anomalies: ['out-of-window RST ignored'] }),
  ];
}

/** Field names of ConnectionRecord in declaration order, read from the contract file itself. */
function declaredRecordFields(): string[] {
  const src = fs.readFileSync(path.join(REPO, 'src', 'classify', 'record.ts'), 'utf8');
  const body = /export interface ConnectionRecord \{([\s\S]*?)\n\}/.exec(src)![1]!;
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

const summary = (() => {
  const s = newRunSummary({ closeWaitThresholdMs: 5000, finTimeoutMs: 60000 });
  s.packetsRead = 99;
  s.connections = 3;
  s.notTcpByKind = { udp: 4 };
  s.files.push({ name: 'x.pcap', format: 'pcap', frames: 99, bytes: 9000, linkTypes: [1], error: null, droppedByCapture: null, notes: [] });
  return s;
})();

describe('--format json', () => {
  it('parses back to the version, the records and the summary', async () => {
    const records = sampleRecords();
    const out = new Collector();
    const sink = createJsonWriter(out);
    await pump(sink, records);
    await sink.finish(summary);
    const doc = JSON.parse(out.text());
    assert.deepEqual(doc, { version: 1, connections: records, summary });
    assert.deepEqual(Object.keys(doc).sort(), ['connections', 'summary', 'version']);
  });

  it('writes fields in ConnectionRecord order whatever order the object was built in', async () => {
    const declared = declaredRecordFields();
    assert.ok(declared.length > 20 && declared[0] === 'id' && declared.includes('ladder'));
    const r = closeWaitScenario(6);
    const scrambled = Object.fromEntries(Object.entries(r).reverse()) as unknown as ConnectionRecord;
    const out = new Collector();
    const sink = createJsonWriter(out);
    sink.write(scrambled);
    await sink.finish(summary);
    const rec = JSON.parse(out.text()).connections[0];
    assert.deepEqual(Object.keys(rec), declared);
    assert.deepEqual(Object.keys(rec.ladder[0]), ['frame', 'time', 'rel', 'from', 'flags', 'seq', 'ack', 'len', 'win', 'note']);
  });

  it('writes only declared fields', () => {
    const r = { ...makeRecord({ id: 5 }), internal: 'not for output' } as ConnectionRecord;
    assert.ok(!JSON.stringify(orderedRecord(r)).includes('internal'));
  });

  it('hands each record to the stream as soon as it is written', () => {
    const out = new Collector();
    const sink = createJsonWriter(out);
    sink.write(makeRecord({ id: 41 }));
    assert.match(out.text(), /"id":41/);
    sink.write(makeRecord({ id: 42 }));
    assert.match(out.text(), /"id":42/);
    assert.ok(!out.text().includes('summary'));
  });

  it('respects backpressure and loses nothing', async () => {
    const records = Array.from({ length: 40 }, (_, i) => closeWaitScenario(1, { id: i + 1 }));
    const out = new Collector(1);
    const sink = createJsonWriter(out);
    const waits = await pump(sink, records);
    await sink.finish(summary);
    assert.ok(waits > 0, 'the slow stream should have pushed back');
    assert.deepEqual(JSON.parse(out.text()).connections, records);
  });

  it('writes a valid document for a run without connections', async () => {
    const out = new Collector();
    await createJsonWriter(out).finish(summary);
    assert.deepEqual(JSON.parse(out.text()), { version: 1, connections: [], summary });
  });
});

describe('--format ndjson', () => {
  it('writes one valid record per line, one write per record', async () => {
    const records = sampleRecords();
    const out = new Collector();
    const sink = createNdjsonWriter(out);
    await pump(sink, records);
    assert.equal(out.chunks.length, records.length);
    for (const c of out.chunks) assert.ok(c.endsWith('\n') && c.indexOf('\n') === c.length - 1, 'one line per chunk');
    await sink.finish(summary);
    const lines = out.text().split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(lines.map((l) => JSON.parse(l)), records);
  });

  it('includes the ladder', async () => {
    const out = new Collector();
    const sink = createNdjsonWriter(out);
    const r = closeWaitScenario(6);
    sink.write(r);
    await sink.finish(summary);
    assert.equal(JSON.parse(out.text()).ladder.length, r.ladder.length);
  });
});
