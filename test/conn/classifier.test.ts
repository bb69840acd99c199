import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TcpSegment } from '../../src/decode/segment.js';
import { Conversation, runSegments } from '../helpers/conversation.js';

/** Concatenates several conversations' segments in time order with fresh run-wide frame numbers. */
function merge(...convs: Conversation[]): TcpSegment[] {
  const all = convs.flatMap((c) => c.segments);
  all.sort((a, b) => a.tsSec - b.tsSec || a.tsNs - b.tsNs);
  all.forEach((s, i) => (s.frame = i + 1));
  return all;
}

/** Request, response and the client's acknowledgement of it. */
function exchange(c: Conversation, req = 100, resp = 300): void {
  c.data('c', req);
  c.ack('s');
  c.data('s', resp);
  c.ack('c');
}

describe('graceful-fin', () => {
  it('server closes first, client follows: both FINs acknowledged', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    const sFin = c.fin('s');
    const cAck = c.ack('c');
    const cFin = c.fin('c');
    c.ack('s');
    const r = c.one();
    assert.equal(r.ending, 'graceful-fin');
    assert.equal(r.cause, null);
    assert.equal(r.closer, 'server');
    // The server closed first and took no data after its FIN: an orphan, its application sees nothing more.
    assert.deepEqual(r.appView, { client: 'EOF', server: 'none' });
    assert.ok(r.evidence.includes(sFin) && r.evidence.includes(cFin) && r.evidence.includes(cAck));
    assert.equal(r.confidence, 'high');
    assert.equal(r.handshake, 'complete');
    assert.equal(r.endpoints.server.state, 'TIME_WAIT');
    assert.equal(r.endpoints.client.state, 'CLOSED');
    assert.deepEqual(r.bytes, { client: 100, server: 300 });
  });

  it('crossed FINs are a simultaneous close, closer both', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    // The client's FIN is still in flight when the server sends its own: neither FIN acknowledges the other.
    c.fin('c', { lost: true });
    c.fin('s');
    c.ack('c');
    c.ack('s', { ack: 1_000_000 + 1 + 100 + 1 });
    const r = c.one();
    assert.equal(r.ending, 'graceful-fin');
    assert.equal(r.cause, 'simultaneous-close');
    assert.equal(r.closer, 'both');
    assert.equal(r.endpoints.client.state, 'TIME_WAIT');
    assert.equal(r.endpoints.server.state, 'TIME_WAIT');
    assert.ok(r.endpoints.client.states.some((s) => s.state === 'CLOSING'));
  });

  it('a retransmitted FIN and a FIN carrying data do not split or change the verdict', () => {
    const c = new Conversation();
    c.handshake();
    c.data('c', 50);
    c.ack('s');
    const s = c.segments.length;
    // FIN with data: 200 bytes and the FIN in one segment.
    c.send('s', 0x19, { len: 200 });
    c.wait(0.3);
    c.send('s', 0x19, { len: 200, seq: 5_000_001, noAdvance: true });
    c.ack('c');
    c.fin('c');
    c.ack('s');
    const r = c.one();
    assert.ok(c.segments.length > s);
    assert.equal(r.ending, 'graceful-fin');
    assert.equal(r.closer, 'server');
    assert.equal(r.bytes.server, 200);
    assert.equal(r.endpoints.server.retransmissions, 1);
    assert.ok(r.ladder.some((p) => p.note === 'retransmission' || p.note === 'FIN retransmission'));
  });

  it('sequence numbers wrapping past 2^32 are followed', () => {
    const c = new Conversation({ clientIsn: 0xffff_ff00, serverIsn: 0xffff_fff0 });
    c.handshake();
    exchange(c, 1000, 5000);
    c.fin('c');
    c.ack('s');
    c.fin('s');
    c.ack('c');
    const r = c.one();
    assert.equal(r.ending, 'graceful-fin');
    assert.deepEqual(r.bytes, { client: 1000, server: 5000 });
    assert.equal(r.endpoints.client.retransmissions + r.endpoints.server.retransmissions, 0);
    assert.equal(r.closer, 'client');
  });
});

