/**
 * The ladder trace keeps the first 4 packets, the first 8 control packets (SYN, FIN, RST) after them, and the last
 * 16 other packets. Short connections keep theirs inline and longer ones move to full-size arrays: whatever the
 * storage, the kept packets must be exactly those the rule names, also when a pooled trace is reused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LadderTrace, NOTE } from '../../src/conn/ladder-trace.js';
import { newTcpSegment, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/decode/segment.js';
import { prng as rng } from '../capture/capture-helpers.js';

/** The frames the rule keeps, in frame order (frames are 1..n in packet order). */
function expectedFrames(flags: number[]): number[] {
  const keep: number[] = [];
  let control = 0;
  const rest: number[] = [];
  flags.forEach((f, i) => {
    const frame = i + 1;
    if (i < 4) keep.push(frame);
    else if ((f & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0 && control < 8) {
      keep.push(frame);
      control++;
    } else rest.push(frame);
  });
  keep.push(...rest.slice(-16));
  return keep.sort((a, b) => a - b);
}

describe('LadderTrace', () => {
  it('keeps the head, the first control packets and the last others, for every length and mix (reused traces too)', () => {
    const rand = rng(5);
    const trace = new LadderTrace();
    const seg = newTcpSegment();
    for (let round = 0; round < 600; round++) {
      const n = (rand() * 60) | 0;
      const pControl = [0, 0.1, 0.5, 0.9][round % 4]!;
      const flags: number[] = [];
      for (let i = 0; i < n; i++) flags.push(rand() < pControl ? [TCP_SYN, TCP_FIN | TCP_ACK, TCP_RST][(rand() * 3) | 0]! : TCP_ACK);
      trace.reset();
      trace.baseSec = 1000;
      flags.forEach((f, i) => {
        Object.assign(seg, { frame: i + 1, tsSec: 1000 + i, tsNs: i * 1000, flags: f, seq: 100 + i, ack: 200 + i, payloadLen: i, window: 65535 - i });
        trace.addSegment(seg, (i & 1) === 1, NOTE.none);
      });
      const got = trace.packets();
      assert.deepEqual(got.map((p) => p.frame), expectedFrames(flags), `round ${round}: ${n} packets`);
      // Every field comes back as written.
      for (const p of got) {
        const i = p.frame - 1;
        assert.deepEqual(
          [p.tsSec, p.tsNs, p.fromServer, p.flags, p.seq, p.ack, p.len, p.win],
          [1000 + i, i * 1000, (i & 1) === 1, flags[i], 100 + i, 200 + i, i, 65535 - i],
        );
      }
    }
  });
});
