/**
 * IPv6 (RFC 8200) and its extension-header chain: hop-by-hop (with the jumbo payload option), routing,
 * fragment, destination options and AH are walked (bounded); ESP and "no next header" end the walk as NotTcp.
 * A payload length of 0 without a jumbo option, or one larger than the frame on the wire, is not trusted (see
 * ipv4.ts).
 */
import { u16, u32 } from './bytes.js';
import { DecodeOutcome } from './segment.js';
import { IpProto } from './link-types.js';
import type { DecodeState } from './decode-state.js';
import { addFragment, ipProtoStep } from './ip-proto.js';

const IPV6_HEADER_LEN = 40;
/** Extension headers walked before giving up as Malformed (`too_many_ipv6_extension_headers`). */
export const MAX_IPV6_EXTENSION_HEADERS = 16;
const JUMBO_OPTION = 0xc2;

export function decodeIpv6(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < IPV6_HEADER_LEN) {
    return st.fail(o + IPV6_HEADER_LEN, 'truncated_ipv6_header', 'ipv6_exceeds_packet_length');
  }
  if (b[o]! >> 4 !== 6) return st.malformed('bad_ipv6_version');
  const payload = u16(b, o + 4);
  const onWire = st.wireEnd - o - IPV6_HEADER_LEN;
  st.jumbo = payload === 0;
  if (payload === 0 || payload > onWire) {
    st.lenTrusted = false;
  } else {
    st.lenTrusted = true;
    st.limit(o + IPV6_HEADER_LEN + payload);
  }
  st.ipVersion = 6;
  st.ipOff = o;
  st.ttl = b[o + 7]!;
  st.ipId = -1;
  const src = st.src;
  const dst = st.dst;
  const ck = st.ckDst;
  for (let i = 0; i < 4; i++) {
    src[i] = u32(b, o + 8 + 4 * i);
    const w = u32(b, o + 24 + 4 * i);
    dst[i] = w;
    ck[i] = w;
  }
  st.ckDstKnown = true;
  st.off = o + IPV6_HEADER_LEN;
  return walkExtensions(st, b[o + 6]!);
}

/** Walks extension headers from st.off with next header `first`; also continues a rebuilt fragmented payload. */
function walkExtensions(st: DecodeState, first: number): number {
  let nh = first;
  let reassembled = false;
  for (let i = 0; i < MAX_IPV6_EXTENSION_HEADERS; i++) {
    const b = st.buf;
    const o = st.off;
    switch (nh) {
      case IpProto.HopByHop:
      case IpProto.Ipv6Routing:
      case IpProto.Ipv6DestOpts: {
        if (st.capEnd - o < 2) return extFail(st, o + 2);
        const len = (b[o + 1]! + 1) * 8;
        if (st.capEnd - o < len) return extFail(st, o + len);
        if (nh === IpProto.HopByHop && st.jumbo && i === 0) jumboLength(st, o, len);
        else if (nh === IpProto.Ipv6Routing) routingDestination(st, o, len);
        nh = b[o]!;
        st.off = o + len;
        break;
      }
      case IpProto.Ah: {
        if (st.capEnd - o < 2) return extFail(st, o + 2);
        const len = (b[o + 1]! + 2) * 4;
        if (st.capEnd - o < len) return extFail(st, o + len);
        nh = b[o]!;
        st.off = o + len;
        break;
      }
      case IpProto.Ipv6Fragment: {
        if (st.capEnd - o < 8) return extFail(st, o + 8);
        nh = b[o]!;
        const fo = u16(b, o + 2);
        const offset = fo & 0xfff8;
        const more = (fo & 1) !== 0;
        st.off = o + 8;
        // An "atomic fragment" (offset 0, M clear) is the whole datagram.
        if (offset === 0 && !more) break;
        if (reassembled) return st.malformed('nested_ipv6_fragment_header');
        if (addFragment(st, u32(b, o + 4), nh, offset, more) === null) return DecodeOutcome.Fragment;
        reassembled = true;
        break;
      }
      default:
        // ESP, No Next Header and the upper layers: ipProtoStep tells them apart.
        return ipProtoStep(st, nh);
    }
  }
  return st.malformed('too_many_ipv6_extension_headers');
}

function extFail(st: DecodeState, need: number): number {
  return st.fail(need, 'truncated_ipv6_extension_header', 'ipv6_extension_header_exceeds_payload');
}

/** Payload length 0 with a jumbo option (RFC 2675) in the first hop-by-hop header: the option gives the length. */
function jumboLength(st: DecodeState, o: number, len: number): void {
  const b = st.buf;
  const end = o + len;
  let p = o + 2;
  for (let n = 0; p < end && n < len; n++) {
    const type = b[p]!;
    if (type === 0) {
      p++; // Pad1
      continue;
    }
    if (p + 2 > end) return;
    const optLen = b[p + 1]!;
    if (type === JUMBO_OPTION && optLen === 4 && p + 6 <= end) {
      const jumbo = u32(b, p + 2);
      const ipEnd = st.ipOff + 40 + jumbo;
      if (jumbo > 65535 && ipEnd <= st.wireEnd) {
        st.lenTrusted = true;
        st.limit(ipEnd);
      }
      return;
    }
    p += 2 + optLen;
  }
}

/**
 * The TCP pseudo-header uses the final destination (RFC 8200 §8.1): with segments left, that is the last
 * address of a type 0 header, the home address of type 2, or the first segment of an SRH (type 4).
 */
function routingDestination(st: DecodeState, o: number, len: number): void {
  const b = st.buf;
  const type = b[o + 2]!;
  const segmentsLeft = b[o + 3]!;
  if (segmentsLeft === 0) return;
  let a = -1;
  if (type === 0 && len >= 24) a = o + 8 + Math.floor((len - 8) / 16 - 1) * 16;
  else if ((type === 2 || type === 4) && len >= 24) a = o + 8;
  if (a < 0) {
    st.ckDstKnown = false;
    return;
  }
  for (let i = 0; i < 4; i++) st.ckDst[i] = u32(b, a + 4 * i);
}
