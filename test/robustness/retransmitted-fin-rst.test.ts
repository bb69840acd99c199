/**
 * Retransmitted FINs and RSTs: a FIN sent again because its ACK was lost after the vantage point (also long after
 * the connection looked finished, as a LAST_ACK socket backs off), RSTs repeated because each answers a
 * retransmitted segment, an abort seen several times. Each is one connection with the verdict of its first FIN or
 * accepted RST, never a phantom connection made of the late copies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/decode/segment.js';
import { Conversation } from '../helpers/conversation.js';
import { analyzeSegments } from '../fuzz/capture-build.js';

const C_ISN = 1_000_000;
const S_ISN = 5_000_000;

function established(): Conversation {
  const cv = new Conversation({ clientIsn: C_ISN, serverIsn: S_ISN });
  cv.handshake();
  cv.data('c', 100);
  cv.ack('s');
  cv.data('s', 2000);
  cv.ack('c');
  return cv;
}

describe('retransmitted FINs and RSTs', () => {
  it('each FIN sent three times (its ACK lost after the vantage point): one connection, graceful-fin', async () => {
    const cv = established();
    const fin1 = cv.fin('c');
    // The same FIN again: client's seq space ends at ISN + 1 + 100, the FIN takes that number.
    for (let k = 0; k < 2; k++) cv.wait(0.2).send('c', TCP_FIN | TCP_ACK, { seq: C_ISN + 101, noAdvance: true });
    cv.ack('s');
    const fin2 = cv.fin('s');
    for (let k = 0; k < 2; k++) cv.wait(0.2).send('s', TCP_FIN | TCP_ACK, { seq: S_ISN + 2001, noAdvance: true });
    cv.ack('c');
    const { records } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1);
    const r = records[0]!;
    assert.equal(r.ending, 'graceful-fin');
    assert.equal(r.closer, 'client');
    assert.equal(r.endpoints.client.finFrame, fin1);
    assert.equal(r.endpoints.server.finFrame, fin2);
    assert.equal(r.endpoints.client.retransmissions, 2);
    assert.equal(r.endpoints.server.retransmissions, 2);
    assert.deepEqual(r.bytes, { client: 100, server: 2000 });
  });

  it('a LAST_ACK end backing off its FIN for 50 s after the last ACK was captured: one connection, graceful-fin', async () => {
    const cv = established();
    cv.fin('c');
    cv.ack('s');
    cv.fin('s');
    cv.ack('c');
    // The ACK was lost after the vantage point: the server retransmits its FIN at 0.2, 0.4, 0.8 … 25.6 s; the
    // client, in TIME_WAIT, answers each with the same ACK.
    let gap = 0.2;
    let late = 0;
    for (let k = 0; k < 8; k++, gap *= 2) {
      cv.wait(gap);
      cv.send('s', TCP_FIN | TCP_ACK, { seq: S_ISN + 2001, noAdvance: true });
      cv.send('c', TCP_ACK, { seq: C_ISN + 102, ack: S_ISN + 2002, noAdvance: true });
      late += 2;
    }
    const { records, result } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1, `no phantom connection from ${late} late packets: ${records.map((r) => `${r.id} ${r.ending} ${r.handshake}`).join(', ')}`);
    assert.equal(records[0]!.ending, 'graceful-fin');
    // The late copies are counted (in the record while it is held, or against its tombstone once emitted).
    assert.ok(records[0]!.packets.client + records[0]!.packets.server <= result.summary.tcpSegments);
  });

  it('an abort seen three times (RST+ACK copies): one connection, abortive-rst on the first', async () => {
    const cv = established();
    const rst = cv.rstAck('s');
    cv.send('s', TCP_RST | TCP_ACK, { seq: S_ISN + 2001, ack: C_ISN + 101 });
    cv.send('s', TCP_RST | TCP_ACK, { seq: S_ISN + 2001, ack: C_ISN + 101 });
    const { records } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.ending, 'abortive-rst');
    assert.deepEqual(records[0]!.endpoints.server.rstFrames, [rst]);
    assert.ok(records[0]!.evidence.includes(rst));
  });

  it('a host that lost the connection answers each retransmission with a RST: one connection, lost-state-rst', async () => {
    const cv = established();
    // The server rebooted: the client's next data draws a bare RST (seq = the ack of the segment it answers); the
    // RST is lost after the vantage point, the client retransmits, and so on.
    cv.data('c', 50);
    const first = cv.bareRst('s');
    for (let k = 0; k < 3; k++) {
      cv.wait(0.2 * 2 ** k);
      cv.retransmit('c');
      cv.bareRst('s');
    }
    const { records } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.ending, 'lost-state-rst');
    assert.deepEqual(records[0]!.endpoints.server.rstFrames, [first]);
    assert.deepEqual(records[0]!.bytes, { client: 150, server: 2000 });
  });

  it('a SYN retransmitted and refused each time (the RSTs lost after the vantage point): one connection, refused', async () => {
    const cv = new Conversation({ clientIsn: C_ISN });
    const syn = cv.syn();
    cv.send('s', TCP_RST | TCP_ACK, { seq: 0, ack: C_ISN + 1 });
    for (let k = 0; k < 3; k++) {
      cv.wait(2 ** k);
      cv.synAgain();
      cv.send('s', TCP_RST | TCP_ACK, { seq: 0, ack: C_ISN + 1 });
    }
    const { records } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1, records.map((r) => `${r.ending} ${r.incarnation}`).join(', '));
    assert.equal(records[0]!.ending, 'refused');
    assert.ok(records[0]!.evidence.includes(syn));
  });

  it('port reuse 5 s after a graceful close (past the grace period): two connections, incarnations 1 and 2', async () => {
    const cv = established();
    cv.fin('c');
    cv.ack('s');
    cv.fin('s');
    cv.ack('c');
    cv.wait(5);
    cv.send('c', TCP_SYN, { seq: 77_000_000 });
    const { records } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 2);
    assert.deepEqual(records.map((r) => r.incarnation).sort(), [1, 2]);
  });
});
