/** Every link type the decoder knows, each carrying the same TCP segment; and the ones it does not. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DecodeOutcome } from '../../src/decode/segment.js';
import {
  ACK,
  LINKTYPE,
  PSH,
  addressWords,
  build,
  ethernet,
  ipv4,
  ipv6,
  loopHeader,
  nullHeader,
  payload,
  sll,
  sll2,
  tcp,
  type Layer,
} from '../helpers/frames.js';
import { decodeFrame, onlyProblem } from './decode-helpers.js';

const V4 = { src: '192.0.2.10', dst: '198.51.100.20' };
const V6 = { src: '2001:db8::10', dst: '2001:db8:1::20' };
const TCP = { sport: 51000, dport: 443, seq: 0xfffffff0, ack: 0x80000001, flags: PSH | ACK, window: 501 };

function expectSegment(frame: Buffer, linkType: number, ip: 'v4' | 'v6'): void {
  const { outcome, seg, stats } = decodeFrame(frame, linkType);
  assert.equal(outcome, DecodeOutcome.Tcp);
  assert.equal(stats.tcp, 1);
  const addrs = ip === 'v4' ? V4 : V6;
  assert.equal(seg.ipVersion, ip === 'v4' ? 4 : 6);
  assert.deepEqual([...seg.srcAddr], addressWords(addrs.src));
  assert.deepEqual([...seg.dstAddr], addressWords(addrs.dst));
  assert.equal(seg.srcPort, TCP.sport);
  assert.equal(seg.dstPort, TCP.dport);
  assert.equal(seg.seq, TCP.seq);
  assert.equal(seg.ack, TCP.ack);
  assert.equal(seg.flags, TCP.flags);
  assert.equal(seg.window, TCP.window);
  assert.equal(seg.payloadLen, 5);
  assert.equal(seg.payloadCaptured, 5);
  assert.equal(frame.subarray(seg.payloadOffset, seg.payloadOffset + 5).toString(), 'hello');
  assert.equal(seg.checksumOk, 1);
  assert.equal(seg.tunnel, '');
}

function v4(link: Layer[]): Buffer {
  return build(...link, ipv4(V4), tcp(TCP), payload('hello'));
}
function v6(link: Layer[]): Buffer {
  return build(...link, ipv6(V6), tcp(TCP), payload('hello'));
}

describe('link types', () => {
  it('Ethernet (1), IPv4 and IPv6', () => {
    expectSegment(v4([ethernet()]), LINKTYPE.ETHERNET, 'v4');
    expectSegment(v6([ethernet()]), LINKTYPE.ETHERNET, 'v6');
  });

  it('Linux cooked v1 (113)', () => {
    expectSegment(v4([sll()]), LINKTYPE.LINUX_SLL, 'v4');
    expectSegment(v6([sll({ packetType: 4 })]), LINKTYPE.LINUX_SLL, 'v6');
  });

  it('Linux cooked v2 (276)', () => {
    expectSegment(v4([sll2()]), LINKTYPE.LINUX_SLL2, 'v4');
    expectSegment(v6([sll2()]), LINKTYPE.LINUX_SLL2, 'v6');
  });

  it('raw IP (101, 12, 14) by version nibble, and IPv4-only / IPv6-only (228, 229)', () => {
    for (const lt of [101, 12, 14]) {
      expectSegment(v4([]), lt, 'v4');
      expectSegment(v6([]), lt, 'v6');
    }
    expectSegment(v4([]), LINKTYPE.IPV4, 'v4');
    expectSegment(v6([]), LINKTYPE.IPV6, 'v6');
  });

  it('BSD NULL (0): family in either byte order; AF_INET6 as 24, 28 and 30', () => {
    expectSegment(v4([nullHeader({ family: 2 })]), LINKTYPE.NULL, 'v4');
    expectSegment(v4([nullHeader({ family: 2, bigEndian: true })]), LINKTYPE.NULL, 'v4');
    for (const family of [24, 28, 30]) {
      expectSegment(v6([nullHeader({ family })]), LINKTYPE.NULL, 'v6');
      expectSegment(v6([nullHeader({ family, bigEndian: true })]), LINKTYPE.NULL, 'v6');
    }
  });

  it('LOOP (108): family in network order only', () => {
    expectSegment(v4([loopHeader({ family: 2 })]), LINKTYPE.LOOP, 'v4');
    expectSegment(v6([loopHeader({ family: 24 })]), LINKTYPE.LOOP, 'v6');
    // A little-endian family is not swapped for LOOP: 0x02000000 is no family we know.
    const { outcome, stats } = decodeFrame(v4([nullHeader({ family: 2 })]), LINKTYPE.LOOP);
    assert.equal(outcome, DecodeOutcome.NotTcp);
    assert.equal(stats.notTcpByKind.get('link-other'), 1);
  });

  it('NULL with an unknown family is NotTcp (link-other)', () => {
    const { outcome, stats } = decodeFrame(v4([nullHeader({ family: 7 })]), LINKTYPE.NULL);
    assert.equal(outcome, DecodeOutcome.NotTcp);
    assert.equal(stats.notTcpByKind.get('link-other'), 1);
  });

  it('SLL netlink and non-EtherType protocols are NotTcp (link-other)', () => {
    const netlink = decodeFrame(build(sll({ arphrd: 824, protocol: 0x0800 }), payload(20)), LINKTYPE.LINUX_SLL);
    assert.equal(netlink.outcome, DecodeOutcome.NotTcp);
    assert.equal(netlink.stats.notTcpByKind.get('link-other'), 1);
    const llc = decodeFrame(build(sll2({ protocol: 0x0004 }), payload(20)), LINKTYPE.LINUX_SLL2);
    assert.equal(llc.stats.notTcpByKind.get('link-other'), 1);
  });

  it('raw IP with a version nibble other than 4 or 6 is Malformed', () => {
    const { outcome, stats } = decodeFrame(Buffer.from([0x50, 0, 0, 20]), LINKTYPE.RAW);
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'bad_ip_version');
  });

  it('an unknown link type is UnknownLinkType, noted as a problem', () => {
    const { outcome, stats } = decodeFrame(v4([ethernet()]), 147);
    assert.equal(outcome, DecodeOutcome.UnknownLinkType);
    assert.equal(stats.unknownLinkType, 1);
    assert.deepEqual(stats.problems.get('unknown_link_type'), { count: 1, frames: [1] });
  });

  it('copies the frame facts from the RawPacket', () => {
    const frame = v4([ethernet()]);
    const { seg } = decodeFrame(frame, 1, { frame: 77, source: 2, tsSec: 1234, tsNs: 987654321, tsDigits: 9 });
    assert.deepEqual([seg.frame, seg.source, seg.tsSec, seg.tsNs, seg.tsDigits], [77, 2, 1234, 987654321, 9]);
  });
});
