/**
 * The frames our builders make, read by tshark: tshark must find TCP in exactly the frames we do, with the same
 * ports, numbers, flags, payload length and checksum verdict. This checks the builders (their checksums and
 * layouts) and the decoder against an independent dissector, for every link type and encapsulation.
 */
import { describe, it, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Decoder } from '../../src/decode/decoder.js';
import { DecodeOutcome, newTcpSegment } from '../../src/decode/segment.js';
import {
  ACK,
  FIN,
  LINKTYPE,
  NS,
  PSH,
  SYN,
  arp,
  build,
  erspan2,
  erspan3,
  ethernet,
  fabricPath,
  fragmentIpv4,
  fragmentIpv6,
  geneve,
  gre,
  gtpu,
  icmp,
  icmpv6,
  ipPacket,
  ipv4,
  ipv6,
  loopHeader,
  mpls,
  nullHeader,
  packet,
  padEthernet,
  payload,
  pcapFile,
  ppp,
  pppoe,
  pptpGre,
  sll,
  sll2,
  tcp,
  tcpOpt,
  teredo,
  udp,
  vlan,
  vxlan,
  withTrailer,
  type Layer,
} from '../helpers/frames.js';
import { tshark, tsharkMissing } from './decode-helpers.js';

const skip = tsharkMissing();
const dir = skip ? '' : fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-decode-'));
after(() => {
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** A distinct segment per frame so that a mix-up shows. */
function seg(extra: Partial<Parameters<typeof tcp>[0]> = {}): Layer {
  n++;
  return tcp({
    sport: 10000 + n,
    dport: 20000 + n,
    seq: (0x10000000 * n + 7) >>> 0,
    ack: n * 1000,
    flags: PSH | ACK,
    ...extra,
  });
}
const inner4 = (): Layer[] => [ipv4({ src: '198.51.100.10', dst: '198.51.100.20' }), seg(), payload(n + 3)];
const inner6 = (): Layer[] => [ipv6({ src: '2001:db8:1::10', dst: '2001:db8:2::20' }), seg(), payload(n + 5)];
const outer4 = () => ipv4({ src: '192.0.2.1', dst: '192.0.2.2' });
const outer6 = () => ipv6({ src: '2001:db8::1', dst: '2001:db8::2' });

function ethernetFrames(): Buffer[] {
  const frames: Buffer[] = [
    build(ethernet(), ...inner4()),
    build(ethernet(), ...inner6()),
    padEthernet(build(ethernet(), ipv4(), seg({ flags: FIN | ACK }))),
    build(
      ethernet(),
      ipv4({ options: Buffer.from([0x94, 4, 0, 0]) }),
      seg({
        flags: SYN,
        options: [
          tcpOpt.mss(1460),
          tcpOpt.sackPermitted(),
          tcpOpt.timestamps(1, 0),
          tcpOpt.nop(),
          tcpOpt.windowScale(7),
        ],
      }),
    ),
    build(ethernet(), ipv4(), seg({ flags: SYN | ACK | NS }), payload(1)),
    build(ethernet(), ipv4(), seg({ badChecksum: true }), payload(33)),
    build(ethernet(), ipv6(), seg({ badChecksum: true }), payload(34)),
    build(
      ethernet(),
      ipv6({
        ext: [
          { type: 'hop-by-hop', options: Buffer.from([5, 2, 0, 0]) },
          { type: 'destination' },
          { type: 'routing', routingType: 4, segmentsLeft: 1, addresses: ['2001:db8::99'] },
          { type: 'ah' },
        ],
      }),
      seg(),
      payload(9),
    ),
    build(ethernet(), vlan(10), vlan(20, { tpid: 0x88a8 }), ...inner4()),
    build(ethernet(), vlan(10, { tpid: 0x88a8 }), vlan(20), ...inner6()),
    build(ethernet(), mpls(16), mpls(17), ...inner4()),
    build(ethernet(), vlan(5), mpls(100), ...inner6()),
    build(ethernet(), pppoe(), ...inner4()),
    build(ethernet(), pppoe(), ...inner6()),
    // Wireshark's FabricPath dissector takes the last 4 bytes for an FCS: give it one (we trim by IP length).
    withTrailer(build(ethernet(), fabricPath(), ethernet(), ...inner4()), Buffer.from([0xde, 0xad, 0xbe, 0xef])),
    build(ethernet(), outer4(), gre(), ...inner4()),
    build(ethernet(), outer4(), gre({ key: 5, seq: 9, checksum: true }), ...inner6()),
    build(ethernet(), outer6(), gre({ key: 1 }), ethernet(), ...inner4()),
    build(ethernet(), outer4(), pptpGre({ seq: 1 }), ppp(), ...inner4()),
    build(ethernet(), outer4(), gre({ seq: 3 }), erspan2(), ethernet(), ...inner4()),
    build(ethernet(), outer4(), gre({ seq: 3 }), erspan3(), ethernet(), ...inner4()),
    build(ethernet(), outer4(), udp(), vxlan(), ethernet(), ...inner4()),
    build(ethernet(), outer6(), udp(), vxlan(), ethernet(), vlan(7), ...inner6()),
    build(
      ethernet(),
      outer4(),
      udp(),
      geneve({ options: Buffer.from('0102030400000000', 'hex') }),
      ethernet(),
      ...inner4(),
    ),
    build(ethernet(), outer4(), udp({ dport: 3544 }), teredo(), ...inner6()),
    build(ethernet(), outer4(), udp({ sport: 3544, dport: 50001 }), teredo({ origin: true }), ...inner6()),
    build(ethernet(), outer4(), udp({ sport: 5906 }), gtpu(), ...inner4()),
    build(ethernet(), outer4(), udp({ sport: 2152, dport: 2152 }), gtpu({ seq: 4 }), ...inner6()),
    build(ethernet(), outer4(), ...inner4()),
    build(ethernet(), outer4(), ...inner6()),
    build(ethernet(), outer6(), ...inner6()),
    build(ethernet(), outer6(), ...inner4()),
    // Not TCP.
    build(ethernet(), arp()),
    build(ethernet(), ipv4(), udp(), payload(20)),
    build(ethernet(), ipv4(), icmp({ type: 8 }), payload(16)),
    build(ethernet(), ipv4(), icmp({ type: 3, code: 3 }), ipv4({ src: '198.51.100.2', dst: '192.0.2.1' }), seg()),
    build(ethernet(), ipv6(), icmpv6({ type: 1, code: 4 }), ipv6({ src: '2001:db8::2', dst: '2001:db8::1' }), seg()),
    build(ethernet(), ipv4(), udp({ dport: 3544 }), teredo(), ipv6(), icmpv6({ type: 1 }), ipv6(), seg()),
  ];
  // Fragmented datagrams: tshark rebuilds them in the last fragment, as we do.
  for (const piece of fragmentIpv4(build(ipv4({ id: 321 }), seg(), payload(2500)), 1000))
    frames.push(build(ethernet(), ipPacket(piece)));
  for (const piece of fragmentIpv6(build(ipv6(), seg(), payload(2500)), 1000))
    frames.push(build(ethernet(), ipPacket(piece)));
  const gtpOuter = build(ipv4({ id: 99 }), udp({ sport: 5906 }), gtpu(), ipv4(), seg(), payload(1400));
  for (const piece of fragmentIpv4(gtpOuter, 1200)) frames.push(build(ethernet(), ipPacket(piece)));
  return frames;
}

const FILES: Array<[string, number, () => Buffer[]]> = [
  ['ethernet', LINKTYPE.ETHERNET, ethernetFrames],
  ['sll', LINKTYPE.LINUX_SLL, () => [build(sll(), ...inner4()), build(sll({ packetType: 4 }), vlan(9), ...inner6())]],
  ['sll2', LINKTYPE.LINUX_SLL2, () => [build(sll2(), ...inner4()), build(sll2(), ...inner6())]],
  [
    'null',
    LINKTYPE.NULL,
    () => [
      build(nullHeader(), ...inner4()),
      ...[24, 28, 30].map((family) => build(nullHeader({ family }), ...inner6())),
    ],
  ],
  ['loop', LINKTYPE.LOOP, () => [build(loopHeader(), ...inner4()), build(loopHeader({ family: 24 }), ...inner6())]],
  ['raw', LINKTYPE.RAW, () => [build(...inner4()), build(...inner6())]],
  ['ipv4', LINKTYPE.IPV4, () => [build(...inner4())]],
  ['ipv6', LINKTYPE.IPV6, () => [build(...inner6())]],
];

const FIELDS = [
  'frame.number',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.len',
  'tcp.checksum.status',
];

describe('synthetic frames agree with tshark', { skip }, () => {
  for (const [name, linkType, make] of FILES) {
    it(name, () => {
      const frames = make();
      const file = path.join(dir, `${name}.pcap`);
      fs.writeFileSync(file, pcapFile(linkType, frames));
      const rows = tshark(file, [
        '-o',
        'tcp.check_checksum:TRUE',
        '-Y',
        'tcp && !icmp && !icmpv6',
        '-T',
        'fields',
        '-E',
        'occurrence=l',
        ...FIELDS.flatMap((f) => ['-e', f]),
      ]);
      const theirs = rows.map((r) => {
        const c = r.split('\t');
        const status = c[7] === '0' ? 0 : c[7] === '1' ? 1 : -1;
        return [
          Number(c[0]),
          Number(c[1]),
          Number(c[2]),
          Number(c[3]),
          Number(c[4]),
          parseInt(c[5]!, 16),
          Number(c[6]),
          status,
        ];
      });
      const decoder = new Decoder();
      const s = newTcpSegment();
      const ours: number[][] = [];
      frames.forEach((f, i) => {
        if (decoder.decode(packet(f, linkType, { frame: i + 1 }), s) === DecodeOutcome.Tcp) {
          ours.push([i + 1, s.srcPort, s.dstPort, s.seq, s.ack, s.flags, s.payloadLen, s.checksumOk]);
        }
      });
      assert.ok(ours.length > 0);
      assert.deepEqual(ours, theirs);
      // tshark's plain "tcp" filter also matches ICMP errors that quote a TCP header: those are what we count
      // apart as icmpQuotingTcp.
      const plain = tshark(file, ['-Y', 'tcp', '-T', 'fields', '-e', 'frame.number']).length;
      assert.equal(plain - theirs.length, decoder.stats.icmpQuotingTcp);
      if (name === 'ethernet') assert.equal(decoder.stats.icmpQuotingTcp, 3);
    });
  }
});
