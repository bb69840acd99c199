/**
 * The connection table's activity order and its trace option: eviction, forEach and flush go least recently
 * active first; `trace: false` changes nothing a 'summary' record shows.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { synthesize, DEFAULT_SYNTH } from '../../bench/synth-capture.js';
import { DEFAULT_ANALYZER_OPTIONS, type AnalyzerOptions } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { buildRecord } from '../../src/classify/build-record.js';
import { DEFAULT_CLASSIFIER_OPTIONS } from '../../src/classify/classifier.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS, type ConnectionTableOptions, type EmitReason } from '../../src/conn/connection-table.js';
import { tableSegment } from '../helpers/table-segment.js';
import { newTcpSegment, TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../../src/decode/segment.js';


/** A segment from client port `cport` to the server's port 80 (or back), at `t` seconds. */
function seg(s: TcpSegment, cport: number, flags: number, t: number, frame: number, fromServer = false): TcpSegment {
  return tableSegment(s, { cport, flags, t, frame, fromServer, seq: 1000 + cport, ack: fromServer ? 1001 + cport : 0 });
}

function table(opts: Partial<ConnectionTableOptions>, out: [number, EmitReason][]): ConnectionTable {
  return new ConnectionTable({ ...DEFAULT_TABLE_OPTIONS, ...opts }, (c, reason) => void out.push([c.clientPort, reason]));
}

describe('connection table activity order', () => {
  it('forEach and flush go least recently active first; a packet moves its connection to the end', () => {
    const out: [number, EmitReason][] = [];
    const t = table({}, out);
    const s = newTcpSegment();
    for (const [i, p] of [40001, 40002, 40003].entries()) t.onSegment(seg(s, p, TCP_SYN, 100 + i * 0.1, i + 1));
    // The first connection answers: it becomes the most recently active.
    t.onSegment(seg(s, 40001, TCP_SYN | TCP_ACK, 100.5, 4, true));
    const seen: number[] = [];
    t.forEach((c) => seen.push(c.clientPort));
    assert.deepEqual(seen, [40002, 40003, 40001]);
    // Many packets of one connection in a row change nothing for the others.
    for (let i = 0; i < 5; i++) t.onSegment(seg(s, 40003, TCP_ACK, 100.6 + i * 0.01, 5 + i));
    seen.length = 0;
    t.forEach((c) => seen.push(c.clientPort));
    assert.deepEqual(seen, [40002, 40001, 40003]);
    t.flush();
    assert.deepEqual(out, [[40002, 'end-of-capture'], [40001, 'end-of-capture'], [40003, 'end-of-capture']]);
    assert.equal(t.size, 0);
  });

  it('after a flush the table is empty and starts afresh: a flushed tuple opens a new connection, and a new one is emitted once', () => {
    const out: [number, EmitReason][] = [];
    // One connection finished and emitted (a tombstone), one held, then the flush.
    const t = table({ graceSeconds: 1 }, out);
    const s = newTcpSegment();
    t.onSegment(seg(s, 40001, TCP_RST | TCP_ACK, 100, 1));
    t.onSegment(seg(s, 40002, TCP_SYN, 100.1, 2));
    t.onSegment(seg(s, 40003, TCP_SYN, 103, 3));
    assert.deepEqual(out, [[40001, 'finished']]);
    t.flush();
    assert.deepEqual(out.slice(1), [[40002, 'end-of-capture'], [40003, 'end-of-capture']]);
    assert.equal(t.size, 0);
    // Every tuple, the held ones' and the tombstone's, now opens a new connection, held exactly once.
    for (const [i, p] of [40001, 40002, 40003].entries()) {
      t.onSegment(seg(s, p, TCP_ACK, 104 + i, 4 + i));
      assert.equal(t.lastConnection?.clientPort, p);
      assert.equal(t.lastConnection?.firstFrame, 4 + i);
    }
    assert.equal(t.size, 3);
    assert.equal(t.latePackets + t.packetsOfEvicted, 0);
    t.flush();
    assert.deepEqual(out.slice(3).map(([p]) => p), [40001, 40002, 40003]);
    assert.equal(t.size, 0);
  });

  it('beyond maxConnections the least recently active is evicted, and its later packets count against it', () => {
    const out: [number, EmitReason][] = [];
    const t = table({ maxConnections: 3 }, out);
    const s = newTcpSegment();
    let frame = 0;
    for (let i = 0; i < 200; i++) {
      // Connection 40000 + i opens; every tenth packet refreshes the oldest one still held, 40000 + i - 2.
      t.onSegment(seg(s, 40000 + i, TCP_SYN, 100 + i, ++frame));
      if (i >= 2 && i % 10 === 0) t.onSegment(seg(s, 40000 + i - 2, TCP_SYN, 100 + i + 0.5, ++frame));
      assert.ok(t.size <= 3);
    }
    // The refreshed connection outlives the one opened after it.
    const evicted = out.filter(([, r]) => r === 'evicted').map(([p]) => p);
    assert.equal(evicted.length, 197);
    assert.ok(evicted.indexOf(40009) < evicted.indexOf(40008), 'refreshed 40008 is evicted after 40009');
    const before = t.packetsOfEvicted;
    t.onSegment(seg(s, 40000, TCP_ACK, 400, ++frame));
    assert.equal(t.packetsOfEvicted, before + 1);
    assert.equal(t.size, 3);
  });
});

