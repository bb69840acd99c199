/**
 * IPv4 (RFC 791). Sets the cursor to the payload and bounds it by the total length, which drops Ethernet padding
 * and trailers. A total length of 0 (TSO) or one larger than the frame on the wire (a GSO super-frame captured
 * on the host before segmentation) cannot be trusted: the payload is then what the frame holds on the wire, and
 * the TCP checksum is not checked.
 */
import { u16, u32 } from './bytes.js';
import { DecodeOutcome } from './segment.js';
import type { DecodeState } from './decode-state.js';
import { addFragment, ipProtoStep } from './ip-proto.js';

const IPV4_MIN_HEADER_LEN = 20;

export function decodeIpv4(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < IPV4_MIN_HEADER_LEN) {
    return st.fail(o + IPV4_MIN_HEADER_LEN, 'truncated_ipv4_header', 'ipv4_exceeds_packet_length');
  }
  const vihl = b[o]!;
  if (vihl >> 4 !== 4) return st.malformed('bad_ipv4_version');
  const hl = (vihl & 0x0f) << 2;
  if (hl < IPV4_MIN_HEADER_LEN) return st.malformed('ipv4_ihl_too_small');
  const total = u16(b, o + 2);
  const onWire = st.wireEnd - o;
  if (total === 0 || total > onWire) {
    st.lenTrusted = false;
  } else {
    if (total < hl) return st.malformed('ipv4_ihl_exceeds_total_length');
    st.lenTrusted = true;
    st.limit(o + total);
  }
  if (st.capEnd - o < hl) return st.fail(o + hl, 'truncated_ipv4_header', 'ipv4_ihl_exceeds_total_length');

  st.ipVersion = 4;
  st.ipOff = o;
  st.ckDstKnown = true;
  st.ttl = b[o + 8]!;
  const id = u16(b, o + 4);
  st.ipId = id;
  const src = st.src;
  const dst = st.dst;
  src[0] = u32(b, o + 12);
  src[1] = 0;
  src[2] = 0;
  src[3] = 0;
  dst[0] = u32(b, o + 16);
  dst[1] = 0;
  dst[2] = 0;
  dst[3] = 0;
  st.off = o + hl;
  const proto = b[o + 9]!;
  const frag = u16(b, o + 6);
  // MF set or a fragment offset: a piece of a larger datagram.
  if ((frag & 0x3fff) !== 0) {
    const whole = addFragment(st, id, proto, (frag & 0x1fff) * 8, (frag & 0x2000) !== 0);
    if (whole === null) return DecodeOutcome.Fragment;
  }
  return ipProtoStep(st, proto);
}
