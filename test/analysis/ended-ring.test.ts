import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { TableFollower } from '../../src/analysis/analyzer.js';
import { EndedRingReader, EndedRingWriter, newEndedRing } from '../../src/analysis/ended-ring.js';
import { COUNTER_MASK } from '../../src/analysis/ring-head.js';
import { MAX_TUNNEL_NAME } from '../../src/analysis/segment-ring.js';
import { recordOf } from '../../src/classify/build-record.js';
import { classify, DEFAULT_CLASSIFIER_OPTIONS } from '../../src/classify/classifier.js';
import { DEFAULT_TABLE_OPTIONS, type EmitReason } from '../../src/conn/connection-table.js';
import { CONNECTION_BUFFER_WORDS, CONNECTION_STATE_WORDS, Connection } from '../../src/conn/connection.js';
import { EndpointTrack } from '../../src/conn/endpoint.js';
import { eachPacket } from '../helpers/each-packet.js';
import { SAMPLES } from '../helpers/paths.js';

/** Fields that are not state: the buffer and its views, the table's links to the connection. */
const NOT_STATE = new Set(['buffer', 'client', 'server', 'words', 'addrWord', 'clientAddrView', 'serverAddrView', 'all', 'cw', 'trace', 'slot', 'hash', 'inFinishedQueue', 'generation']);

/** Every own field of `c` that is state, by name. */
function stateOf(c: Connection): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (!NOT_STATE.has(k)) out[k] = v;
  out.clientWords = [...c.client.f];
  out.serverWords = [...c.server.f];
  out.clientAddr = [...c.clientAddr];
  out.serverAddr = [...c.serverAddr];
  for (const k of ['lastTime', 'lastSec', 'lastFrame', 'firstTime', 'firstSec', 'firstFrame', 'finishedTime'] as const) out[k] = c[k];
  return out;
}

interface Ended {
  conn: Connection;
  reason: EmitReason;
  captureEnd: number;
}

/** Every connection of a capture as its table emits it, each kept as a copy made through saveState/loadState. */
async function endedConnections(file: string, check: (e: Ended) => void): Promise<number> {
  let n = 0;
  const f = new TableFollower({ ...DEFAULT_TABLE_OPTIONS, trace: false, zeek: false }, (conn, reason, captureEnd) => {
    n++;
    check({ conn, reason, captureEnd });
  });
  await eachPacket(file, (p) => f.ingest(p));
  f.finish();
  return n;
}

describe('a connection saved and loaded (Connection.saveState, loadState)', () => {
  it('is the same connection: every field, both ends, the addresses, the verdict and the record, on every lab sample', async () => {
    const samples = fs.readdirSync(SAMPLES).filter((f) => /\.pcap(ng)?$/.test(f));
    assert.ok(samples.length >= 10);
    // Saved twice, over memory filled with zero bytes and with 0xff bytes: a byte saveState did not write would
    // differ between the two, and so would one written outside its words.
    const a = new Float64Array(CONNECTION_STATE_WORDS + 8);
    const b = new Float64Array(CONNECTION_STATE_WORDS + 8);
    const aBytes = new Uint8Array(a.buffer);
    const bBytes = new Uint8Array(b.buffer);
    const f64 = a;
    const buffer = new Float64Array(a.buffer, 4 * 8, CONNECTION_BUFFER_WORDS);
    const copy = new Connection(false);
    let total = 0;
    for (const s of samples) {
      total += await endedConnections(path.join(SAMPLES, s), ({ conn, reason, captureEnd }) => {
        aBytes.fill(0);
        bBytes.fill(0xff);
        conn.saveState(a, 4);
        conn.saveState(b, 4);
        const state = [32, 32 + CONNECTION_STATE_WORDS * 8];
        assert.deepEqual(aBytes.subarray(state[0], state[1]), bBytes.subarray(state[0], state[1]), 'every byte of the state written');
        assert.ok(aBytes.subarray(0, state[0]).every((x) => x === 0) && bBytes.subarray(0, state[0]).every((x) => x === 0xff), 'nothing written before');
        assert.ok(aBytes.subarray(state[1]).every((x) => x === 0) && bBytes.subarray(state[1]).every((x) => x === 0xff), 'nothing written after');
        copy.loadState(buffer, f64, 4);
        copy.tunnel = conn.tunnel;
        assert.deepEqual(stateOf(copy), stateOf(conn), `${s}: connection ${conn.id}`);
        const ctx = { captureEnd, reason };
        const v1 = classify(conn, DEFAULT_CLASSIFIER_OPTIONS, ctx);
        const v2 = classify(copy, DEFAULT_CLASSIFIER_OPTIONS, ctx);
        assert.deepEqual(v2, v1);
        assert.deepEqual(recordOf(copy, v2, 'summary'), recordOf(conn, v1, 'summary'));
      });
    }
    assert.ok(total >= 20, `${total} connections`);
  });

  it('carries both ends whole: an end keeps nothing outside its words but its state log (empty without a trace)', () => {
    // saveState copies the ends' words; a field added to EndpointTrack would not travel, and this fails first.
    assert.deepEqual(Object.keys(new EndpointTrack()).sort(), ['extraStates', 'f', 'logged']);
    const c = new Connection(false);
    assert.equal(c.client.states().length, 0);
  });

  it('is refused for a connection that keeps a ladder trace', () => {
    assert.throws(() => new Connection(true).saveState(new Float64Array(CONNECTION_STATE_WORDS), 0), /traced/);
    const f64 = new Float64Array(CONNECTION_STATE_WORDS);
    assert.throws(() => new Connection(true).loadState(f64.subarray(0, CONNECTION_BUFFER_WORDS), f64, 0), /traced/);
  });
});

