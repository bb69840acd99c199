/**
 * The connection table's tombstones: packets of a connection already emitted or evicted count against it
 * (latePackets, packetsOfEvicted) instead of opening a connection of their own; a SYN opening the tuple anew
 * starts its next incarnation; the ring keeps the newest maxTombstones, and 0 keeps none.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS, type ConnectionTableOptions, type EmitReason } from '../../src/conn/connection-table.js';
import { tableSegment } from '../helpers/table-segment.js';
import { newTcpSegment, TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../../src/decode/segment.js';

const GRACE = 2;

interface Emitted {
  port: number;
  reason: EmitReason;
  incarnation: number;
  isn: number;
}

/** A segment between client port `cport` and the server's port 80 at `t` seconds; the client's ISN is `isn`. */
function seg(s: TcpSegment, cport: number, flags: number, t: number, isn: number, fromServer = false): TcpSegment {
  return tableSegment(s, { cport, flags, t, fromServer, seq: fromServer ? 0 : isn, ack: fromServer ? (isn + 1) >>> 0 : 0 });
}

function table(opts: Partial<ConnectionTableOptions>, out: Emitted[]): ConnectionTable {
  return new ConnectionTable({ ...DEFAULT_TABLE_OPTIONS, graceSeconds: GRACE, ...opts }, (c, reason) => {
    out.push({ port: c.clientPort, reason, incarnation: c.incarnation, isn: c.client.isn });
  });
}

/**
 * A refused connection on `cport` at `t` (SYN, RST-ACK), emitted once its grace period is over: a SYN on
 * another port (`sweeper`) after it moves capture time on and sweeps.
 */
function refusedAndEmitted(tb: ConnectionTable, s: TcpSegment, cport: number, t: number, isn: number): void {
  tb.onSegment(seg(s, cport, TCP_SYN, t, isn));
  tb.onSegment(seg(s, cport, TCP_RST | TCP_ACK, t + 0.001, isn, true));
}

/** Moves capture time to `t` with a packet on a port of its own (it opens that connection), sweeping. */
function sweepAt(tb: ConnectionTable, s: TcpSegment, t: number, port: number): void {
  tb.onSegment(seg(s, port, TCP_SYN, t, 7));
}

