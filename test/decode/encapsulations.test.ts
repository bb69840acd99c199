/**
 * VLAN stacks and every tunnel: the inner TCP segment is decoded like any other, seg.tunnel names the path from
 * the outside in, VLAN ids go to seg.vlans (a VLAN is not a tunnel).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DecodeOutcome } from '../../src/decode/segment.js';
import {
  SYN,
  addressWords,
  build,
  erspan2,
  erspan3,
  ethernet,
  fabricPath,
  geneve,
  gre,
  gtpu,
  ipv4,
  ipv6,
  mpls,
  payload,
  ppp,
  pppoe,
  pptpGre,
  pwControlWord,
  teredo,
  tcp,
  udp,
  vlan,
  vxlan,
  type Layer,
} from '../helpers/frames.js';
import { decodeFrame, onlyProblem } from './decode-helpers.js';

const INNER4 = { src: '198.51.100.7', dst: '198.51.100.8' };
const INNER6 = { src: '2001:db8:aa::7', dst: '2001:db8:bb::8' };
const OUTER4 = { src: '192.0.2.1', dst: '192.0.2.2' };
const OUTER6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const SEG = { sport: 1234, dport: 80, seq: 77, flags: SYN };

/** Decodes `frame` and checks that the inner segment (inner v4 or v6 addresses) was found with this path. */
function expectInner(frame: Buffer, tunnel: string, inner: 'v4' | 'v6', vlans: number[] = []): void {
  const { outcome, seg, stats } = decodeFrame(frame);
  assert.equal(outcome, DecodeOutcome.Tcp, `outcome ${outcome}, problems ${[...stats.problems.keys()]}`);
  const a = inner === 'v4' ? INNER4 : INNER6;
  assert.deepEqual([...seg.srcAddr], addressWords(a.src));
  assert.deepEqual([...seg.dstAddr], addressWords(a.dst));
  assert.equal(seg.srcPort, SEG.sport);
  assert.equal(seg.seq, SEG.seq);
  assert.equal(seg.flags, SYN);
  assert.equal(seg.payloadLen, 3);
  assert.equal(seg.checksumOk, 1);
  assert.equal(seg.tunnel, tunnel);
  assert.deepEqual([...seg.vlans.subarray(0, seg.vlanCount)], vlans);
  assert.equal(stats.tunnelled, tunnel === '' ? 0 : 1);
}

const tcp4 = (): Layer[] => [ipv4(INNER4), tcp(SEG), payload(3)];
const tcp6 = (): Layer[] => [ipv6(INNER6), tcp(SEG), payload(3)];

describe('VLAN tags', () => {
  it('802.1Q, 802.1ad and 0x9100 stacks record the ids outermost first', () => {
    expectInner(build(ethernet(), vlan(100), ...tcp4()), '', 'v4', [100]);
    expectInner(build(ethernet(), vlan(200, { tpid: 0x88a8 }), vlan(300), ...tcp6()), '', 'v6', [200, 300]);
    expectInner(
      build(ethernet(), vlan(1, { tpid: 0x9100 }), vlan(2, { tpid: 0x9100 }), vlan(4095), ...tcp4()),
      '',
      'v4',
      [1, 2, 4095],
    );
  });

  it('keeps the first four ids of a deeper stack', () => {
    expectInner(build(ethernet(), vlan(1), vlan(2), vlan(3), vlan(4), vlan(5), ...tcp4()), '', 'v4', [1, 2, 3, 4]);
  });

  it('more than 8 tags is Malformed (too_many_vlan_tags)', () => {
    const tags = Array.from({ length: 9 }, (_, i) => vlan(i + 1));
    const { outcome, stats } = decodeFrame(build(ethernet(), ...tags, ...tcp4()));
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'too_many_vlan_tags');
  });

  it('a VLAN inside a tunnel is recorded too', () => {
    expectInner(
      build(ethernet(), vlan(10), ipv4(OUTER4), udp(), vxlan(), ethernet(), vlan(20), ...tcp4()),
      'vxlan',
      'v4',
      [10, 20],
    );
  });
});

