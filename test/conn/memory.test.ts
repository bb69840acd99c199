/**
 * Memory per open connection, counted where it now lives: the JS heap (the connection objects) and array
 * buffers (each connection's fields and ladder trace, the tuple index). Measured: about 2.7 KB with the ladder
 * trace and 2.0 KB without (it was 4.2 KB, all on the heap); the bounds leave room for the collector's timing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS } from '../../src/conn/connection-table.js';
import { newTcpSegment, TCP_ACK, TCP_SYN, type TcpSegment } from '../../src/decode/segment.js';
import { forceGc } from '../fuzz/harness.js';

const N = 30_000;

function seg(s: TcpSegment, i: number, flags: number, fromServer: boolean, t: number, frame: number): TcpSegment {
  // Client 192.0.2.1, ports 1024 + i % 60000, on 198.51.100.x (x = i / 60000), server port 443.
  const client = 0xc0000201;
  const server = (0xc6336400 + Math.floor(i / 60_000)) >>> 0;
  const cport = 1024 + (i % 60_000);
  s.ipVersion = 4;
  s.srcAddr[0] = fromServer ? server : client;
  s.dstAddr[0] = fromServer ? client : server;
  s.srcPort = fromServer ? 443 : cport;
  s.dstPort = fromServer ? cport : 443;
  s.flags = flags;
  s.seq = fromServer ? 0x9000_0000 + i : 0x1000_0000 + i;
  s.ack = fromServer ? 0x1000_0001 + i : flags === TCP_SYN ? 0 : 0x9000_0001 + i;
  s.window = 65535;
  s.payloadLen = 0;
  s.tsSec = t;
  s.tsNs = 0;
  s.frame = frame;
  return s;
}

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Bytes per connection held open by a table (a three-way handshake each, nothing closes). */
function perConnection(trace: boolean, gc: () => void): number {
  gc();
  const before = memory();
  const table = new ConnectionTable({ ...DEFAULT_TABLE_OPTIONS, zeek: false, trace }, () => undefined);
  const s = newTcpSegment();
  let frame = 0;
  for (let i = 0; i < N; i++) {
    const t = 1000 + i * 0.001;
    table.onSegment(seg(s, i, TCP_SYN, false, t, ++frame));
    table.onSegment(seg(s, i, TCP_SYN | TCP_ACK, true, t, ++frame));
    table.onSegment(seg(s, i, TCP_ACK, false, t, ++frame));
  }
  gc();
  const bytes = (memory() - before) / N;
  assert.equal(table.size, N);
  return bytes;
}

describe('memory per open connection', () => {
  const gc = forceGc();
  it('stays under 3 KiB with the ladder trace and under 2.25 KiB without', { skip: gc === null ? 'no way to force a collection here' : false }, () => {
    const traced = perConnection(true, gc!);
    const untraced = perConnection(false, gc!);
    assert.ok(traced < 3072, `${traced.toFixed(0)} bytes a connection with the trace`);
    assert.ok(untraced < 2304, `${untraced.toFixed(0)} bytes a connection without it`);
    assert.ok(untraced < traced, 'leaving the trace out saves memory');
  });
});
