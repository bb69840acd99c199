/**
 * Cutting frames one byte at a time (gopacket's `data[:len(data)-1]`, smoltcp's `PACKET_BYTES[..23]`), for
 * every link type and encapsulation: nothing throws, every frame lands in one outcome, and
 *  - cut by the snap length (the wire length still known): TooShort with a `truncated_*` reason until the TCP
 *    header is whole, then TCP with the true payload length and `truncated` set;
 *  - a frame that really ends there (wire length = captured): never Malformed; TCP once the header is whole,
 *    with the payload that is there.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { DecodeOutcome, newTcpSegment } from '../../src/decode/segment.js';
import {
  LINKTYPE,
  SYN,
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
  loopHeader,
  mpls,
  nullHeader,
  packet,
  padEthernet,
  payload,
  ppp,
  pppoe,
  pptpGre,
  pwControlWord,
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
import { assertPartition } from './decode-helpers.js';

const seg4 = (): Layer[] => [ipv4({ options: Buffer.from([1, 1, 1, 0]) }), tcpWithOptions(), payload(12)];
const seg6 = (): Layer[] => [
  ipv6({
    ext: [
      { type: 'hop-by-hop' },
      { type: 'routing', routingType: 4, segmentsLeft: 1, addresses: ['2001:db8::9'] },
      { type: 'ah' },
    ],
  }),
  tcpWithOptions(),
  payload(12),
];
function tcpWithOptions(): Layer {
  return tcp({
    flags: SYN,
    options: [tcpOpt.mss(1460), tcpOpt.sackPermitted(), tcpOpt.timestamps(5, 6), tcpOpt.nop(), tcpOpt.windowScale(7)],
  });
}
const outer4 = () => ipv4({ src: '192.0.2.1', dst: '192.0.2.2' });

const CASES: Array<[string, number, Buffer]> = [
  ['ethernet v4', LINKTYPE.ETHERNET, build(ethernet(), ...seg4())],
  ['ethernet v6 ext chain', LINKTYPE.ETHERNET, build(ethernet(), ...seg6())],
  ['padded 60-byte frame', LINKTYPE.ETHERNET, padEthernet(build(ethernet(), ipv4(), tcp()))],
  ['sll', LINKTYPE.LINUX_SLL, build(sll(), ...seg4())],
  ['sll2', LINKTYPE.LINUX_SLL2, build(sll2(), ...seg6())],
  ['null', LINKTYPE.NULL, build(nullHeader(), ...seg6())],
  ['loop', LINKTYPE.LOOP, build(loopHeader(), ...seg4())],
  ['raw', LINKTYPE.RAW, build(...seg4())],
  ['vlan stack', LINKTYPE.ETHERNET, build(ethernet(), vlan(1, { tpid: 0x88a8 }), vlan(2), ...seg4())],
  ['mpls', LINKTYPE.ETHERNET, build(ethernet(), vlan(3), mpls(16), mpls(17), ...seg6())],
  ['mpls pseudowire', LINKTYPE.ETHERNET, build(ethernet(), mpls(16), pwControlWord(), ethernet(), ...seg4())],
  ['pppoe', LINKTYPE.ETHERNET, build(ethernet(), pppoe(), ...seg4())],
  ['fabricpath', LINKTYPE.ETHERNET, build(ethernet(), fabricPath(), ethernet(), ...seg4())],
  ['gre', LINKTYPE.ETHERNET, build(ethernet(), outer4(), gre({ checksum: true, key: 1, seq: 2 }), ...seg6())],
  ['gre ethernet', LINKTYPE.ETHERNET, build(ethernet(), outer4(), gre(), ethernet(), ...seg4())],
  ['pptp', LINKTYPE.ETHERNET, build(ethernet(), outer4(), pptpGre({ seq: 1, ack: 2 }), ppp(), ...seg4())],
  ['erspan ii', LINKTYPE.ETHERNET, build(ethernet(), outer4(), gre({ seq: 1 }), erspan2(), ethernet(), ...seg4())],
  [
    'erspan iii',
    LINKTYPE.ETHERNET,
    build(ethernet(), outer4(), gre({ seq: 1 }), erspan3({ subheader: true }), ethernet(), ...seg4()),
  ],
  ['vxlan', LINKTYPE.ETHERNET, build(ethernet(), outer4(), udp(), vxlan(), ethernet(), ...seg4())],
  [
    'geneve',
    LINKTYPE.ETHERNET,
    build(ethernet(), outer4(), udp(), geneve({ options: Buffer.alloc(8, 1) }), ethernet(), ...seg6()),
  ],
  [
    'teredo',
    LINKTYPE.ETHERNET,
    build(ethernet(), outer4(), udp(), teredo({ auth: { id: 2, auth: 3 }, origin: true }), ...seg6()),
  ],
  [
    'gtp-u',
    LINKTYPE.ETHERNET,
    build(ethernet(), outer4(), udp(), gtpu({ ext: [[0x85, Buffer.from([1, 2, 3])]] }), ...seg4()),
  ],
  ['ip-in-ip', LINKTYPE.ETHERNET, build(ethernet(), outer4(), ...seg4())],
  ['6in4', LINKTYPE.ETHERNET, build(ethernet(), outer4(), ...seg6())],
];

function decodeCut(frame: Buffer, linkType: number, n: number, origLen: number) {
  const decoder = new Decoder();
  const seg = newTcpSegment();
  const outcome = decoder.decode(packet(frame.subarray(0, n), linkType, { origLen }), seg);
  assertPartition(decoder.stats);
  return { outcome, seg, stats: decoder.stats };
}

describe('frames cut one byte at a time', () => {
  for (const [name, linkType, frame] of CASES) {
    it(name, () => {
      const whole = decodeCut(frame, linkType, frame.length, frame.length);
      assert.equal(whole.outcome, DecodeOutcome.Tcp, `${name} whole`);
      const headerEnd = whole.seg.payloadOffset;
      const payloadEnd = headerEnd + whole.seg.payloadLen;
      const fullLen = whole.seg.payloadLen;

      for (let n = 0; n < frame.length; n++) {
        // Cut by the snap length: the frame had all its bytes on the wire.
        const snap = decodeCut(frame, linkType, n, frame.length);
        if (n < headerEnd) {
          assert.equal(snap.outcome, DecodeOutcome.TooShort, `${name} snap ${n}`);
          const reason = [...snap.stats.problems.keys()][0]!;
          assert.match(reason, /^truncated_/, `${name} snap ${n}`);
        } else {
          assert.equal(snap.outcome, DecodeOutcome.Tcp, `${name} snap ${n}`);
          assert.equal(snap.seg.payloadLen, fullLen);
          assert.equal(snap.seg.payloadCaptured, Math.min(n, payloadEnd) - headerEnd);
          assert.equal(snap.seg.truncated, n < payloadEnd);
          assert.equal(snap.seg.checksumOk, n < payloadEnd ? -1 : 1);
        }

        // The frame really ends here.
        const cut = decodeCut(frame, linkType, n, n);
        assert.notEqual(cut.outcome, DecodeOutcome.Malformed, `${name} cut ${n}: ${[...cut.stats.problems.keys()]}`);
        if (n < headerEnd) {
          assert.ok(cut.outcome === DecodeOutcome.TooShort || cut.outcome === DecodeOutcome.NotTcp, `${name} cut ${n}`);
        } else {
          assert.equal(cut.outcome, DecodeOutcome.Tcp, `${name} cut ${n}`);
          assert.equal(cut.seg.payloadLen, Math.min(n, payloadEnd) - headerEnd);
          assert.equal(cut.seg.truncated, false);
        }
      }
    });
  }
});
