/**
 * Keep-alives and zero-window probes from a socket stuck in CLOSE_WAIT. The kernel sends them on its own, so
 * they are not the application working: the connection is still close-wait-stuck, the time in CLOSE_WAIT runs
 * from the peer's FIN (the probes do not reset it), and the probes are shown (ladder notes, evidence).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionRecord } from '../../src/classify/record.js';
import type { TcpSegment } from '../../src/decode/segment.js';
import { Conversation } from '../helpers/conversation.js';
import { analyzeSegments } from '../fuzz/capture-build.js';

const time = (s: TcpSegment) => s.tsSec + s.tsNs * 1e-9;

/** The client closes; the server acknowledges the FIN and never closes; `probe` sends one probe round. */
function stuck(probe: (cv: Conversation) => number, rounds: number, everyS: number, opts: { zeroWindow: boolean }) {
  const cv = new Conversation({ clientIsn: 1_000_000, serverIsn: 5_000_000 });
  cv.handshake();
  cv.data('c', 200);
  cv.data('s', 1000);
  if (opts.zeroWindow) {
    // The client's application stops reading: its receive window closes, then it half-closes.
    cv.ack('c', { window: 0 });
    cv.fin('c', { window: 0 });
  } else {
    cv.ack('c');
    cv.fin('c');
  }
  const finIndex = cv.segments.length - 1;
  cv.ack('s');
  const probes: number[] = [];
  for (let k = 0; k < rounds; k++) {
    cv.wait(everyS);
    probes.push(probe(cv));
  }
  const fin = cv.segments[finIndex]!;
  const last = cv.segments[cv.segments.length - 1]!;
  return { cv, probes, finFrame: fin.frame, closeWaitMs: Math.round((time(last) - time(fin)) * 1e6) / 1e3 };
}

function check(r: ConnectionRecord, finFrame: number, closeWaitMs: number): void {
  assert.equal(r.ending, 'close-wait-stuck');
  assert.equal(r.endpoints.server.state, 'CLOSE_WAIT');
  assert.equal(r.endpoints.client.finFrame, finFrame);
  // From the FIN to the end of the capture: the probes did not restart the clock.
  assert.ok(Math.abs(r.closeWaitMs! - closeWaitMs) < 1, `closeWaitMs ${r.closeWaitMs}, expected ${closeWaitMs}`);
}

describe('keep-alives and zero-window probes in CLOSE_WAIT', () => {
  it('keep-alives every 10 s for a minute, each answered: close-wait-stuck, the last probe in evidence', async () => {
    const { cv, probes, finFrame, closeWaitMs } = stuck(
      (c) => {
        const p = c.keepAlive('s');
        c.ack('c');
        return p;
      },
      6,
      10,
      { zeroWindow: false },
    );
    const { records } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1);
    const r = records[0]!;
    check(r, finFrame, closeWaitMs);
    assert.equal(r.endpoints.server.keepAlives, probes.length);
    assert.ok(r.evidence.includes(probes[probes.length - 1]!), `evidence ${r.evidence.join(',')}`);
    const noted = r.ladder.filter((p) => p.note === 'keep-alive').map((p) => p.frame);
    assert.ok(noted.length > 0 && noted.every((f) => probes.includes(f)), `keep-alive notes on ${noted.join(',')}`);
  });

  it('zero-window probes every 5 s for 30 s, each answered with a zero window: close-wait-stuck, not reset', async () => {
    const { cv, probes, finFrame, closeWaitMs } = stuck(
      (c) => {
        const p = c.keepAlive('s');
        c.ack('c', { window: 0 });
        return p;
      },
      6,
      5,
      { zeroWindow: true },
    );
    const { records } = await analyzeSegments(cv.segments);
    assert.equal(records.length, 1);
    const r = records[0]!;
    check(r, finFrame, closeWaitMs);
    const noted = r.ladder.filter((p) => p.note === 'zero-window probe').map((p) => p.frame);
    assert.ok(noted.length > 0 && noted.every((f) => probes.includes(f)), `zero-window probe notes on ${noted.join(',')}`);
  });

  it('zero-window probes in CLOSE_WAIT: the last probe is in the evidence, as a keep-alive would be', async () => {
    const { cv, probes } = stuck(
      (c) => {
        const p = c.keepAlive('s');
        c.ack('c', { window: 0 });
        return p;
      },
      6,
      5,
      { zeroWindow: true },
    );
    const r = (await analyzeSegments(cv.segments)).records[0]!;
    assert.ok(r.evidence.includes(probes[probes.length - 1]!), `evidence ${r.evidence.join(',')}, probes ${probes.join(',')}`);
  });
});
