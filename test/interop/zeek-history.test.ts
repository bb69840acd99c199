/**
 * Zeek's history rules and conn_state on hand-built conversations, for what the corpus of Zeek's traces does not
 * show (S2, zero windows, the logarithmic letters, multi-flag packets). Each expectation follows from the rule
 * documented in Zeek's scripts/base/protocols/conn/main.zeek and the packets the test writes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HISTORY_LETTERS } from '../../src/conn/zeek-history.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/decode/segment.js';
import { Conversation } from '../helpers/conversation.js';

function established(): Conversation {
  const c = new Conversation();
  c.handshake();
  return c;
}

describe('Zeek history letters', () => {
  it('a normal exchange: ShADadFf, SF', () => {
    const c = established();
    c.data('c', 100);
    c.ack('s');
    c.data('s', 200);
    c.ack('c');
    c.fin('c');
    c.fin('s');
    c.ack('c');
    const r = c.one();
    assert.equal(r.zeekHistory, 'ShADadFf');
    assert.equal(r.zeekConnState, 'SF');
  });

  it('a retransmitted SYN or FIN with the same sequence number adds no letter', () => {
    const c = new Conversation();
    c.syn();
    c.synAgain();
    c.synAck();
    c.ack('c');
    c.fin('c');
    c.send('c', TCP_FIN | TCP_ACK, { seq: 1_000_001, noAdvance: true });
    c.fin('s');
    c.ack('c');
    assert.equal(c.one().zeekHistory!, 'ShAFf');
  });

  it('retransmissions are logarithmic: the 1st and the 10th add a T, the 9th does not', () => {
    const nine = established();
    nine.data('c', 100);
    for (let i = 0; i < 9; i++) nine.retransmit('c');
    assert.equal(nine.one({ captureEnd: 1_700_000_100 }).zeekHistory!.replace(/[^Tt]/g, ''), 'T');
    const ten = established();
    ten.data('c', 100);
    for (let i = 0; i < 10; i++) ten.retransmit('c');
    assert.equal(ten.one({ captureEnd: 1_700_000_100 }).zeekHistory!.replace(/[^Tt]/g, ''), 'TT');
  });

  it('a zero window is w (responder) and counts logarithmically, but not after the peer’s FIN', () => {
    const c = established();
    c.data('c', 100);
    for (let i = 0; i < 10; i++) c.ack('s', { window: 0 });
    assert.equal(c.one({ captureEnd: 1_700_000_100 }).zeekHistory!.replace(/[^Ww]/g, ''), 'ww');
    const after = established();
    after.fin('c');
    after.ack('s', { window: 0 });
    assert.equal(after.one({ captureEnd: 1_700_000_100 }).zeekHistory!.replace(/[^Ww]/g, ''), '');
  });

  it('FIN and RST together is I; SYN and FIN together is Q', () => {
    const c = established();
    c.send('c', TCP_FIN | TCP_RST | TCP_ACK);
    assert.match(c.one().zeekHistory!, /I/);
    const q = new Conversation();
    q.send('c', TCP_SYN | TCP_FIN);
    assert.equal(q.one({ captureEnd: 1_700_000_100 }).zeekHistory, 'Q');
  });

  it('a connection first seen from the server starts with ^ and keeps the client as originator', () => {
    const c = new Conversation();
    c.synAck();
    c.ack('c');
    c.data('c', 10);
    c.fin('s');
    c.fin('c');
    c.ack('s');
    const r = c.one();
    assert.equal(r.client.port, 40000);
    assert.equal(r.zeekHistory, '^hADfFa');
    assert.equal(r.zeekConnState, 'SF');
  });

  it('a bad checksum adds no c: we keep the packet, as zeek -C does', () => {
    const c = established();
    c.data('c', 10);
    c.segments[c.segments.length - 1]!.checksumOk = 0;
    c.fin('c');
    c.fin('s');
    c.ack('c');
    assert.equal(c.one().zeekHistory!, 'ShADFf');
  });

  it(`keeps at most ${MAX_HISTORY_LETTERS} letters`, () => {
    const c = established();
    // Every RST with a new sequence number is a letter of its own.
    for (let i = 0; i < MAX_HISTORY_LETTERS + 10; i++) c.send('c', TCP_RST, { seq: 2_000_000 + i * 1000 });
    assert.equal(c.one().zeekHistory!.length, MAX_HISTORY_LETTERS);
  });
});

describe('Zeek conn_state', () => {
  it('S0: a SYN, no reply', () => {
    const c = new Conversation();
    c.syn();
    assert.equal(c.one({ captureEnd: 1_700_000_100 }).zeekConnState, 'S0');
  });

  it('REJ: the SYN answered by a RST', () => {
    const c = new Conversation();
    c.syn();
    c.send('s', TCP_RST | TCP_ACK);
    assert.equal(c.one().zeekConnState, 'REJ');
  });

  it('S1: established, never closed', () => {
    const c = established();
    c.data('c', 10);
    c.ack('s');
    assert.equal(c.one({ captureEnd: 1_700_000_100 }).zeekConnState, 'S1');
  });

  it('S2: established, the originator closed, no answer', () => {
    const c = established();
    c.fin('c');
    assert.equal(c.one({ captureEnd: 1_700_000_100 }).zeekConnState, 'S2');
  });

  it('S3: established, the responder closed, no answer', () => {
    const c = established();
    c.fin('s');
    c.ack('c');
    assert.equal(c.one({ captureEnd: 1_700_000_100 }).zeekConnState, 'S3');
  });

  it('RSTO and RSTR: who reset an established connection', () => {
    const o = established();
    o.rstAck('c');
    assert.equal(o.one().zeekConnState, 'RSTO');
    const r = established();
    r.rstAck('s');
    assert.equal(r.one().zeekConnState, 'RSTR');
  });

  it('SF even when a RST follows both FINs (the orphan-timeout RST Zeek cannot tell apart)', () => {
    const c = established();
    c.fin('s');
    c.ack('c');
    c.fin('c');
    c.bareRst('s');
    const r = c.one();
    assert.equal(r.zeekConnState, 'SF');
    assert.equal(r.zeekHistory, 'ShAfFr');
  });

  it('OTH: midstream traffic only', () => {
    const c = new Conversation();
    c.send('c', TCP_ACK | 0x08, { len: 10, seq: 7_000_000, ack: 9_000_000 });
    c.send('s', TCP_ACK, { seq: 9_000_000, ack: 7_000_010 });
    assert.equal(c.one({ captureEnd: 1_700_000_100 }).zeekConnState, 'OTH');
  });

  it('sequence-space sizes leave out the SYN and FIN octets', () => {
    const c = established();
    c.data('c', 100);
    c.data('s', 250);
    c.fin('c');
    c.fin('s');
    c.ack('c');
    const r = c.one();
    assert.equal(r.zeekConn!.origBytes, 100);
    assert.equal(r.zeekConn!.respBytes, 250);
    assert.equal(r.zeekConn!.missedBytes, 0);
  });

  it('bytes acknowledged but never seen are missed bytes and a g', () => {
    const c = established();
    c.data('s', 100);
    // 300 bytes the capture missed, then the client acknowledges them.
    c.send('s', TCP_ACK | 0x08, { len: 300, noAdvance: false });
    c.segments.pop();
    c.ack('c');
    c.fin('s');
    c.fin('c');
    c.ack('s');
    const r = c.one();
    assert.equal(r.zeekConn!.missedBytes, 300);
    assert.match(r.zeekHistory!, /g/);
    assert.equal(r.zeekConn!.respBytes, 400);
  });
});
