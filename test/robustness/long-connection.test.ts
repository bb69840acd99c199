/**
 * Long connections: one connection of 100 k packets whose sequence numbers wrap around 2^32 in the middle of the
 * transfer (through the whole pipeline: pcap, reader, decoder, table, classifier), and transfers larger than the
 * whole 4 GiB sequence space (segments fed to the connection table). One record each, the exact byte count,
 * a bounded ladder, and memory that does not grow with the number of packets.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as v8 from 'node:v8';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { buildRecord } from '../../src/classify/build-record.js';
import { DEFAULT_CLASSIFIER_OPTIONS } from '../../src/classify/classifier.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS } from '../../src/conn/connection-table.js';
import { newTcpSegment, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/decode/segment.js';
import { Conversation } from '../helpers/conversation.js';
import { forceGc, MAX_LADDER } from '../fuzz/harness.js';
import { analyzeSegments, ip4, streamPcap, TcpFrameTemplate } from '../fuzz/capture-build.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-long-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const MSS = 1448;

describe('long connections', () => {
  it('100 k packets, sequence numbers wrapping past 2^32 mid-transfer: one record, exact bytes, bounded ladder and heap', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'long.pcap');
    const client = ip4('192.0.2.1');
    const server = ip4('198.51.100.2');
    const cIsn = 0x1234_5678;
    // 64 MiB before the wrap: the transfer below (about 96 MB) crosses 2^32 two thirds of the way.
    const sIsn = 0xfc00_0000;
    const dataSegs = 66_666;
    const data = new TcpFrameTemplate(MSS);
    const ctl = new TcpFrameTemplate(0);
    let packets = 0;
    streamPcap(file, (emit) => {
      let us = 0;
      const put = (f: Buffer) => {
        us += 20;
        packets++;
        emit(1_700_000_000 + Math.floor(us / 1e6), (us % 1e6) * 1000, f);
      };
      put(ctl.set(client, server, 40000, 443, cIsn, 0, TCP_SYN));
      put(ctl.set(server, client, 443, 40000, sIsn, cIsn + 1, TCP_SYN | TCP_ACK));
      put(ctl.set(client, server, 40000, 443, cIsn + 1, sIsn + 1, TCP_ACK));
      for (let k = 0; k < dataSegs; k++) {
        put(data.set(server, client, 443, 40000, sIsn + 1 + k * MSS, cIsn + 1, TCP_PSH | TCP_ACK));
        if (k % 2 === 1) put(ctl.set(client, server, 40000, 443, cIsn + 1, sIsn + 1 + (k + 1) * MSS, TCP_ACK));
      }
      const end = sIsn + 1 + dataSegs * MSS;
      put(ctl.set(server, client, 443, 40000, end, cIsn + 1, TCP_FIN | TCP_ACK));
      put(ctl.set(client, server, 40000, 443, cIsn + 1, end + 1, TCP_ACK));
      put(ctl.set(client, server, 40000, 443, cIsn + 1, end + 1, TCP_FIN | TCP_ACK));
      put(ctl.set(server, client, 443, 40000, end + 1, cIsn + 2, TCP_ACK));
    });
    assert.ok(packets >= 100_000, `${packets} packets`);
    assert.ok(((sIsn + 1 + dataSegs * MSS) >>> 0) < sIsn, 'the transfer wraps the server sequence space');

    const gc = forceGc();
    const heap = () => v8.getHeapStatistics().used_heap_size;
    const live: number[] = [];
    let chunks = 0;
    const records: ConnectionRecord[] = [];
    gc?.();
    const base = heap();
    const res = await analyzeCaptures([file], DEFAULT_ANALYZER_OPTIONS, {
      onRecord: (r) => void records.push(r),
      onProgress: () => {
        if (++chunks % 10 === 0) {
          gc?.();
          live.push(heap() - base);
        }
      },
    });
    assert.deepEqual(res.errors, []);
    assert.equal(res.summary.tcpSegments, packets);
    assert.equal(records.length, 1);
    const r = records[0]!;
    assert.equal(r.ending, 'graceful-fin');
    assert.equal(r.closer, 'server');
    // Server: SYN-ACK, the data, its FIN and the last ACK; the client everything else.
    assert.deepEqual(r.packets, { client: packets - dataSegs - 3, server: dataSegs + 3 });
    assert.deepEqual(r.bytes, { client: 0, server: dataSegs * MSS });
    assert.equal(r.endpoints.server.retransmissions, 0);
    assert.ok(r.ladder.length <= MAX_LADDER, `${r.ladder.length} ladder packets`);
    // The connection's state is the same size after 10 k packets as after 100 k: no per-packet growth.
    assert.ok(live.length >= 3, `${live.length} heap samples`);
    const growth = Math.max(...live) - live[0]!;
    assert.ok(growth < 8 * 2 ** 20, `live heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB over the connection (samples ${live.map((x) => (x / 2 ** 20).toFixed(1)).join(', ')} MiB)`);
  });

  it('a 5 GiB transfer (the sequence space wraps more than once) fed to the connection table: exact bytes', () => {
    const seg = newTcpSegment();
    const records: ConnectionRecord[] = [];
    const table = new ConnectionTable(DEFAULT_TABLE_OPTIONS, (conn, reason, now) => records.push(buildRecord(conn, DEFAULT_CLASSIFIER_OPTIONS, { captureEnd: now, reason })));
    let frame = 0;
    let us = 0;
    const send = (fromServer: boolean, seq: number, ack: number, flags: number, len: number) => {
      us += 10;
      seg.frame = ++frame;
      seg.tsSec = 1_700_000_000 + Math.floor(us / 1e6);
      seg.tsNs = (us % 1e6) * 1000;
      seg.srcAddr[0] = fromServer ? 0xc6336402 : 0xc0000201;
      seg.dstAddr[0] = fromServer ? 0xc0000201 : 0xc6336402;
      seg.srcPort = fromServer ? 443 : 40000;
      seg.dstPort = fromServer ? 40000 : 443;
      seg.seq = seq >>> 0;
      seg.ack = ack >>> 0;
      seg.flags = flags;
      seg.payloadLen = len;
      seg.payloadCaptured = len;
      seg.window = 65535;
      table.onSegment(seg);
    };
    const cIsn = 7;
    const sIsn = 0xffff_0000;
    // GRO/TSO-sized segments of 64 KiB, as a capture on the receiving host shows them.
    const seg64k = 65_536;
    const count = (5 * 2 ** 30) / seg64k;
    send(false, cIsn, 0, TCP_SYN, 0);
    send(true, sIsn, cIsn + 1, TCP_SYN | TCP_ACK, 0);
    send(false, cIsn + 1, sIsn + 1, TCP_ACK, 0);
    for (let k = 0; k < count; k++) {
      send(true, sIsn + 1 + k * seg64k, cIsn + 1, TCP_PSH | TCP_ACK, seg64k);
      send(false, cIsn + 1, sIsn + 1 + (k + 1) * seg64k, TCP_ACK, 0);
    }
    table.flush();
    assert.equal(records.length, 1);
    assert.equal(records[0]!.bytes.server, 5 * 2 ** 30);
    assert.equal(records[0]!.endpoints.server.retransmissions, 0);
    assert.equal(records[0]!.packets.server, count + 1);
  });

  it('a retransmission right across the wrap point is not counted twice', async () => {
    const cv = new Conversation({ clientIsn: 1000, serverIsn: 0xffff_ffff - 3000 });
    cv.handshake();
    cv.data('c', 10);
    cv.data('s', 1448);
    cv.data('s', 1448); // ends 2^32 - 3000 + 1 + 2896: before the wrap
    cv.data('s', 1448); // crosses 2^32
    cv.retransmit('s');
    cv.data('s', 1448);
    cv.ack('c');
    cv.fin('s');
    cv.ack('c');
    cv.fin('c');
    cv.ack('s');
    const { records } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.bytes.server, 4 * 1448);
    assert.equal(records[0]!.endpoints.server.retransmissions, 1);
    assert.equal(records[0]!.ending, 'graceful-fin');
  });
});
