/**
 * IP fragments: counted as Fragment, and rebuilt so that the frame completing a datagram is decoded from the
 * whole of it (as Wireshark shows it), within bounds.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Decoder, type DecoderOptions } from '../../src/decode/decoder.js';
import { DecodeOutcome, newTcpSegment, type TcpSegment } from '../../src/decode/segment.js';
import {
  build,
  ethernet,
  fragmentIpv4,
  fragmentIpv6,
  gtpu,
  ipPacket,
  ipv4,
  ipv6,
  packet,
  payload,
  tcp,
  udp,
} from '../helpers/frames.js';
import { assertPartition } from './decode-helpers.js';

const BODY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 13) & 0xff));

function run(frames: Array<Buffer | { frame: Buffer; tsSec?: number; capLen?: number }>, options: DecoderOptions = {}) {
  const decoder = new Decoder(undefined, options);
  const seg = newTcpSegment();
  const outcomes: number[] = [];
  const segs: Array<TcpSegment | null> = [];
  const payloads: Array<Buffer | null> = [];
  frames.forEach((f, i) => {
    const x = Buffer.isBuffer(f) ? { frame: f } : f;
    const capLen = x.capLen ?? x.frame.length;
    const out = decoder.decode(
      packet(x.frame.subarray(0, capLen), 1, { frame: i + 1, origLen: x.frame.length, tsSec: x.tsSec ?? 1000 }),
      seg,
    );
    outcomes.push(out);
    segs.push(out === DecodeOutcome.Tcp ? { ...seg } : null);
    payloads.push(
      out === DecodeOutcome.Tcp
        ? Buffer.from(decoder.payloadBuffer.subarray(seg.payloadOffset, seg.payloadOffset + seg.payloadCaptured))
        : null,
    );
  });
  assertPartition(decoder.stats);
  return { decoder, outcomes, segs, payloads };
}

const v4Packet = (id = 0x4242) =>
  build(ipv4({ id, src: '192.0.2.5', dst: '192.0.2.6' }), tcp({ sport: 5, dport: 6, seq: 99 }), payload(BODY));
const onEthernet = (ip: Buffer) => build(ethernet(), ipPacket(ip));
const F = DecodeOutcome.Fragment;
const T = DecodeOutcome.Tcp;

describe('IPv4 fragments', () => {
  it('in order: Fragment, Fragment, then the last one decodes the whole segment', () => {
    const pieces = fragmentIpv4(v4Packet(), 1200).map(onEthernet);
    assert.equal(pieces.length, 3);
    const { outcomes, segs, payloads, decoder } = run(pieces);
    assert.deepEqual(outcomes, [F, F, T]);
    const seg = segs[2]!;
    assert.equal(seg.frame, 3);
    assert.equal(seg.payloadLen, BODY.length);
    assert.equal(seg.payloadCaptured, BODY.length);
    assert.equal(seg.checksumOk, 1);
    assert.equal(seg.seq, 99);
    assert.equal(seg.ipId, 0x4242);
    assert.deepEqual(payloads[2], BODY);
    assert.equal(decoder.stats.fragments, 2);
    assert.equal(decoder.stats.tcp, 1);
    assert.equal(decoder.reassemblyStats.datagrams, 1);
  });

  it('out of order: the datagram is decoded in the frame that completes it', () => {
    const [a, b, c] = fragmentIpv4(v4Packet(), 1200).map(onEthernet);
    const { outcomes, payloads } = run([c!, a!, b!]);
    assert.deepEqual(outcomes, [F, F, T]);
    assert.deepEqual(payloads[2], BODY);
  });

  it('a missing piece: every fragment stays Fragment', () => {
    const [a, , c] = fragmentIpv4(v4Packet(), 1200).map(onEthernet);
    const { outcomes, decoder } = run([a!, c!]);
    assert.deepEqual(outcomes, [F, F]);
    assert.equal(decoder.reassemblyStats.datagrams, 0);
  });

  it('datagrams with different ids do not mix', () => {
    const x = fragmentIpv4(v4Packet(1), 1600).map(onEthernet);
    const y = fragmentIpv4(v4Packet(2), 1600).map(onEthernet);
    const { outcomes } = run([x[0]!, y[0]!, y[1]!, x[1]!]);
    assert.deepEqual(outcomes, [F, F, T, T]);
  });

  it('with reassembly off, every fragment is only counted', () => {
    const { outcomes } = run(fragmentIpv4(v4Packet(), 1200).map(onEthernet), { reassemble: false });
    assert.deepEqual(outcomes, [F, F, F]);
  });

  it('a fragment cut by the snap length cannot be placed', () => {
    const [a, b, c] = fragmentIpv4(v4Packet(), 1200).map(onEthernet);
    const { outcomes } = run([a!, { frame: b!, capLen: 100 }, c!]);
    assert.deepEqual(outcomes, [F, F, F]);
  });

  it('pieces more than the timeout apart (packet time) expire', () => {
    const [a, b, c] = fragmentIpv4(v4Packet(), 1200).map(onEthernet);
    const { outcomes, decoder } = run(
      [
        { frame: a!, tsSec: 100 },
        { frame: b!, tsSec: 100 },
        { frame: c!, tsSec: 200 },
      ],
      {
        fragmentTimeoutSec: 30,
      },
    );
    assert.deepEqual(outcomes, [F, F, F]);
    assert.equal(decoder.reassemblyStats.expired, 1);
  });

  it('too many pending datagrams: the oldest is evicted', () => {
    const firsts = [1, 2, 3].map((id) => onEthernet(fragmentIpv4(v4Packet(id), 1600)[0]!));
    const last1 = onEthernet(fragmentIpv4(v4Packet(1), 1600)[1]!);
    const last3 = onEthernet(fragmentIpv4(v4Packet(3), 1600)[1]!);
    const { outcomes, decoder } = run([...firsts, last1, last3], { maxPendingDatagrams: 2 });
    assert.deepEqual(outcomes, [F, F, F, F, T]);
    assert.equal(decoder.reassemblyStats.evicted, 2);
  });

  it('two different ends for one datagram: given up (inconsistent_fragments)', () => {
    const [a, b] = fragmentIpv4(v4Packet(), 1600);
    const shorter = Buffer.from(b!.subarray(0, b!.length - 8));
    shorter.writeUInt16BE(shorter.length, 2);
    const { outcomes, decoder } = run([onEthernet(b!), onEthernet(shorter), onEthernet(a!)]);
    assert.deepEqual(outcomes, [F, F, F]);
    assert.equal(decoder.stats.problems.get('inconsistent_fragments')?.count, 1);
  });

  it('a fragment reaching past 65535 bytes is refused (fragment_too_large)', () => {
    const [, b] = fragmentIpv4(v4Packet(), 1600);
    const far = Buffer.from(b!);
    far.writeUInt16BE(0x1fff, 6); // offset 65528, last fragment
    const { outcomes, decoder } = run([onEthernet(far)]);
    assert.deepEqual(outcomes, [F]);
    assert.equal(decoder.stats.problems.get('fragment_too_large')?.count, 1);
  });

  it('an outer fragmented tunnel packet (GTP-U, as in gtp2_different_udp_port.pcap)', () => {
    const outer = build(
      ipv4({ id: 77 }),
      udp({ sport: 5906 }),
      gtpu(),
      ipv4({ src: '198.51.100.1', dst: '198.51.100.2' }),
      tcp({ dport: 8080 }),
      payload(BODY.subarray(0, 1400)),
    );
    const pieces = fragmentIpv4(outer, 1000).map(onEthernet);
    const { outcomes, segs } = run(pieces);
    assert.deepEqual(outcomes, [F, T]);
    assert.equal(segs[1]!.tunnel, 'gtp-u');
    assert.equal(segs[1]!.dstPort, 8080);
    assert.equal(segs[1]!.payloadLen, 1400);
    assert.equal(segs[1]!.checksumOk, 1);
  });
});

describe('IPv6 fragments', () => {
  const v6Packet = build(
    ipv6({ src: '2001:db8::5', dst: '2001:db8::6' }),
    tcp({ sport: 5, dport: 6, seq: 99 }),
    payload(BODY),
  );

  it('rebuilt from fragment headers, in the frame that completes the datagram', () => {
    const pieces = fragmentIpv6(v6Packet, 1232).map(onEthernet);
    const { outcomes, segs, payloads } = run(pieces);
    assert.deepEqual(outcomes, [F, F, T]);
    assert.equal(segs[2]!.payloadLen, BODY.length);
    assert.equal(segs[2]!.checksumOk, 1);
    assert.deepEqual(payloads[2], BODY);
  });

  it('with reassembly off, only counted', () => {
    const { outcomes } = run(fragmentIpv6(v6Packet, 1232).map(onEthernet), { reassemble: false });
    assert.deepEqual(outcomes, [F, F, F]);
  });
});