describe('MPLS', () => {
  it('a label stack over IPv4 and IPv6 (first nibble after the bottom of stack)', () => {
    expectInner(build(ethernet(), mpls(16), ...tcp4()), 'mpls', 'v4');
    expectInner(build(ethernet(), mpls(16), mpls(17), mpls(18), ...tcp6()), 'mpls', 'v6');
  });

  it('after a VLAN tag (as in mixed-vlan-mpls.pcap)', () => {
    expectInner(build(ethernet(), vlan(7), mpls(100), mpls(200), ...tcp4()), 'mpls', 'v4', [7]);
  });

  it('multicast MPLS (0x8848)', () => {
    expectInner(build(ethernet({ type: 0x8848 }), mpls(16), ...tcp4()), 'mpls', 'v4');
  });

  it('an Ethernet pseudowire with a control word', () => {
    expectInner(
      build(ethernet(), mpls(16), mpls(17), pwControlWord(5), ethernet(), vlan(9), ...tcp4()),
      'mpls',
      'v4',
      [9],
    );
  });

  it('another first nibble is NotTcp (mpls-other)', () => {
    const { outcome, stats } = decodeFrame(build(ethernet(), mpls(16), payload(Buffer.from([0x1f, 0, 0, 0, 0, 0]))));
    assert.equal(outcome, DecodeOutcome.NotTcp);
    assert.equal(stats.notTcpByKind.get('mpls-other'), 1);
  });

  it('more than 16 labels is Malformed (too_many_mpls_labels)', () => {
    const labels = Array.from({ length: 17 }, (_, i) => mpls(i + 16));
    const { outcome, stats } = decodeFrame(build(ethernet(), ...labels, ...tcp4()));
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'too_many_mpls_labels');
  });
});

describe('PPPoE and FabricPath', () => {
  it('PPPoE session with IPv4 (0x0021) and IPv6 (0x0057)', () => {
    expectInner(build(ethernet(), pppoe(), ...tcp4()), 'pppoe', 'v4');
    expectInner(build(ethernet(), vlan(3), pppoe(), ...tcp6()), 'pppoe', 'v6', [3]);
  });

  it('PPPoE carrying LCP is NotTcp (ppp-other); discovery is pppoe-discovery', () => {
    const lcp = decodeFrame(build(ethernet(), pppoe(), payload(Buffer.from([1, 1, 0, 4]), { pppProto: 0xc021 })));
    assert.equal(lcp.outcome, DecodeOutcome.NotTcp);
    assert.equal(lcp.stats.notTcpByKind.get('ppp-other'), 1);
    const disc = decodeFrame(build(ethernet({ type: 0x8863 }), payload(20)));
    assert.equal(disc.stats.notTcpByKind.get('pppoe-discovery'), 1);
  });

  it('PPPoE length trims padding', () => {
    const frame = Buffer.concat([build(ethernet(), pppoe(), ...tcp4()), Buffer.alloc(6, 0xee)]);
    expectInner(frame, 'pppoe', 'v4');
  });

  it('Cisco FabricPath: 0x8903, FTAG/TTL, then the inner Ethernet frame', () => {
    expectInner(build(ethernet(), fabricPath(), ethernet(), ...tcp4()), 'fabricpath', 'v4');
    expectInner(build(ethernet(), fabricPath(), ethernet(), vlan(33), ...tcp6()), 'fabricpath', 'v6', [33]);
  });
});

