/**
 * Structure-aware generators (fast-check arbitraries):
 *  - frames: random layer stacks built with test/helpers/frames.ts (link layer, VLANs, MPLS, tunnels, IPv4 with
 *    options or IPv6 with extension headers, TCP with random flags, seq, ack, window and options, or another
 *    protocol), optionally cut short or with bytes flipped; each comes with what a correct decoder must find in
 *    it when it was left intact (the oracle);
 *  - segment streams: TcpSegments over a small set of tuples with random flags and sequence numbers near each
 *    side's current ones, so that the connection table and the state machine see every transition, port reuse,
 *    eviction, RSTs in and out of window, and time that jumps back.
 */
import * as fc from 'fast-check';
import { newTcpSegment, type TcpSegment } from '../../src/decode/segment.js';
import {
  build,
  ethernet,
  geneve,
  gre,
  gtpu,
  icmp,
  ipv4,
  ipv6,
  LINKTYPE,
  loopHeader,
  mpls,
  nullHeader,
  payload,
  sll,
  sll2,
  tcp,
  tcpOpt,
  teredo,
  udp,
  vlan,
  vxlan,
  type Layer,
} from '../helpers/frames.js';

/** What a frame generator built, and what the decoder must report for it when it is intact. */
export interface GeneratedFrame {
  linkType: number;
  data: Buffer;
  /** Bytes on the wire (≥ data.length when the frame was cut). */
  origLen: number;
  /** The TCP segment inside, when there is one and the frame was left intact. */
  expect: { sport: number; dport: number; seq: number; ack: number; flags: number; payloadLen: number; ipVersion: 4 | 6 } | null;
  /** A description of the stack, for failure messages. */
  stack: string;
}

interface FrameSpec {
  link: 'ethernet' | 'sll' | 'sll2' | 'null' | 'loop' | 'raw';
  vlans: number[];
  mplsLabels: number[];
  tunnel: 'none' | 'gre' | 'vxlan' | 'geneve' | 'gtpu' | 'teredo' | 'ip-in-ip';
  v6: boolean;
  ipv4Options: number;
  ipv6Ext: ('hop-by-hop' | 'destination')[];
  l4: 'tcp' | 'udp' | 'icmp';
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  tcpOptions: ('mss' | 'ws' | 'sackp' | 'sack' | 'ts' | 'nop' | 'bad')[];
  payloadLen: number;
  cut: number | null;
  flips: number[];
}

const u32 = fc.nat({ max: 0xffffffff });

const specArb: fc.Arbitrary<FrameSpec> = fc.record({
  link: fc.constantFrom('ethernet' as const, 'ethernet' as const, 'sll' as const, 'sll2' as const, 'null' as const, 'loop' as const, 'raw' as const),
  vlans: fc.array(fc.nat({ max: 4095 }), { maxLength: 3 }),
  mplsLabels: fc.array(fc.nat({ max: 0x7ffff }), { maxLength: 2 }),
  tunnel: fc.constantFrom('none' as const, 'none' as const, 'none' as const, 'gre' as const, 'vxlan' as const, 'geneve' as const, 'gtpu' as const, 'teredo' as const, 'ip-in-ip' as const),
  v6: fc.boolean(),
  ipv4Options: fc.constantFrom(0, 0, 4, 8, 40),
  ipv6Ext: fc.array(fc.constantFrom('hop-by-hop' as const, 'destination' as const), { maxLength: 2 }),
  l4: fc.constantFrom('tcp' as const, 'tcp' as const, 'tcp' as const, 'udp' as const, 'icmp' as const),
  sport: fc.constantFrom(80, 443, 40000, 40001, 0, 65535),
  dport: fc.constantFrom(80, 443, 40000, 40001, 0, 65535),
  seq: u32,
  ack: u32,
  flags: fc.nat({ max: 0x1ff }),
  window: fc.nat({ max: 0xffff }),
  tcpOptions: fc.array(fc.constantFrom('mss' as const, 'ws' as const, 'sackp' as const, 'sack' as const, 'ts' as const, 'nop' as const, 'bad' as const), { maxLength: 4 }),
  payloadLen: fc.oneof(fc.constant(0), fc.nat({ max: 64 }), fc.nat({ max: 1460 })),
  cut: fc.option(fc.nat({ max: 2000 }), { freq: 4 }),
  flips: fc.array(fc.nat({ max: 0xffff }), { maxLength: 3 }),
});

