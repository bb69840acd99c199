/** IPv6 and its extension-header chain. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DecodeOutcome } from '../../src/decode/segment.js';
import { addressWords, build, ethernet, ipv6, payload, tcp, type Ipv6Ext } from '../helpers/frames.js';
import { decodeFrame, onlyProblem } from './decode-helpers.js';

function decodeWith(ext: Ipv6Ext[], extra: Parameters<typeof ipv6>[0] = {}) {
  return decodeFrame(build(ethernet(), ipv6({ ext, ...extra }), tcp({ dport: 22 }), payload(11)));
}

describe('IPv6', () => {
  it('no extension headers', () => {
    const { outcome, seg } = decodeWith([], { hopLimit: 9 });
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.ipVersion, 6);
    assert.equal(seg.ttl, 9);
    assert.equal(seg.ipId, -1);
    assert.equal(seg.payloadLen, 11);
    assert.equal(seg.checksumOk, 1);
  });

  it('walks hop-by-hop, destination options, routing, an atomic fragment header and AH', () => {
    const ext: Ipv6Ext[] = [
      { type: 'hop-by-hop', options: Buffer.from([5, 2, 0, 0]) }, // router alert
      { type: 'destination', options: Buffer.alloc(12, 0) },
      { type: 'routing', routingType: 4, segmentsLeft: 0, addresses: ['2001:db8::2'] },
      { type: 'fragment', offset: 0, more: false },
      { type: 'ah', icvBytes: 12 },
      { type: 'destination' },
    ];
    const { outcome, seg } = decodeWith(ext);
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.dstPort, 22);
    assert.equal(seg.payloadLen, 11);
    assert.equal(seg.checksumOk, 1);
  });

  it('a routing header with segments left: the checksum uses the final destination (types 0, 2, 4)', () => {
    for (const routingType of [0, 2, 4]) {
      const addresses = routingType === 2 ? ['2001:db8:ffff::9'] : ['2001:db8:ffff::9', '2001:db8:eeee::8'];
      const { seg } = decodeWith([{ type: 'routing', routingType, segmentsLeft: 1, addresses }]);
      assert.equal(seg.checksumOk, 1, `routing type ${routingType}`);
      // The addresses of the segment are those of the IPv6 header.
      assert.deepEqual([...seg.dstAddr], addressWords('2001:db8::2'));
    }
  });

  it('an unknown routing type with segments left makes the checksum not verifiable', () => {
    const { outcome, seg } = decodeWith([
      { type: 'routing', routingType: 3, segmentsLeft: 1, addresses: ['2001:db8::9'] },
    ]);
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.checksumOk, -1);
  });

  it('ESP is NotTcp (esp); no next header is NotTcp (ipv6-other)', () => {
    const esp = decodeFrame(build(ethernet(), ipv6({ nextHeader: 50 }), payload(40)));
    assert.equal(esp.outcome, DecodeOutcome.NotTcp);
    assert.equal(esp.stats.notTcpByKind.get('esp'), 1);
    const none = decodeFrame(build(ethernet(), ipv6({ ext: [{ type: 'destination' }], nextHeader: 59 })));
    assert.equal(none.outcome, DecodeOutcome.NotTcp);
    assert.equal(none.stats.notTcpByKind.get('ipv6-other'), 1);
  });

  it('more than 16 extension headers is Malformed (too_many_ipv6_extension_headers)', () => {
    const ext: Ipv6Ext[] = Array.from({ length: 17 }, () => ({ type: 'destination' }));
    const { outcome, stats } = decodeWith(ext);
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'too_many_ipv6_extension_headers');
  });

  it('an extension header longer than the payload length is Malformed', () => {
    const frame = build(
      ethernet(),
      ipv6({ ext: [{ type: 'destination', options: Buffer.alloc(30) }], payloadLength: 16 }),
      tcp(),
    );
    const { outcome, stats } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'ipv6_extension_header_exceeds_payload');
  });

  it('jumbo payload: length 0 and the hop-by-hop jumbo option give the real length', () => {
    const big = 70_000;
    const frame = build(ethernet(), ipv6({ ext: [{ type: 'hop-by-hop', jumbo: true }] }), tcp(), payload(big));
    assert.equal(frame.readUInt16BE(14 + 4), 0);
    const { outcome, seg } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.payloadLen, big);
    assert.equal(seg.checksumOk, 1);
    // Cut by the snap length: the length still comes from the jumbo option.
    const cut = decodeFrame(frame.subarray(0, 2000), 1, { origLen: frame.length });
    assert.equal(cut.seg.payloadLen, big);
    assert.equal(cut.seg.truncated, true);
    assert.equal(cut.seg.payloadCaptured, 2000 - 14 - 40 - 8 - 20);
  });

  it('payload length 0 without a jumbo option: the wire length is used, checksum not verifiable', () => {
    const { outcome, seg } = decodeFrame(build(ethernet(), ipv6({ payloadLength: 0 }), tcp(), payload(500)));
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.payloadLen, 500);
    assert.equal(seg.checksumOk, -1);
  });

  it('trims Ethernet padding to the payload length', () => {
    const frame = Buffer.concat([build(ethernet(), ipv6(), tcp(), payload(2)), Buffer.alloc(8)]);
    const { seg } = decodeFrame(frame);
    assert.equal(seg.payloadLen, 2);
    assert.equal(seg.checksumOk, 1);
  });

  it('a version other than 6 behind EtherType 0x86dd is Malformed (bad_ipv6_version)', () => {
    const frame = build(ethernet(), ipv6(), tcp());
    frame[14] = 0x46;
    const { outcome, stats } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'bad_ipv6_version');
  });

  it('addresses are four words in network order', () => {
    const { seg } = decodeFrame(build(ethernet(), ipv6({ src: '2001:db8:1:2:3:4:5:6', dst: 'fe80::1' }), tcp()));
    assert.deepEqual([...seg.srcAddr], [0x20010db8, 0x00010002, 0x00030004, 0x00050006]);
    assert.deepEqual([...seg.dstAddr], [0xfe800000, 0, 0, 1]);
  });
});