describe('GRE', () => {
  it('IPv4 and IPv6 payloads, with and without checksum, key and sequence', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), gre(), ...tcp4()), 'gre', 'v4');
    expectInner(build(ethernet(), ipv4(OUTER4), gre({ checksum: true, key: 9, seq: 1 }), ...tcp6()), 'gre', 'v6');
    expectInner(build(ethernet(), ipv6(OUTER6), gre({ key: 0xffffffff }), ...tcp4()), 'gre', 'v4');
  });

  it('transparent Ethernet bridging (0x6558)', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), gre({ key: 5 }), ethernet(), vlan(44), ...tcp4()), 'gre', 'v4', [44]);
  });

  it('MPLS over GRE', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), gre(), mpls(30), ...tcp4()), 'gre/mpls', 'v4');
  });

  it('PPTP (version 1) with PPP, with and without address/control and protocol compression', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), pptpGre({ seq: 1 }), ppp(), ...tcp4()), 'gre', 'v4');
    expectInner(
      build(
        ethernet(),
        ipv4(OUTER4),
        pptpGre({ seq: 2, ack: 1 }),
        ppp({ addressControl: false, compressProtocol: true }),
        ...tcp4(),
      ),
      'gre',
      'v4',
    );
    expectInner(
      build(ethernet(), ipv4(OUTER4), pptpGre({ seq: 3 }), ppp({ compressProtocol: true }), ...tcp6()),
      'gre',
      'v6',
    );
  });

  it('a PPTP acknowledgment without payload is NotTcp (gre-other)', () => {
    const { outcome, stats } = decodeFrame(build(ethernet(), ipv4(OUTER4), pptpGre({ ack: 1 })));
    assert.equal(outcome, DecodeOutcome.NotTcp);
    assert.equal(stats.notTcpByKind.get('gre-other'), 1);
  });

  it('routing present, unknown versions and protocols are NotTcp (gre-other)', () => {
    for (const g of [gre({ routing: true }), gre({ protocol: 0x1234 })]) {
      const { outcome, stats } = decodeFrame(build(ethernet(), ipv4(OUTER4), g, ...tcp4()));
      assert.equal(outcome, DecodeOutcome.NotTcp);
      assert.equal(stats.notTcpByKind.get('gre-other'), 1);
    }
    const v2 = build(ethernet(), ipv4(OUTER4), gre(), ...tcp4());
    v2[14 + 20 + 1] = 2; // version 2
    assert.equal(decodeFrame(v2).stats.notTcpByKind.get('gre-other'), 1);
  });

  it('ERSPAN type I (no sequence), II and III (with and without sub-header)', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), gre({ protocol: 0x88be }), ethernet(), ...tcp4()), 'gre/erspan', 'v4');
    expectInner(
      build(ethernet(), ipv4(OUTER4), gre({ seq: 7 }), erspan2({ vlan: 5 }), ethernet(), ...tcp4()),
      'gre/erspan',
      'v4',
    );
    expectInner(build(ethernet(), ipv4(OUTER4), gre({ seq: 7 }), erspan3(), ethernet(), ...tcp6()), 'gre/erspan', 'v6');
    expectInner(
      build(ethernet(), ipv4(OUTER4), gre({ seq: 7 }), erspan3({ subheader: true }), ethernet(), ...tcp4()),
      'gre/erspan',
      'v4',
    );
  });
});

describe('IP in IP', () => {
  it('IPv4 in IPv4 (4), IPv4 in IPv6, IPv6 in IPv6 (41): ip-in-ip', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), ...tcp4()), 'ip-in-ip', 'v4');
    expectInner(build(ethernet(), ipv6(OUTER6), ...tcp4()), 'ip-in-ip', 'v4');
    expectInner(build(ethernet(), ipv6(OUTER6), ...tcp6()), 'ip-in-ip', 'v6');
  });

  it('IPv6 in IPv4 (41): 6in4', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), ...tcp6()), '6in4', 'v6');
  });

  it('nesting deeper than 8 encapsulations is Malformed (too_many_encapsulations)', () => {
    const eight = Array.from({ length: 8 }, () => ipv4(OUTER4));
    expectInner(build(ethernet(), ...eight, ...tcp4()), Array(8).fill('ip-in-ip').join('/'), 'v4');
    const nine = Array.from({ length: 9 }, () => ipv4(OUTER4));
    const { outcome, stats } = decodeFrame(build(ethernet(), ...nine, ...tcp4()));
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'too_many_encapsulations');
  });
});