function buildSpec(s: FrameSpec): GeneratedFrame {
  const layers: Layer[] = [];
  let linkType: number = LINKTYPE.ETHERNET;
  const parts: string[] = [s.link];
  // The hop-by-hop header must come first in an IPv6 chain; a second one is not allowed.
  const ext = s.ipv6Ext.filter((e, i) => e !== 'hop-by-hop' || i === 0).map((type) => ({ type }));
  const innerIp = () =>
    s.v6 || s.tunnel === 'teredo'
      ? ipv6({ src: '2001:db8::1', dst: '2001:db8::2', ext })
      : ipv4({ src: '192.0.2.1', dst: '198.51.100.2', options: s.ipv4Options > 0 ? Buffer.alloc(s.ipv4Options, 1) : undefined });
  switch (s.link) {
    case 'ethernet':
      layers.push(ethernet());
      for (const id of s.vlans) layers.push(vlan(id));
      for (const l of s.mplsLabels) layers.push(mpls(l));
      if (s.vlans.length) parts.push(`vlan×${s.vlans.length}`);
      if (s.mplsLabels.length) parts.push(`mpls×${s.mplsLabels.length}`);
      break;
    case 'sll':
      linkType = LINKTYPE.LINUX_SLL;
      layers.push(sll());
      break;
    case 'sll2':
      linkType = LINKTYPE.LINUX_SLL2;
      layers.push(sll2());
      break;
    case 'null':
      linkType = LINKTYPE.NULL;
      layers.push(nullHeader());
      break;
    case 'loop':
      linkType = LINKTYPE.LOOP;
      layers.push(loopHeader());
      break;
    case 'raw':
      linkType = LINKTYPE.RAW;
      break;
  }
  if (s.tunnel !== 'none') {
    parts.push(s.tunnel);
    const outer = ipv4({ src: '198.51.100.7', dst: '198.51.100.8' });
    switch (s.tunnel) {
      case 'gre':
        layers.push(outer, gre());
        break;
      case 'vxlan':
        layers.push(outer, udp(), vxlan(), ethernet());
        break;
      case 'geneve':
        layers.push(outer, udp(), geneve());
        break;
      case 'gtpu':
        layers.push(outer, udp(), gtpu());
        break;
      case 'teredo':
        layers.push(outer, udp(), teredo());
        break;
      case 'ip-in-ip':
        layers.push(outer);
        break;
    }
  }
  layers.push(innerIp());
  parts.push(s.v6 || s.tunnel === 'teredo' ? `ipv6${ext.length ? `+${ext.map((e) => e.type).join('+')}` : ''}` : `ipv4${s.ipv4Options ? `+opt${s.ipv4Options}` : ''}`);
  let expect: GeneratedFrame['expect'] = null;
  if (s.l4 === 'tcp') {
    const opts: Buffer[] = [];
    for (const o of s.tcpOptions) {
      if (o === 'mss') opts.push(tcpOpt.mss(1460));
      else if (o === 'ws') opts.push(tcpOpt.windowScale(7));
      else if (o === 'sackp') opts.push(tcpOpt.sackPermitted());
      else if (o === 'sack') opts.push(tcpOpt.sack([[s.ack, s.ack + 100]]));
      else if (o === 'ts') opts.push(tcpOpt.timestamps(s.seq, s.ack));
      else if (o === 'nop') opts.push(tcpOpt.nop());
      else opts.push(tcpOpt.raw(254, 1));
    }
    const optBytes = opts.reduce((n, b) => n + b.length, 0);
    // Options beyond the 40 bytes a header can hold are dropped (the builder would write a bad data offset).
    layers.push(tcp({ sport: s.sport, dport: s.dport, seq: s.seq, ack: s.ack, flags: s.flags, window: s.window, options: optBytes <= 40 ? opts : [] }));
    if (s.payloadLen > 0) layers.push(payload(s.payloadLen));
    expect = { sport: s.sport, dport: s.dport, seq: s.seq, ack: s.ack, flags: s.flags, payloadLen: s.payloadLen, ipVersion: s.v6 || s.tunnel === 'teredo' ? 6 : 4 };
    parts.push(`tcp flags 0x${s.flags.toString(16)} len ${s.payloadLen}`);
  } else if (s.l4 === 'udp') {
    layers.push(udp({ sport: 5353, dport: 5353 }), payload(Math.min(s.payloadLen, 200)));
    parts.push('udp');
  } else {
    if (s.v6 || s.tunnel === 'teredo') layers.push(udp({ sport: 5353, dport: 5353 }));
    else layers.push(icmp({ type: 8 }));
    parts.push('icmp');
  }
  let data = build(...layers);
  const origLen = data.length;
  if (s.cut !== null && s.cut < data.length) {
    data = data.subarray(0, s.cut);
    expect = null;
    parts.push(`cut at ${s.cut}`);
  }
  if (s.flips.length > 0 && data.length > 0) {
    data = Buffer.from(data);
    for (const f of s.flips) data[f % data.length]! ^= 1 << (f >> 13);
    expect = null;
    parts.push(`${s.flips.length} bit flips`);
  }
  return { linkType, data, origLen, expect, stack: parts.join(' / ') };
}

export const frameArb: fc.Arbitrary<GeneratedFrame> = specArb.map(buildSpec);

// ---------------------------------------------------------------- segment streams

