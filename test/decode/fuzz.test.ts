/**
 * Hostile input: random and mutated frames on every link type. Nothing throws, every frame lands in one outcome,
 * a TCP segment never points outside the captured bytes, and the counters' key sets stay bounded.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { NotTcpKind } from '../../src/decode/link-types.js';
import { DecodeOutcome, newTcpSegment } from '../../src/decode/segment.js';
import {
  build,
  ethernet,
  geneve,
  gre,
  gtpu,
  ipv4,
  ipv6,
  mpls,
  packet,
  payload,
  pppoe,
  tcp,
  tcpOpt,
  teredo,
  udp,
  vlan,
  vxlan,
} from '../helpers/frames.js';
import { assertPartition } from './decode-helpers.js';

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

const opts = [
  tcpOpt.mss(1460),
  tcpOpt.sack([
    [1, 2],
    [3, 4],
  ]),
  tcpOpt.timestamps(1, 2),
];
const SEEDS: Buffer[] = [
  build(ethernet(), vlan(1), ipv4(), tcp({ options: opts }), payload(40)),
  build(ethernet(), ipv6({ ext: [{ type: 'hop-by-hop' }, { type: 'fragment' }] }), tcp({ options: opts }), payload(40)),
  build(ethernet(), mpls(16), ipv4(), gre({ key: 1 }), ethernet(), ipv6(), tcp(), payload(10)),
  build(ethernet(), pppoe(), ipv4(), udp(), vxlan(), ethernet(), ipv4(), tcp(), payload(10)),
  build(ethernet(), ipv4(), udp(), geneve({ options: Buffer.alloc(8) }), ethernet(), ipv4(), tcp()),
  build(ethernet(), ipv4(), udp(), teredo({ origin: true }), ipv6(), tcp()),
  build(ethernet(), ipv4(), udp(), gtpu({ ext: [[0x85, Buffer.from([1])]] }), ipv4(), tcp()),
];
const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999];
const ALLOWED_KINDS = new Set<string>(Object.values(NotTcpKind));

describe('fuzz', () => {
  it('mutated and random frames', () => {
    const rand = rng(0x5eed);
    const decoder = new Decoder();
    const seg = newTcpSegment();
    const counts = new Map<number, number>();
    for (let i = 0; i < 30_000; i++) {
      let frame: Buffer;
      let linkType = 1;
      if (i % 10 === 0) {
        frame = Buffer.from(Array.from({ length: Math.floor(rand() * 120) }, () => Math.floor(rand() * 256)));
        linkType = LINK_TYPES[Math.floor(rand() * LINK_TYPES.length)]!;
      } else {
        frame = Buffer.from(SEEDS[i % SEEDS.length]!);
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) frame[Math.floor(rand() * frame.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) frame = frame.subarray(0, Math.floor(rand() * frame.length));
      }
      const origLen = rand() < 0.5 ? frame.length : frame.length + Math.floor(rand() * 100);
      const out = decoder.decode(packet(frame, linkType, { frame: i + 1, origLen }), seg);
      counts.set(out, (counts.get(out) ?? 0) + 1);
      if (out === DecodeOutcome.Tcp) {
        const buf = decoder.payloadBuffer;
        assert.ok(seg.payloadOffset >= 0 && seg.payloadCaptured >= 0);
        assert.ok(seg.payloadOffset + seg.payloadCaptured <= buf.length, `frame ${i + 1}`);
        assert.ok(seg.payloadCaptured <= seg.payloadLen);
        assert.ok(seg.vlanCount <= 4);
        assert.ok(seg.sackCount <= 4);
      }
    }
    assertPartition(decoder.stats);
    for (const k of decoder.stats.notTcpByKind.keys()) assert.ok(ALLOWED_KINDS.has(k), k);
    for (const [reason, p] of decoder.stats.problems) {
      assert.match(reason, /^[a-z0-9]+(_[a-z0-9]+)+$/);
      assert.ok(p.frames.length <= 20);
    }
    assert.ok(decoder.stats.problems.size < 60, [...decoder.stats.problems.keys()].join());
    // The fuzz is not degenerate: it reaches decoded segments and both kinds of failure.
    assert.ok((counts.get(DecodeOutcome.Tcp) ?? 0) > 1000);
    assert.ok((counts.get(DecodeOutcome.Malformed) ?? 0) > 100);
    assert.ok((counts.get(DecodeOutcome.TooShort) ?? 0) > 100);
  });
});