describe('UDP tunnels', () => {
  it('VXLAN (4789) as destination or source port', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), udp(), vxlan(), ethernet(), ...tcp4()), 'vxlan', 'v4');
    expectInner(
      build(ethernet(), ipv6(OUTER6), udp({ sport: 4789, dport: 60000 }), vxlan(), ethernet(), ...tcp6()),
      'vxlan',
      'v6',
    );
  });

  it('Geneve (6081) with options, carrying Ethernet or IP', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), udp(), geneve(), ethernet(), ...tcp4()), 'geneve', 'v4');
    const opts = Buffer.from('0102030400000000aabbccdd', 'hex');
    expectInner(
      build(ethernet(), ipv4(OUTER4), udp(), geneve({ options: opts }), ethernet(), ...tcp6()),
      'geneve',
      'v6',
    );
    expectInner(build(ethernet(), ipv4(OUTER4), udp(), geneve({ options: opts }), ...tcp4()), 'geneve', 'v4');
  });

  it('Teredo (3544 either port), plain, with origin indication, with authentication and origin', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), udp({ dport: 3544 }), teredo(), ...tcp6()), 'teredo', 'v6');
    expectInner(
      build(ethernet(), ipv4(OUTER4), udp({ sport: 3544, dport: 40000 }), teredo({ origin: true }), ...tcp6()),
      'teredo',
      'v6',
    );
    expectInner(
      build(ethernet(), ipv4(OUTER4), udp(), teredo({ auth: { id: 3, auth: 5 }, origin: true }), ...tcp6()),
      'teredo',
      'v6',
    );
  });

  it('Teredo carrying something that is not IPv6 is plain UDP', () => {
    const { outcome, stats } = decodeFrame(build(ethernet(), ipv4(OUTER4), udp(), teredo(), payload('\x45not ipv6')));
    assert.equal(outcome, DecodeOutcome.NotTcp);
    assert.equal(stats.notTcpByKind.get('udp'), 1);
  });

  it('GTP-U (2152 either port): plain, with sequence number, with an extension header chain', () => {
    expectInner(build(ethernet(), ipv4(OUTER4), udp({ sport: 5906 }), gtpu(), ...tcp4()), 'gtp-u', 'v4');
    expectInner(
      build(ethernet(), ipv4(OUTER4), udp({ sport: 2152, dport: 40001 }), gtpu({ seq: 9 }), ...tcp6()),
      'gtp-u',
      'v6',
    );
    const ext: Array<[number, Buffer]> = [
      [0x85, Buffer.from([0x10, 0x05])], // PDU session container
      [0x40, Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05])], // UDP port, longer
    ];
    expectInner(build(ethernet(), ipv4(OUTER4), udp(), gtpu({ ext, npdu: 1 }), ...tcp4()), 'gtp-u', 'v4');
  });

  it('GTP-U messages other than G-PDU, and other versions, are plain UDP', () => {
    for (const g of [gtpu({ messageType: 1 }), gtpu({ version: 2 })]) {
      const { outcome, stats } = decodeFrame(build(ethernet(), ipv4(OUTER4), udp(), g, ...tcp4()));
      assert.equal(outcome, DecodeOutcome.NotTcp);
      assert.equal(stats.notTcpByKind.get('udp'), 1);
    }
  });

  it('a GTP-U extension header of length 0 is Malformed (bad_gtp_extension_length)', () => {
    const frame = build(ethernet(), ipv4(OUTER4), udp(), gtpu({ ext: [[0x85, Buffer.from([1, 2])]] }), ...tcp4());
    frame[14 + 20 + 8 + 12] = 0;
    const { outcome, stats } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'bad_gtp_extension_length');
  });

  it('the lower port is tried first (Wireshark order)', () => {
    // 2152 < 4789: read as GTP-U, whose first byte (VXLAN flags 0x08) is not GTPv1, so plain UDP.
    const { outcome, stats } = decodeFrame(
      build(ethernet(), ipv4(OUTER4), udp({ sport: 2152, dport: 4789 }), vxlan(), ethernet(), ...tcp4()),
    );
    assert.equal(outcome, DecodeOutcome.NotTcp);
    assert.equal(stats.notTcpByKind.get('udp'), 1);
  });
});

describe('nesting', () => {
  it('names the whole path from the outside in', () => {
    const frame = build(
      ethernet(),
      vlan(10),
      mpls(100),
      ipv4(OUTER4),
      gre({ key: 1 }),
      ethernet(),
      vlan(20),
      ipv6(OUTER6),
      udp(),
      vxlan(),
      ethernet(),
      ...tcp4(),
    );
    expectInner(frame, 'mpls/gre/vxlan', 'v4', [10, 20]);
  });

  it('GTP-U inside GRE inside PPPoE', () => {
    expectInner(
      build(ethernet(), pppoe(), ipv4(OUTER4), gre(), ipv4(OUTER4), udp(), gtpu(), ...tcp6()),
      'pppoe/gre/gtp-u',
      'v6',
    );
  });
});
