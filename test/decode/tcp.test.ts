/** TCP: header fields, each option, bad option lengths, data offset, checksums over IPv4 and IPv6. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { DecodeOutcome, TCP_NS, newTcpSegment } from '../../src/decode/segment.js';
import {
  ACK,
  CWR,
  ECE,
  FIN,
  NS,
  PSH,
  RST,
  SYN,
  URG,
  build,
  ethernet,
  ipv4,
  ipv6,
  packet,
  payload,
  tcp,
  tcpOpt,
  type TcpOptions,
} from '../helpers/frames.js';
import { decodeFrame, onlyProblem } from './decode-helpers.js';

const v4 = (o: TcpOptions, body: number | string = 0) => decodeFrame(build(ethernet(), ipv4(), tcp(o), payload(body)));
const v6 = (o: TcpOptions, body: number | string = 0) => decodeFrame(build(ethernet(), ipv6(), tcp(o), payload(body)));

describe('TCP header', () => {
  it('ports, sequence numbers (unsigned), window, urgent pointer', () => {
    const { seg } = v4({
      sport: 65535,
      dport: 1,
      seq: 0xffffffff,
      ack: 0x80000000,
      window: 0,
      urgent: 0xabcd,
      flags: URG | ACK,
    });
    assert.deepEqual(
      [seg.srcPort, seg.dstPort, seg.seq, seg.ack, seg.window, seg.urgent],
      [65535, 1, 0xffffffff, 0x80000000, 0, 0xabcd],
    );
  });

  it('every flag, NS as 0x100', () => {
    for (const flags of [FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, NS, SYN | ACK | ECE | CWR | NS, 0x1ff]) {
      assert.equal(v4({ flags }).seg.flags, flags);
    }
    assert.equal(NS, TCP_NS);
  });

  it('payload length and offset', () => {
    const frame = build(ethernet(), ipv4(), tcp({ options: [tcpOpt.mss(1)] }), payload('abcdef'));
    const { seg } = decodeFrame(frame);
    assert.equal(seg.payloadLen, 6);
    assert.equal(seg.payloadCaptured, 6);
    assert.equal(seg.payloadOffset, 14 + 20 + 24);
    assert.equal(frame.subarray(seg.payloadOffset).toString(), 'abcdef');
  });

  it('data offset below 5 is Malformed (bad_tcp_data_offset)', () => {
    for (const dataOffset of [0, 4]) {
      const { outcome, stats } = v4({ dataOffset }, 20);
      assert.equal(outcome, DecodeOutcome.Malformed);
      assert.equal(onlyProblem(stats), 'bad_tcp_data_offset');
    }
  });

  it('data offset past the captured bytes is TooShort (truncated_tcp_header)', () => {
    const frame = build(ethernet(), ipv4(), tcp({ options: [tcpOpt.timestamps(1, 2)] }));
    const { outcome, stats } = decodeFrame(frame.subarray(0, frame.length - 4), 1, { origLen: frame.length });
    assert.equal(outcome, DecodeOutcome.TooShort);
    assert.equal(onlyProblem(stats), 'truncated_tcp_header');
  });

  it('data offset past a trusted IP length is Malformed (tcp_header_exceeds_ip_length)', () => {
    const { outcome, stats } = v4({ dataOffset: 15 }, 8);
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'tcp_header_exceeds_ip_length');
  });
});

describe('TCP options', () => {
  it('MSS', () => {
    const { seg } = v4({ flags: SYN, options: [tcpOpt.mss(1460)] });
    assert.equal(seg.mss, 1460);
    assert.equal(seg.windowScale, -1);
    assert.equal(seg.sackPermitted, false);
    assert.equal(seg.hasTimestamps, false);
    assert.equal(seg.sackCount, 0);
  });

  it('window scale', () => {
    assert.equal(v4({ options: [tcpOpt.nop(), tcpOpt.windowScale(14)] }).seg.windowScale, 14);
    assert.equal(v4({ options: [tcpOpt.windowScale(0)] }).seg.windowScale, 0);
  });

  it('SACK permitted', () => {
    assert.equal(v4({ options: [tcpOpt.sackPermitted()] }).seg.sackPermitted, true);
  });

  it('timestamps', () => {
    const { seg } = v4({ options: [tcpOpt.nop(), tcpOpt.nop(), tcpOpt.timestamps(0xfedcba98, 7)] });
    assert.equal(seg.hasTimestamps, true);
    assert.equal(seg.tsVal, 0xfedcba98);
    assert.equal(seg.tsEcr, 7);
  });

  it('SACK blocks, 1 to 4', () => {
    for (let n = 1; n <= 4; n++) {
      const blocks: Array<[number, number]> = Array.from({ length: n }, (_, i) => [
        0xfffff000 + i * 100,
        0xfffff000 + i * 100 + 50,
      ]);
      const options = n <= 3 ? [tcpOpt.nop(), tcpOpt.nop(), tcpOpt.sack(blocks)] : [tcpOpt.sack(blocks)];
      const { seg } = v4({ options });
      assert.equal(seg.sackCount, n);
      assert.deepEqual([...seg.sackBlocks.subarray(0, 2 * n)], blocks.flat());
    }
  });

  it('a typical SYN: MSS, SACK permitted, timestamps, NOP, window scale', () => {
    const { seg, stats } = v4({
      flags: SYN,
      options: [
        tcpOpt.mss(8960),
        tcpOpt.sackPermitted(),
        tcpOpt.timestamps(100, 0),
        tcpOpt.nop(),
        tcpOpt.windowScale(7),
      ],
    });
    assert.deepEqual(
      [seg.mss, seg.sackPermitted, seg.hasTimestamps, seg.tsVal, seg.windowScale],
      [8960, true, true, 100, 7],
    );
    assert.equal(stats.problems.size, 0);
  });

  it('options are reset between segments', () => {
    const { decoder, seg } = v4({ options: [tcpOpt.mss(1400), tcpOpt.sack([[1, 2]])] });
    assert.equal(seg.mss, 1400);
    const again = build(ethernet(), ipv4(), tcp());
    decoder.decode(packet(again, 1, { frame: 2 }), seg);
    assert.equal(seg.mss, -1);
    assert.equal(seg.sackCount, 0);
  });

  it('EOL ends the list: what follows is not read', () => {
    const { seg, stats } = v4({ options: [tcpOpt.eol(), tcpOpt.mss(1200)] });
    assert.equal(seg.mss, -1);
    assert.equal(stats.problems.size, 0);
  });

  it('unknown options are skipped by their length', () => {
    const { seg, stats } = v4({ options: [tcpOpt.raw(30, 6, Buffer.from([1, 2, 3, 4])), tcpOpt.mss(999)] });
    assert.equal(seg.mss, 999);
    assert.equal(stats.problems.size, 0);
  });

  it('a length below 2 or past the header stops parsing, keeps what came before and the segment', () => {
    for (const bad of [tcpOpt.raw(30, 0), tcpOpt.raw(30, 1), tcpOpt.raw(30, 40)]) {
      const { outcome, seg, stats } = v4({ options: [tcpOpt.mss(1300), bad, tcpOpt.windowScale(3)] }, 4);
      assert.equal(outcome, DecodeOutcome.Tcp);
      assert.equal(seg.mss, 1300);
      assert.equal(seg.windowScale, -1);
      assert.equal(seg.payloadLen, 4);
      assert.equal(onlyProblem(stats), 'bad_tcp_option_length');
    }
  });

  it('an option kind in the last byte, without room for its length, stops parsing', () => {
    const { outcome, stats } = v4({ options: [tcpOpt.nop(), tcpOpt.nop(), tcpOpt.nop(), Buffer.from([2])] });
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(onlyProblem(stats), 'bad_tcp_option_length');
  });

  it('a known option with the wrong length is ignored and noted; parsing goes on', () => {
    const { seg, stats } = v4({
      options: [tcpOpt.raw(2, 3, Buffer.from([5])), tcpOpt.windowScale(2), tcpOpt.raw(5, 7, Buffer.alloc(5))],
    });
    assert.equal(seg.mss, -1);
    assert.equal(seg.windowScale, 2);
    assert.equal(seg.sackCount, 0);
    assert.equal(onlyProblem(stats), 'bad_tcp_option_length');
  });
});

describe('TCP checksum', () => {
  it('good over IPv4 and IPv6, odd and even payload lengths', () => {
    for (const n of [0, 1, 2, 3, 1459, 1460]) {
      assert.equal(v4({}, n).seg.checksumOk, 1, `v4 ${n}`);
      assert.equal(v6({}, n).seg.checksumOk, 1, `v6 ${n}`);
    }
  });

  it('bad over IPv4 and IPv6: counted, the segment still used', () => {
    for (const r of [v4({ badChecksum: true }, 10), v6({ badChecksum: true }, 11)]) {
      assert.equal(r.outcome, DecodeOutcome.Tcp);
      assert.equal(r.seg.checksumOk, 0);
      assert.equal(r.stats.badChecksums, 1);
      assert.equal(r.stats.tcp, 1);
    }
  });

  it('verification can be turned off: every verdict is then -1 (unchecked)', () => {
    const decoder = new Decoder(undefined, { verifyChecksums: false });
    const seg = newTcpSegment();
    decoder.decode(packet(build(ethernet(), ipv4(), tcp({ badChecksum: true }), payload(10))), seg);
    assert.equal(seg.checksumOk, -1);
    decoder.decode(packet(build(ethernet(), ipv6(), tcp(), payload(10))), seg);
    assert.equal(seg.checksumOk, -1);
    assert.equal(decoder.stats.badChecksums, 0);
    assert.equal(decoder.stats.uncheckedChecksums, 2);
  });

  it('a corrupted payload byte is caught', () => {
    const frame = build(ethernet(), ipv4(), tcp(), payload(100));
    frame[frame.length - 37] ^= 0x40;
    assert.equal(decodeFrame(frame).seg.checksumOk, 0);
  });

  it('a checksum field of 0xffff and one of 0 are both judged by the sum', () => {
    // Find payloads whose correct checksum field is 0x0000 or 0xffff-equivalent by search over one byte.
    let seen = 0;
    for (let x = 0; x < 65536 && seen < 2; x++) {
      const frame = build(ethernet(), ipv4(), tcp(), payload(Buffer.from([x >> 8, x & 0xff])));
      const field = frame.readUInt16BE(14 + 20 + 16);
      if (field === 0 || field === 0xffff) {
        assert.equal(decodeFrame(frame).seg.checksumOk, 1);
        seen++;
      }
    }
    assert.ok(seen > 0);
  });
});