describe('connection table tombstones', () => {
  it('a straggler after emission counts as a late packet and opens nothing', () => {
    const out: Emitted[] = [];
    const tb = table({}, out);
    const s = newTcpSegment();
    refusedAndEmitted(tb, s, 40001, 100, 1000);
    sweepAt(tb, s, 100 + GRACE + 1, 50000);
    assert.deepEqual(out.map((e) => [e.port, e.reason]), [[40001, 'finished']]);
    assert.equal(tb.size, 1);
    // The server's RST retransmitted, and the client's ACK: both late, from either side.
    tb.onSegment(seg(s, 40001, TCP_RST | TCP_ACK, 104, 1000, true));
    tb.onSegment(seg(s, 40001, TCP_ACK, 104.1, 1000));
    assert.equal(tb.latePackets, 2);
    assert.equal(tb.packetsOfEvicted, 0);
    assert.equal(tb.size, 1, 'no phantom connection');
    assert.equal(tb.lastConnection, null);
    // A SYN with the same ISN is a retransmission of the emitted connection's SYN: late too.
    tb.onSegment(seg(s, 40001, TCP_SYN, 104.2, 1000));
    assert.equal(tb.latePackets, 3);
    assert.equal(tb.size, 1);
  });

  it('a straggler after eviction counts against the evicted connection', () => {
    const out: Emitted[] = [];
    const tb = table({ maxConnections: 1 }, out);
    const s = newTcpSegment();
    tb.onSegment(seg(s, 40001, TCP_SYN, 100, 1000));
    tb.onSegment(seg(s, 40002, TCP_SYN, 100.1, 2000));
    assert.deepEqual(out.map((e) => [e.port, e.reason]), [[40001, 'evicted']]);
    tb.onSegment(seg(s, 40001, TCP_SYN | TCP_ACK, 100.2, 1000, true));
    tb.onSegment(seg(s, 40001, TCP_ACK, 100.3, 1000));
    assert.equal(tb.packetsOfEvicted, 2);
    assert.equal(tb.latePackets, 0);
    assert.equal(tb.size, 1);
    assert.equal(out.length, 1, 'nothing more evicted: the stragglers opened no connection');
  });

  it('a SYN with a new ISN opens the tuple anew as its next incarnation, and the tombstone gives way', () => {
    const out: Emitted[] = [];
    const tb = table({}, out);
    const s = newTcpSegment();
    refusedAndEmitted(tb, s, 40001, 100, 1000);
    sweepAt(tb, s, 104, 50000);
    tb.onSegment(seg(s, 40001, TCP_SYN, 105, 5000));
    assert.equal(tb.size, 2);
    assert.equal(tb.lastConnection?.incarnation, 2);
    assert.equal(tb.latePackets, 0);
    // Emitted in turn, its tombstone (not the first one's) now stands for the tuple.
    tb.onSegment(seg(s, 40001, TCP_RST | TCP_ACK, 105.001, 5000, true));
    sweepAt(tb, s, 109, 50001);
    assert.deepEqual(out.map((e) => [e.port, e.incarnation, e.isn]), [[40001, 1, 1000], [40001, 2, 5000]]);
    // The first incarnation's SYN again: not a retransmission of the second's, so a third incarnation.
    tb.onSegment(seg(s, 40001, TCP_SYN, 110, 1000));
    assert.equal(tb.lastConnection?.incarnation, 3);
    assert.equal(tb.latePackets, 0);
    // Still open, it holds the tuple: its packets go to it.
    tb.onSegment(seg(s, 40001, TCP_SYN | TCP_ACK, 110.1, 1000, true));
    assert.equal(tb.lastConnection?.incarnation, 3);
  });

  it('a SYN from the server side opens the reverse tuple anew', () => {
    const out: Emitted[] = [];
    const tb = table({}, out);
    const s = newTcpSegment();
    refusedAndEmitted(tb, s, 40001, 100, 1000);
    sweepAt(tb, s, 104, 50000);
    tb.onSegment(seg(s, 40001, TCP_SYN, 105, 1000, true));
    assert.equal(tb.latePackets, 0);
    assert.equal(tb.lastConnection?.incarnation, 2);
    assert.equal(tb.size, 2);
  });

  it('the ring keeps the newest maxTombstones: the oldest tuple is forgotten when it wraps', () => {
    const CAP = 3;
    const out: Emitted[] = [];
    const tb = table({ maxTombstones: CAP }, out);
    const s = newTcpSegment();
    // CAP + 1 connections emitted in order, one a second apart.
    for (let i = 0; i <= CAP; i++) refusedAndEmitted(tb, s, 40001 + i, 100 + i, 1000 + i);
    sweepAt(tb, s, 110, 50000);
    assert.equal(out.length, CAP + 1);
    // The newest CAP still have their tombstones.
    for (let i = 1; i <= CAP; i++) tb.onSegment(seg(s, 40001 + i, TCP_ACK, 111 + i * 0.01, 1000 + i));
    assert.equal(tb.latePackets, CAP);
    assert.equal(tb.size, 1);
    // The oldest's was dropped: its straggler opens a connection of its own, a first incarnation.
    tb.onSegment(seg(s, 40001, TCP_ACK, 112, 1000));
    assert.equal(tb.latePackets, CAP);
    assert.equal(tb.size, 2);
    assert.equal(tb.lastConnection?.incarnation, 1);
  });

  it('many more connections than tombstones: the last maxTombstones emitted are remembered, the others not', () => {
    const CAP = 1500; // beyond the ring's first size (1024): it doubles, then wraps
    const N = 4000;
    const out: Emitted[] = [];
    const tb = table({ maxTombstones: CAP }, out);
    const s = newTcpSegment();
    for (let i = 0; i < N; i++) refusedAndEmitted(tb, s, 10000 + i, 100 + i * 0.001, 1000 + i);
    sweepAt(tb, s, 200, 50000);
    assert.equal(out.length, N);
    for (let i = 0; i < N; i++) tb.onSegment(seg(s, 10000 + i, TCP_ACK, 201, 1000 + i));
    assert.equal(tb.latePackets, CAP);
    assert.equal(tb.size, 1 + (N - CAP));
  });

  it('maxTombstones 0 keeps none: a straggler opens a new connection', () => {
    const out: Emitted[] = [];
    const tb = table({ maxTombstones: 0 }, out);
    const s = newTcpSegment();
    refusedAndEmitted(tb, s, 40001, 100, 1000);
    sweepAt(tb, s, 104, 50000);
    tb.onSegment(seg(s, 40001, TCP_ACK, 104.1, 1000));
    assert.equal(tb.latePackets, 0);
    assert.equal(tb.size, 2);
    assert.equal(tb.lastConnection?.incarnation, 1);
  });
});
