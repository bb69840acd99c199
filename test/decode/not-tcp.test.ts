/** Frames without TCP: counted by kind from a fixed set; ICMP errors quoting TCP counted apart. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { NotTcpKind } from '../../src/decode/link-types.js';
import { DecodeOutcome, newTcpSegment } from '../../src/decode/segment.js';
import { arp, build, ethernet, icmp, icmpv6, ipv4, ipv6, packet, payload, tcp, udp } from '../helpers/frames.js';
import { assertPartition, decodeFrame } from './decode-helpers.js';

function kindOf(frame: Buffer): string {
  const { outcome, stats } = decodeFrame(frame);
  assert.equal(outcome, DecodeOutcome.NotTcp);
  assert.equal(stats.notTcp, 1);
  const kinds = [...stats.notTcpByKind.keys()];
  assert.equal(kinds.length, 1);
  return kinds[0]!;
}

describe('not TCP', () => {
  it('ARP, LLDP, LLC (802.3 length), other EtherTypes', () => {
    assert.equal(kindOf(build(ethernet(), arp())), 'arp');
    assert.equal(kindOf(build(ethernet({ type: 0x88cc }), payload(30))), 'lldp');
    assert.equal(kindOf(build(ethernet({ type: 38 }), payload(Buffer.from('424203000000000000', 'hex')))), 'llc');
    assert.equal(kindOf(build(ethernet({ type: 0x1234 }), payload(30))), 'ethertype-other');
  });

  it('IP over 802.3 with LLC/SNAP is followed', () => {
    const snap = Buffer.from('aaaa030000000800', 'hex');
    const frame = build(ethernet({ type: 100 }), payload(snap), ipv4(), tcp({ sport: 99 }));
    const { outcome, seg } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.srcPort, 99);
  });

  it('UDP, ICMP, ICMPv6, IGMP, SCTP, other IP protocols', () => {
    assert.equal(kindOf(build(ethernet(), ipv4(), udp(), payload(10))), 'udp');
    assert.equal(kindOf(build(ethernet(), ipv6(), udp(), payload(10))), 'udp');
    assert.equal(kindOf(build(ethernet(), ipv4(), icmp({ type: 8 }), payload(8))), 'icmp');
    assert.equal(kindOf(build(ethernet(), ipv6(), icmpv6({ type: 128 }), payload(8))), 'icmpv6');
    assert.equal(kindOf(build(ethernet(), ipv4(), payload(8, { ipProto: 2 }))), 'igmp');
    assert.equal(kindOf(build(ethernet(), ipv6(), payload(12, { ipProto: 132 }))), 'sctp');
    assert.equal(kindOf(build(ethernet(), ipv4(), payload(12, { ipProto: 103 }))), 'ipv4-other');
    assert.equal(kindOf(build(ethernet(), ipv6(), payload(12, { ipProto: 89 }))), 'ipv6-other');
  });

  it('an ICMP error quoting a TCP header is ICMP, counted in icmpQuotingTcp', () => {
    const frame = build(
      ethernet(),
      ipv4(),
      icmp({ type: 3, code: 4, rest: 1400 }),
      ipv4({ src: '198.51.100.2', dst: '192.0.2.1' }),
      tcp(),
    );
    const { outcome, stats } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.NotTcp);
    assert.equal(stats.notTcpByKind.get('icmp'), 1);
    assert.equal(stats.icmpQuotingTcp, 1);
    assert.equal(stats.tcp, 0);
    // Only the first 8 bytes of TCP quoted, as RFC 792 requires at least: still counted.
    const short = build(ethernet(), ipv4(), icmp({ type: 11 }), ipv4(), payload(8, { ipProto: 6 }));
    assert.equal(decodeFrame(short).stats.icmpQuotingTcp, 1);
    // An echo reply carrying bytes that look like an IP header is not an error.
    const echo = build(ethernet(), ipv4(), icmp({ type: 0 }), ipv4(), tcp());
    assert.equal(decodeFrame(echo).stats.icmpQuotingTcp, 0);
    // An error quoting UDP is not counted.
    const udpQuote = build(ethernet(), ipv4(), icmp({ type: 3, code: 3 }), ipv4(), udp());
    assert.equal(decodeFrame(udpQuote).stats.icmpQuotingTcp, 0);
  });

  it('an ICMPv6 error quoting a TCP header (also behind extension headers)', () => {
    const quoted = ipv6({ src: '2001:db8::2', dst: '2001:db8::1', ext: [{ type: 'destination' }] });
    const frame = build(ethernet(), ipv6(), icmpv6({ type: 1, code: 4 }), quoted, tcp());
    const { outcome, stats } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.NotTcp);
    assert.equal(stats.notTcpByKind.get('icmpv6'), 1);
    assert.equal(stats.icmpQuotingTcp, 1);
    const tooBig = build(ethernet(), ipv6(), icmpv6({ type: 2, rest: 1280 }), ipv6(), tcp());
    assert.equal(decodeFrame(tooBig).stats.icmpQuotingTcp, 1);
    const echo = build(ethernet(), ipv6(), icmpv6({ type: 129 }), ipv6(), tcp());
    assert.equal(decodeFrame(echo).stats.icmpQuotingTcp, 0);
  });

  it('random EtherTypes and IP protocols only ever use the fixed set of keys', () => {
    const decoder = new Decoder();
    const seg = newTcpSegment();
    for (let t = 0x600; t <= 0xffff; t += 7) {
      decoder.decode(packet(build(ethernet({ type: t }), payload(64))), seg);
    }
    for (let p = 0; p < 256; p++) {
      decoder.decode(packet(build(ethernet(), ipv4(), payload(40, { ipProto: p }))), seg);
      decoder.decode(packet(build(ethernet(), ipv6(), payload(40, { ipProto: p }))), seg);
    }
    assertPartition(decoder.stats);
    const allowed = new Set<string>(Object.values(NotTcpKind));
    for (const k of decoder.stats.notTcpByKind.keys()) assert.ok(allowed.has(k), `unexpected key ${k}`);
    assert.ok(decoder.stats.notTcpByKind.size <= allowed.size);
  });
});