/** A connection told apart by its first frame, with an encapsulation name and some state. */
function made(i: number, tunnel: string): Connection {
  const c = new Connection(false);
  c.firstFrame = i;
  c.id = i;
  c.tunnel = tunnel;
  c.closer = i % 3 === 0 ? null : i % 3 === 1 ? 'client' : 'server';
  c.client.packets = i * 2;
  c.server.finTime = i + 0.5;
  c.clientPort = 1024 + i;
  c.serverAddr[0] = 0xc0000200 + (i & 0xff);
  // With the word before it, a NaN when read as a double (0xfff8…: the bits must survive the trip as they are).
  c.serverAddr[1] = (0xfff80000 | i) >>> 0;
  return c;
}

const REASONS: EmitReason[] = ['finished', 'evicted', 'superseded', 'end-of-capture'];

describe('the ring of ended connections', () => {
  it('carries each connection, why it left and its capture end, across the counters wrapping', () => {
    const sab = newEndedRing(16, COUNTER_MASK - 20);
    const w = new EndedRingWriter(sab, () => assert.fail('the writer never waits here'));
    const r = new EndedRingReader(sab);
    const long = 'gre:'.repeat(100);
    const tunnels = ['', 'vxlan:192.0.2.9>198.51.100.9', long];
    const got: string[] = [];
    let next = 0;
    for (let i = 1; i <= 100; i++) {
      w.connection(made(i, tunnels[i % 3]!), REASONS[i % 4]!, 1000 + i / 8);
      // The reader takes the records now and then, never letting the ring fill. They are published in batches:
      // ten are not seen until the writer publishes them (as a worker does before it waits for segments).
      if (i % 10 === 0) {
        assert.equal(r.drain(() => assert.fail('not published yet')), 0);
        w.publish();
        r.drain((c, reason, end) => {
          next++;
          assert.equal(c.firstFrame, next);
          assert.equal(c.client.packets, next * 2);
          assert.equal(c.server.finTime, next + 0.5);
          assert.equal(c.clientPort, 1024 + next);
          assert.equal(c.serverAddr[0], 0xc0000200 + next);
          assert.equal(c.serverAddr[1], (0xfff80000 | next) >>> 0);
          assert.equal(c.closer, next % 3 === 0 ? null : next % 3 === 1 ? 'client' : 'server');
          assert.equal(reason, REASONS[next % 4]);
          assert.equal(end, 1000 + next / 8);
          got.push(c.tunnel);
        });
      }
    }
    assert.equal(next, 100);
    // Connection i had tunnels[i % 3].
    assert.equal(got[1], long.slice(0, MAX_TUNNEL_NAME), 'a name longer than the limit is cut there');
    assert.equal(got[0], tunnels[1]);
    assert.equal(got[2], '');
    assert.equal(r.ended, false);
    w.end();
    assert.equal(r.drain(() => assert.fail('no connection after the end')), 1);
    assert.equal(r.ended, true);
  });

  it('a writer finding the ring full says so (beforeWait), waits, and is woken as the reader takes records', async () => {
    const sab = newEndedRing(16);
    const control = new SharedArrayBuffer(4);
    // The writer blocks (Atomics.wait): it runs in a thread of its own, as in a parallel run.
    const code = `
      const { workerData } = require('node:worker_threads');
      const { EndedRingWriter } = require(${JSON.stringify(require.resolve('../../src/analysis/ended-ring.js'))});
      const { Connection } = require(${JSON.stringify(require.resolve('../../src/conn/connection.js'))});
      const waits = new Int32Array(workerData.control);
      const w = new EndedRingWriter(workerData.sab, () => Atomics.add(waits, 0, 1));
      const c = new Connection(false);
      for (let i = 1; i <= 200; i++) { c.firstFrame = i; w.connection(c, 'finished', i); }
      w.end();
    `;
    const worker = new Worker(code, { eval: true, workerData: { sab, control } });
    let failure: Error | null = null;
    worker.on('error', (err) => (failure = err));
    const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
    const r = new EndedRingReader(sab);
    const frames: number[] = [];
    const t0 = Date.now();
    while (!r.ended && Date.now() - t0 < 20_000) {
      r.drain((c) => frames.push(c.firstFrame));
      await r.waitForRecords(1000);
    }
    assert.equal(failure, null);
    assert.equal(await exited, 0);
    assert.deepEqual(frames, Array.from({ length: 200 }, (_, i) => i + 1));
    assert.ok(Atomics.load(new Int32Array(control), 0) > 0, 'the writer found the ring full at least once');
  });
});
