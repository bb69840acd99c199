/**
 * Forged RSTs (blind reset attacks, RFC 5961): many RSTs with random sequence numbers far outside the receiver's
 * window, from both directions, in the middle of a live connection. A stack ignores them (challenge ACK); the
 * analysis must too: the connection ends as it really ends, and the forged RSTs are counted in the record's
 * anomalies and in the run's summary. The sequence numbers are drawn at least 2^30 away from each sender's
 * stream, so none can fall into a window (the largest here is 64 KiB scaled by 2^7 = 8 MiB).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TCP_ACK, TCP_RST } from '../../src/decode/segment.js';
import { prng } from '../capture/capture-helpers.js';
import { Conversation, type Who } from '../helpers/conversation.js';
import { analyzeSegments } from '../fuzz/capture-build.js';

const C_ISN = 1_000_000;
const S_ISN = 5_000_000;

/** A connection with `forged` blind RSTs interleaved with 2 × `rounds` data segments; returns it and the counts. */
function attacked(seed: number, rounds: number, forged: number): { cv: Conversation; bytes: { c: number; s: number }; forgedFrames: number[] } {
  const cv = new Conversation({ clientIsn: C_ISN, serverIsn: S_ISN });
  cv.handshake({ wscale: true });
  const rnd = prng(seed);
  const bytes = { c: 0, s: 0 };
  const forgedFrames: number[] = [];
  const perRound = Math.ceil(forged / rounds);
  for (let r = 0; r < rounds; r++) {
    const w: Who = r % 2 === 0 ? 'c' : 's';
    cv.data(w, 300 + r);
    bytes[w] += 300 + r;
    cv.ack(w === 'c' ? 's' : 'c');
    for (let k = 0; k < perRound && forgedFrames.length < forged; k++) {
      const from: Who = rnd() < 0.5 ? 'c' : 's';
      const base = from === 'c' ? C_ISN : S_ISN;
      // base + 2^30 + [0, 2^31): a signed distance of at least 2^30 from anything the sender sent.
      const seq = (base + 0x4000_0000 + Math.floor(rnd() * 0x8000_0000)) >>> 0;
      const flags = rnd() < 0.5 ? TCP_RST : TCP_RST | TCP_ACK;
      forgedFrames.push(cv.send(from, flags, { seq, ack: Math.floor(rnd() * 0x1_0000_0000) }));
    }
  }
  return { cv, bytes, forgedFrames };
}

describe('forged out-of-window RSTs in the middle of a live connection', () => {
  it('a connection under 500 forged RSTs that then closes with FINs: graceful-fin, the RSTs counted and ignored', async () => {
    const { cv, bytes, forgedFrames } = attacked(11, 100, 500);
    const fin = cv.fin('c');
    cv.ack('s');
    const fin2 = cv.fin('s');
    cv.ack('c');
    const { records, result } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1, 'one connection, no phantom from the RSTs');
    const r = records[0]!;
    assert.equal(r.ending, 'graceful-fin');
    assert.equal(r.closer, 'client');
    assert.deepEqual(r.endpoints.client.rstFrames, []);
    assert.deepEqual(r.endpoints.server.rstFrames, []);
    assert.equal(r.endpoints.client.finFrame, fin);
    assert.equal(r.endpoints.server.finFrame, fin2);
    assert.deepEqual(r.bytes, { client: bytes.c, server: bytes.s });
    assert.equal(r.packets.client + r.packets.server, cv.segments.length);
    assert.ok(r.anomalies.includes(`${forgedFrames.length} out-of-window RSTs ignored (RFC 5961)`), r.anomalies.join('; '));
    assert.equal(result.summary.outOfWindowRstsIgnored, forgedFrames.length);
    for (const f of forgedFrames) assert.ok(!r.evidence.includes(f), `forged RST ${f} is not evidence`);
  });

  it('forged RSTs, then a real in-window RST+ACK from the server: abortive-rst on the real one', async () => {
    const { cv, forgedFrames } = attacked(12, 40, 200);
    const real = cv.rstAck('s');
    const { records, result } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1);
    const r = records[0]!;
    assert.equal(r.ending, 'abortive-rst');
    assert.equal(r.closer, 'server');
    assert.deepEqual(r.endpoints.server.rstFrames, [real]);
    assert.deepEqual(r.endpoints.client.rstFrames, []);
    assert.ok(r.evidence.includes(real));
    for (const f of forgedFrames) assert.ok(!r.evidence.includes(f));
    assert.equal(result.summary.outOfWindowRstsIgnored, forgedFrames.length);
  });

  it('forged RSTs at a connection still open at the end of the capture: open, not reset', async () => {
    const { cv, forgedFrames } = attacked(13, 20, 60);
    const { records, result } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.ending, 'open');
    assert.equal(result.summary.outOfWindowRstsIgnored, forgedFrames.length);
  });
});