describe('abortive-rst', () => {
  it('RST+ACK after the exchange, nothing unread: linger-abort; the peer sees ECONNRESET', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    const rst = c.rstAck('s');
    const r = c.one();
    assert.equal(r.ending, 'abortive-rst');
    assert.equal(r.cause, 'linger-abort');
    assert.equal(r.closer, 'server');
    assert.equal(r.appView.client, 'ECONNRESET');
    assert.ok(r.evidence.includes(rst));
  });

  it('RST+ACK from a server holding a request it never answered: unread-data', () => {
    const c = new Conversation();
    c.handshake();
    c.data('c', 4000);
    c.ack('s');
    c.rstAck('s');
    const r = c.one();
    assert.equal(r.ending, 'abortive-rst');
    assert.equal(r.cause, 'unread-data');
    assert.equal(r.rstReason, 'TCP_ABORT_ON_CLOSE');
    assert.equal(r.appView.client, 'ECONNRESET');
  });

  it('data written to an end that had closed draws a bare RST: data-after-close, EPIPE for the writer', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    c.fin('s');
    c.ack('c');
    c.wait(0.5);
    const write = c.data('c', 20);
    const rst = c.bareRst('s');
    const r = c.one();
    assert.equal(r.ending, 'abortive-rst');
    assert.equal(r.cause, 'data-after-close');
    assert.equal(r.closer, 'server');
    assert.equal(r.rstReason, 'TCP_TIMEWAIT_SOCKET');
    assert.equal(r.appView.client, 'EPIPE');
    assert.ok(r.evidence.includes(write) && r.evidence.includes(rst));
  });
});

describe('orphan-timeout-rst', () => {
  it('the late FIN of a CLOSE_WAIT end is answered by a socket-less RST', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    const sFin = c.fin('s');
    c.ack('c');
    c.wait(75);
    const cFin = c.fin('c');
    const rst = c.bareRst('s');
    const r = c.one();
    assert.equal(r.ending, 'orphan-timeout-rst');
    assert.equal(r.closer, 'server');
    assert.equal(r.rstReason, 'NO_SOCKET');
    assert.ok(r.closeWaitMs !== null && Math.abs(r.closeWaitMs - 75_000) < 100, `closeWaitMs ${r.closeWaitMs}`);
    assert.deepEqual([sFin, cFin, rst].every((f) => r.evidence.includes(f)), true);
    assert.equal(r.confidence, 'high');
    assert.equal(r.appView.server, 'none');
  });

  it('sooner than --fin-timeout it is still an orphan timeout, with lower confidence', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    c.fin('s');
    c.ack('c');
    c.wait(4);
    c.fin('c');
    c.bareRst('s');
    const r = c.one();
    assert.equal(r.ending, 'orphan-timeout-rst');
    assert.equal(r.confidence, 'medium');
    assert.ok(r.confidenceReasons.some((x) => x.includes('--fin-timeout')));
  });

  it('a data segment answered by RST long after the FIN is an orphan timeout, not data-after-close', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    c.fin('s');
    c.ack('c');
    c.wait(90);
    c.data('c', 10);
    c.bareRst('s');
    assert.equal(c.one().ending, 'orphan-timeout-rst');
    assert.equal(c.one({ finTimeoutS: 120 }).cause, 'data-after-close');
  });
});