export interface SegStep {
  /** Which of the tuples (a small set, so that segments meet in the same connections). */
  tuple: number;
  fromServer: boolean;
  flags: number;
  /** Sequence number relative to that side's current next sequence (small offsets), or a random one. */
  seqDelta: number;
  randomSeq: number | null;
  ackDelta: number;
  len: number;
  window: number;
  /** Time step in ms; negative steps are clocks going back. */
  dtMs: number;
  /** Repeat the previous segment exactly (a duplicated frame). */
  duplicate: boolean;
}

const FLAG_SETS = [0x02, 0x12, 0x10, 0x18, 0x11, 0x19, 0x04, 0x14, 0x01, 0x06, 0x03, 0x13, 0x05, 0x1ff, 0x00, 0x10, 0x10, 0x18];

export const segStepArb: fc.Arbitrary<SegStep> = fc.record({
  tuple: fc.nat({ max: 5 }),
  fromServer: fc.boolean(),
  flags: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...FLAG_SETS) }, { weight: 1, arbitrary: fc.nat({ max: 0x1ff }) }),
  seqDelta: fc.constantFrom(0, 0, 0, -1, 1, -1448, 1448, 65536, -70000, 0x7fffffff),
  randomSeq: fc.option(u32, { freq: 8 }),
  ackDelta: fc.constantFrom(0, 0, 0, 1, -1, 1448, -100000),
  len: fc.constantFrom(0, 0, 0, 1, 100, 1448, 65535),
  window: fc.constantFrom(0, 1, 512, 65535),
  dtMs: fc.oneof({ weight: 12, arbitrary: fc.nat({ max: 2000 }) }, { weight: 1, arbitrary: fc.integer({ min: -5000, max: 0 }) }, { weight: 1, arbitrary: fc.constant(70_000) }),
  duplicate: fc.nat({ max: 9 }).map((n) => n === 0),
});

const TUPLES: { c: [number, number]; s: [number, number] }[] = [
  { c: [0xc0000201, 40000], s: [0xc6336402, 80] },
  { c: [0xc0000201, 40001], s: [0xc6336402, 80] },
  { c: [0xc0000203, 40000], s: [0xc6336402, 80] },
  { c: [0xc0000201, 40000], s: [0xc6336402, 443] },
  { c: [0xc6336402, 80], s: [0xc0000201, 40000] }, // the reverse of tuple 0: the same connection
  { c: [0xc0000204, 5000], s: [0xc0000205, 5001] },
];

/**
 * Turns steps into segments. Each side of each tuple keeps a next sequence number (advanced by what it sends), so
 * that most segments are plausible and the deltas push them just in or out of the window.
 */
export function stepsToSegments(steps: readonly SegStep[], t0 = 1_700_000_000): TcpSegment[] {
  const nxt = new Map<string, number>();
  let ms = 0;
  const out: TcpSegment[] = [];
  for (const st of steps) {
    if (st.duplicate && out.length > 0) {
      const prev = out[out.length - 1]!;
      const d: TcpSegment = { ...prev, srcAddr: prev.srcAddr.slice(), dstAddr: prev.dstAddr.slice(), vlans: prev.vlans.slice(), sackBlocks: prev.sackBlocks.slice(), frame: out.length + 1 };
      out.push(d);
      continue;
    }
    ms = Math.max(0, ms + st.dtMs);
    const tu = TUPLES[st.tuple % TUPLES.length]!;
    const [src, dst] = st.fromServer ? [tu.s, tu.c] : [tu.c, tu.s];
    const key = (e: [number, number]) => `${e[0]}:${e[1]}`;
    const mine = nxt.get(key(src)) ?? ((src[0] * 7919 + src[1]) >>> 0);
    const theirs = nxt.get(key(dst)) ?? ((dst[0] * 7919 + dst[1]) >>> 0);
    const seg = newTcpSegment();
    seg.frame = out.length + 1;
    seg.tsSec = t0 + Math.floor(ms / 1000);
    seg.tsNs = (ms % 1000) * 1_000_000;
    seg.tsDigits = 9;
    seg.ipVersion = 4;
    seg.srcAddr[0] = src[0];
    seg.dstAddr[0] = dst[0];
    seg.srcPort = src[1];
    seg.dstPort = dst[1];
    seg.seq = st.randomSeq ?? (mine + st.seqDelta) >>> 0;
    seg.ack = (theirs + st.ackDelta) >>> 0;
    seg.flags = st.flags;
    seg.window = st.window;
    seg.payloadLen = st.len;
    seg.payloadCaptured = st.len;
    seg.windowScale = (st.flags & 0x02) !== 0 ? 7 : -1;
    seg.mss = (st.flags & 0x02) !== 0 ? 1460 : -1;
    seg.checksumOk = 1;
    const used = st.len + ((st.flags & 0x02) !== 0 ? 1 : 0) + ((st.flags & 0x01) !== 0 ? 1 : 0);
    if ((st.flags & 0x04) === 0) nxt.set(key(src), (seg.seq + used) >>> 0);
    out.push(seg);
  }
  return out;
}

export const segmentsArb: fc.Arbitrary<SegStep[]> = fc.array(segStepArb, { minLength: 1, maxLength: 120 });