async function records(file: string, opts: AnalyzerOptions): Promise<ConnectionRecord[]> {
  const out: ConnectionRecord[] = [];
  await analyzeCaptures([file], opts, { onRecord: (r) => void out.push(r) });
  return out;
}

describe('table option trace: false', () => {
  it("gives the same 'summary' records as with the trace, also under eviction", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-trace-'));
    try {
      const file = path.join(dir, 'synth.pcap');
      synthesize({ ...DEFAULT_SYNTH, out: file, connections: 2000, duration: 30, seed: 11 });
      for (const maxConnections of [100_000, 150]) {
        const base: AnalyzerOptions = { ...DEFAULT_ANALYZER_OPTIONS, detail: 'summary', table: { ...DEFAULT_ANALYZER_OPTIONS.table, maxConnections } };
        const traced = await records(file, base);
        const untraced = await records(file, { ...base, table: { ...base.table, trace: false } });
        assert.equal(traced.length, 2000);
        assert.deepEqual(untraced, traced);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps no ladder and no state changes (a full record of it has neither)', () => {
    const got: ConnectionRecord[] = [];
    const t = new ConnectionTable({ ...DEFAULT_TABLE_OPTIONS, trace: false }, (c) => {
      got.push(buildRecord(c, DEFAULT_CLASSIFIER_OPTIONS, { captureEnd: 200, reason: 'end-of-capture' }, 'full'));
    });
    const s = newTcpSegment();
    t.onSegment(seg(s, 40001, TCP_SYN, 100, 1));
    t.onSegment(seg(s, 40001, TCP_SYN | TCP_ACK, 100.1, 2, true));
    t.flush();
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]!.ladder, []);
    assert.deepEqual(got[0]!.endpoints.client.states, []);
    assert.equal(got[0]!.packets.client + got[0]!.packets.server, 2);
  });
});

describe('finished connections leave after their grace period, whatever the clock does', () => {
  it('a connection ended by its first segment (a lone RST) is emitted after the grace period, not at the end', () => {
    const emitted: [number, EmitReason, number][] = [];
    const t = new ConnectionTable({ ...DEFAULT_TABLE_OPTIONS, graceSeconds: 2 }, (c, reason, now) => void emitted.push([c.clientPort, reason, now]));
    const s = newTcpSegment();
    // Backscatter: a RST for a connection the capture never saw.
    t.onSegment(seg(s, 40001, TCP_RST | TCP_ACK, 100, 1, true));
    assert.equal(t.lastConnection?.finished, true, 'a lone RST ends its connection');
    // Other traffic for the next minute.
    for (let i = 1; i <= 60; i++) t.onSegment(seg(s, 41000 + i, TCP_SYN, 100 + i, 1 + i));
    const rst = emitted.find(([port]) => port === 40001);
    assert.ok(rst !== undefined, 'emitted while the capture went on');
    assert.equal(rst[1], 'finished');
    assert.ok(rst[2] >= 102 && rst[2] <= 104, `emitted at ${rst[2]}`);
  });

  it('one frame stamped far in the future does not put off the sweeps of the frames after it', () => {
    const emitted: [number, EmitReason, number][] = [];
    const t = new ConnectionTable({ ...DEFAULT_TABLE_OPTIONS, graceSeconds: 2 }, (c, reason, now) => void emitted.push([c.clientPort, reason, now]));
    const s = newTcpSegment();
    // A lone RST stamped 2100 (a broken clock), then the real times: a refused connection at 100 and traffic.
    t.onSegment(seg(s, 40000, TCP_RST | TCP_ACK, 4_102_444_800, 1, true));
    t.onSegment(seg(s, 40001, TCP_SYN, 100, 2));
    t.onSegment(seg(s, 40001, TCP_RST | TCP_ACK, 100.001, 3, true));
    for (let i = 1; i <= 60; i++) t.onSegment(seg(s, 41000 + i, TCP_SYN, 100 + i, 3 + i));
    const refused = emitted.find(([port]) => port === 40001);
    assert.ok(refused !== undefined, 'the refused connection is emitted while the capture goes on');
    assert.ok(refused[2] >= 102 && refused[2] <= 104, `emitted at ${refused[2]}`);
    // The far-future one waits (its grace period is not over in capture time) and goes at the end.
    assert.equal(emitted.find(([port]) => port === 40000), undefined);
    t.flush();
    assert.ok(emitted.some(([port]) => port === 40000));
  });
});