describe('close-wait-stuck and half-closed', () => {
  it('a silent CLOSE_WAIT past the threshold to the end of the capture is stuck; keep-alives do not count as activity', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    const fin = c.fin('s');
    c.ack('c');
    c.wait(4);
    const ka = c.keepAlive('c');
    c.ack('s');
    c.wait(8);
    const r = c.one({ captureEnd: c.now });
    assert.equal(r.ending, 'close-wait-stuck');
    assert.equal(r.closer, 'server');
    assert.ok(r.closeWaitMs !== null && r.closeWaitMs > 11_000 && r.closeWaitMs < 13_000, `closeWaitMs ${r.closeWaitMs}`);
    assert.ok(r.evidence.includes(fin) && r.evidence.includes(ka));
    assert.deepEqual(r.appView, { client: 'EOF', server: 'none' });
    assert.equal(r.endpoints.client.state, 'CLOSE_WAIT');
    assert.equal(r.endpoints.server.state, 'FIN_WAIT_2');
  });

  it('the capture end decides: the same silence under the threshold is half-closed', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    c.fin('s');
    c.ack('c');
    c.wait(2);
    c.ack('c');
    assert.equal(c.one().ending, 'half-closed');
    assert.equal(c.one({ closeWaitThresholdS: 1 }).ending, 'close-wait-stuck');
    // A recorded capture end (pcapng isb_endtime) later than the last packet counts too.
    assert.equal(c.one({ captureEnd: 1_700_000_000 + 60 }).ending, 'close-wait-stuck');
  });

  it('a half-close where the other end keeps sending is half-closed', () => {
    const c = new Conversation();
    c.handshake();
    c.data('c', 100);
    c.fin('c');
    c.ack('s');
    for (let i = 0; i < 5; i++) {
      c.wait(2);
      c.data('s', 1000);
      c.ack('c');
    }
    const r = c.one();
    assert.equal(r.ending, 'half-closed');
    assert.equal(r.closer, 'client');
    assert.equal(r.appView.server, 'EOF');
    // When the server finally closes, the client, which took data after its own FIN, reads EOF too.
    c.fin('s');
    c.ack('c');
    const g = c.one();
    assert.equal(g.ending, 'graceful-fin');
    assert.deepEqual(g.appView, { client: 'EOF', server: 'EOF' });
  });
});

describe('lost-state-rst, refused, unanswered, peer-unresponsive, open', () => {
  it('a bare RST to an end that never closed: the other host lost the connection', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    c.wait(5);
    c.data('c', 10);
    const rst = c.bareRst('s');
    const r = c.one();
    assert.equal(r.ending, 'lost-state-rst');
    assert.equal(r.rstReason, 'NO_SOCKET');
    assert.equal(r.closer, 'server');
    assert.equal(r.appView.client, 'ECONNRESET');
    assert.ok(r.evidence.includes(rst));
  });

  it('the same packets with RST+ACK are an abort from a live socket', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    c.wait(5);
    c.data('c', 10);
    c.rstAck('s', { lost: true });
    assert.equal(c.one().ending, 'abortive-rst');
  });

  it('SYN answered by RST+ACK is refused', () => {
    const c = new Conversation();
    const syn = c.syn();
    const rst = c.rstAck('s', { seq: 0 });
    const r = c.one();
    assert.equal(r.ending, 'refused');
    assert.equal(r.closer, null);
    assert.equal(r.appView.client, 'ECONNREFUSED');
    assert.deepEqual(r.evidence, [syn, rst]);
    assert.equal(r.handshake, 'syn-only');
  });

  it('SYNs never answered: unanswered; ETIMEDOUT once the capture outlasts the backoff', () => {
    const c = new Conversation();
    c.syn();
    c.wait(1);
    c.synAgain();
    c.wait(2);
    c.synAgain();
    const still = c.one();
    assert.equal(still.ending, 'unanswered');
    assert.equal(still.appView.client, 'none');
    const late = c.one({ captureEnd: 1_700_000_000 + 20 });
    assert.equal(late.ending, 'unanswered');
    assert.equal(late.appView.client, 'ETIMEDOUT');
    assert.equal(late.closer, null);
  });

  it('data retransmitted without acknowledgement: peer-unresponsive', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    c.data('c', 100);
    let gap = 0.2;
    for (let i = 0; i < 5; i++) {
      c.wait(gap);
      c.retransmit('c');
      gap *= 2;
    }
    const r = c.one({ captureEnd: 1_700_000_000 + 60 });
    assert.equal(r.ending, 'peer-unresponsive');
    assert.equal(r.appView.client, 'ETIMEDOUT');
    assert.equal(r.endpoints.client.retransmissions, 5);
  });

  it('a RST after unanswered keep-alives is a keep-alive timeout', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    for (let i = 0; i < 3; i++) {
      c.wait(75);
      c.keepAlive('c');
    }
    c.wait(75);
    c.rstAck('c');
    const r = c.one();
    assert.equal(r.ending, 'peer-unresponsive');
    assert.equal(r.rstReason, 'TCP_KEEPALIVE_TIMEOUT');
    assert.equal(r.appView.client, 'ETIMEDOUT');
  });

  it('no FIN or RST: open; a long idle gap never splits the connection', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    c.wait(3600);
    exchange(c);
    const recs = c.run();
    assert.equal(recs.length, 1);
    assert.equal(recs[0]!.ending, 'open');
    assert.equal(recs[0]!.closer, null);
  });
});

