/** IPv4: options, padding, lengths that cannot be trusted (TSO, GSO), malformed headers. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DecodeOutcome } from '../../src/decode/segment.js';
import { ACK, build, ethernet, ipv4, padEthernet, payload, tcp, withTrailer } from '../helpers/frames.js';
import { decodeFrame, onlyProblem } from './decode-helpers.js';

describe('IPv4', () => {
  it('skips options by IHL (record route + timestamp, 40 option bytes)', () => {
    const options = Buffer.alloc(40);
    options.set([7, 11, 4], 0); // record route, 2 slots
    options.set([1], 11); // NOP
    options.set([68, 28, 5, 0], 12); // timestamp option
    const { outcome, seg } = decodeFrame(
      build(ethernet(), ipv4({ options, ttl: 3, id: 0xbeef }), tcp({ sport: 7 }), payload(9)),
    );
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.srcPort, 7);
    assert.equal(seg.payloadLen, 9);
    assert.equal(seg.ttl, 3);
    assert.equal(seg.ipId, 0xbeef);
    assert.equal(seg.checksumOk, 1);
  });

  it('trims Ethernet padding to the total length (a 60-byte FIN carries no phantom payload)', () => {
    const frame = padEthernet(build(ethernet(), ipv4(), tcp({ flags: ACK | 1 })));
    assert.equal(frame.length, 60);
    const { seg } = decodeFrame(frame);
    assert.equal(seg.payloadLen, 0);
    assert.equal(seg.payloadCaptured, 0);
    assert.equal(seg.truncated, false);
    assert.equal(seg.checksumOk, 1);
  });

  it('trims an Ethernet trailer (FCS) after a segment with payload', () => {
    const { seg } = decodeFrame(withTrailer(build(ethernet(), ipv4(), tcp(), payload(100)), 4));
    assert.equal(seg.payloadLen, 100);
    assert.equal(seg.payloadCaptured, 100);
    assert.equal(seg.checksumOk, 1);
  });

  it('total length 0 (TSO): the payload is what the frame holds; checksum not verifiable', () => {
    const { outcome, seg, stats } = decodeFrame(build(ethernet(), ipv4({ totalLength: 0 }), tcp(), payload(3000)));
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.payloadLen, 3000);
    assert.equal(seg.payloadCaptured, 3000);
    assert.equal(seg.truncated, false);
    assert.equal(seg.checksumOk, -1);
    assert.equal(stats.uncheckedChecksums, 1);
  });

  it('total length larger than the frame on the wire (GSO super-frame): the wire length is used', () => {
    const frame = build(ethernet(), ipv4({ totalLength: 60000 }), tcp(), payload(1000));
    const { seg } = decodeFrame(frame);
    assert.equal(seg.payloadLen, 1000);
    assert.equal(seg.payloadCaptured, 1000);
    assert.equal(seg.checksumOk, -1);
  });

  it('cut by the snap length: payloadLen from the IP length, payloadCaptured what is there', () => {
    const frame = build(ethernet(), ipv4(), tcp(), payload(1400));
    const capLen = 14 + 20 + 20 + 100;
    const { seg, stats } = decodeFrame(frame.subarray(0, capLen), 1, { origLen: frame.length });
    assert.equal(seg.payloadLen, 1400);
    assert.equal(seg.payloadCaptured, 100);
    assert.equal(seg.truncated, true);
    assert.equal(seg.checksumOk, -1);
    assert.equal(stats.truncatedTcp, 1);
    assert.equal(stats.uncheckedChecksums, 1);
  });

  it('a bad IPv4 header checksum does not matter (not checked: offload)', () => {
    const { outcome, seg } = decodeFrame(build(ethernet(), ipv4({ badChecksum: true }), tcp()));
    assert.equal(outcome, DecodeOutcome.Tcp);
    assert.equal(seg.checksumOk, 1);
  });

  it('IHL below 5 is Malformed (ipv4_ihl_too_small)', () => {
    const { outcome, stats } = decodeFrame(build(ethernet(), ipv4({ ihl: 4 }), tcp()));
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'ipv4_ihl_too_small');
  });

  it('IHL beyond the total length is Malformed (ipv4_ihl_exceeds_total_length)', () => {
    const { outcome, stats } = decodeFrame(
      build(ethernet(), ipv4({ totalLength: 24, options: Buffer.alloc(8, 1) }), tcp()),
    );
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'ipv4_ihl_exceeds_total_length');
  });

  it('a version other than 4 behind EtherType 0x0800 is Malformed (bad_ipv4_version)', () => {
    const frame = build(ethernet(), ipv4(), tcp());
    frame[14] = 0x65;
    const { outcome, stats } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'bad_ipv4_version');
  });

  it('a TCP header longer than the IP length says is Malformed (tcp_header_exceeds_ip_length)', () => {
    const frame = padEthernet(build(ethernet(), ipv4({ totalLength: 30 }), tcp()));
    const { outcome, stats } = decodeFrame(frame);
    assert.equal(outcome, DecodeOutcome.Malformed);
    assert.equal(onlyProblem(stats), 'tcp_header_exceeds_ip_length');
  });

  it('the IPv4 address is word 0 in network order as an unsigned number', () => {
    const { seg } = decodeFrame(build(ethernet(), ipv4({ src: '255.254.253.252', dst: '192.0.2.129' }), tcp()));
    assert.deepEqual([...seg.srcAddr], [0xfffefdfc, 0, 0, 0]);
    assert.deepEqual([...seg.dstAddr], [0xc0000281, 0, 0, 0]);
  });
});