describe('out-of-window RSTs, port reuse, midstream, eviction', () => {
  it('an out-of-window RST is counted and ignored', () => {
    const c = new Conversation();
    c.handshake();
    exchange(c);
    const forged = c.rstAck('s', { seq: 5_000_001 + 300 + 10_000_000 });
    c.fin('s');
    c.ack('c');
    c.fin('c');
    c.ack('s');
    const r = c.one();
    assert.equal(r.ending, 'graceful-fin');
    assert.ok(r.anomalies.some((a) => a.includes('out-of-window')));
    assert.equal(r.ladder.find((p) => p.frame === forged)?.note, 'out-of-window RST (ignored)');
  });

  it('a new SYN with a new ISN on a closed 4-tuple is a new incarnation; a retransmitted SYN is not', () => {
    const a = new Conversation({ clientIsn: 100 });
    a.handshake();
    exchange(a);
    a.fin('c');
    a.ack('s');
    a.fin('s');
    a.ack('c');
    const b = new Conversation({ clientIsn: 900_000, t0: 1_700_000_005 });
    b.syn();
    b.wait(1);
    b.synAgain();
    b.synAck();
    b.ack('c');
    b.rstAck('c');
    const recs = runSegments(merge(a, b));
    assert.equal(recs.length, 2);
    assert.deepEqual(recs.map((r) => r.incarnation), [1, 2]);
    assert.equal(recs[0]!.ending, 'graceful-fin');
    assert.equal(recs[1]!.ending, 'abortive-rst');
    assert.equal(recs[1]!.endpoints.client.retransmissions, 1);
  });

  it('midstream: the server is guessed from the ports and the record says so', () => {
    const c = new Conversation({ client: '198.51.100.7:51000', server: '198.51.100.9:443' });
    // Skip the handshake in the segments: build it, then drop the first three.
    c.handshake();
    exchange(c);
    c.fin('s');
    c.ack('c');
    c.fin('c');
    c.ack('s');
    const segs = c.segments.slice(3);
    // Start with a server segment so that the first packet's sender is the server.
    segs.push(segs.shift()!);
    segs.sort((x, y) => x.frame - y.frame);
    const [r] = runSegments(segs);
    assert.ok(r);
    assert.equal(r.midstream, true);
    assert.equal(r.handshake, 'midstream');
    assert.equal(r.server.port, 443);
    assert.equal(r.ending, 'graceful-fin');
    assert.equal(r.confidence, 'medium');
  });

  it('under --max-connections the oldest idle connection is evicted; its later packets open no phantom', () => {
    const convs = [0, 1, 2].map((i) => new Conversation({ client: `192.0.2.1:${41000 + i}`, t0: 1_700_000_000 + i }));
    for (const c of convs) {
      c.handshake();
      c.data('c', 10);
    }
    // The first connection speaks again after the others have pushed it out.
    convs[0]!.wait(10);
    convs[0]!.ack('s');
    const recs = runSegments(merge(...convs), { maxConnections: 2 });
    assert.equal(recs.length, 3);
    const evicted = recs.find((r) => r.client.port === 41000)!;
    assert.equal(evicted.confidence, 'low');
    assert.ok(evicted.confidenceReasons.some((x) => x.includes('evicted')));
  });

  it('IPv6 addresses are kept and printed in RFC 5952 form', () => {
    const c = new Conversation({ client: '[2001:db8::1]:40000', server: '[2001:db8::2]:80' });
    c.handshake();
    exchange(c);
    c.fin('c');
    c.ack('s');
    c.fin('s');
    c.ack('c');
    const r = c.one();
    assert.equal(r.client.ip, '2001:db8::1');
    assert.equal(r.server.ip, '2001:db8::2');
    assert.equal(r.ending, 'graceful-fin');
  });
});
