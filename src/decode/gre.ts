/**
 * GRE (RFC 2784/2890: flags C, K, S; RFC 1701 routing is not followed) carrying IPv4, IPv6, Ethernet (0x6558),
 * MPLS or ERSPAN; and PPTP's enhanced GRE (version 1, RFC 2637) carrying PPP.
 */
import { u16 } from './bytes.js';
import { EtherType, NotTcpKind } from './link-types.js';
import { Step, type DecodeState } from './decode-state.js';
import { Tunnel } from './tunnels.js';

const GRE_C = 0x8000;
const GRE_R = 0x4000;
const GRE_K = 0x2000;
const GRE_S = 0x1000;
/** Version 1 only: acknowledgment number present. */
const GRE_A = 0x0080;

export function decodeGre(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < 4) return greFail(st, o + 4);
  const flags = u16(b, o);
  const proto = u16(b, o + 2);
  const version = flags & 7;
  let hl: number;
  if (version === 0) {
    if ((flags & GRE_R) !== 0) return st.notTcp(NotTcpKind.GreOther);
    hl = 4 + ((flags & GRE_C) !== 0 ? 4 : 0) + ((flags & GRE_K) !== 0 ? 4 : 0) + ((flags & GRE_S) !== 0 ? 4 : 0);
  } else if (version === 1) {
    // PPTP: key present (payload length and call id), optional sequence and acknowledgment numbers.
    if (proto !== EtherType.Ppp || (flags & GRE_K) === 0) return st.notTcp(NotTcpKind.GreOther);
    hl = 8 + ((flags & GRE_S) !== 0 ? 4 : 0) + ((flags & GRE_A) !== 0 ? 4 : 0);
  } else {
    return st.notTcp(NotTcpKind.GreOther);
  }
  if (st.capEnd - o < hl) return greFail(st, o + hl);
  st.off = o + hl;
  switch (proto) {
    case EtherType.Ipv4:
      return st.enter(Tunnel.Gre, Step.Ipv4);
    case EtherType.Ipv6:
      return st.enter(Tunnel.Gre, Step.Ipv6);
    case EtherType.TransEther:
      return st.enter(Tunnel.Gre, Step.Ethernet);
    case EtherType.Mpls:
    case EtherType.MplsMulticast: {
      const next = st.enter(Tunnel.Gre, Step.Mpls);
      return next === Step.Mpls ? st.enter(Tunnel.Mpls, Step.Mpls) : next;
    }
    case EtherType.Ppp:
      // A PPTP packet with only an acknowledgment has no payload (its key's high half is the payload length;
      // plain GRE has no such field).
      if (version === 1 && u16(b, o + 4) === 0) return st.notTcp(NotTcpKind.GreOther);
      return st.enter(Tunnel.Gre, Step.Ppp);
    case EtherType.ErspanII: {
      const next = st.enter(Tunnel.Gre, Step.ErspanII);
      if (next !== Step.ErspanII) return next;
      // ERSPAN type I has no header of its own and no GRE sequence number; type II has both.
      if ((flags & GRE_S) === 0) return st.enter(Tunnel.Erspan, Step.Ethernet);
      return st.enter(Tunnel.Erspan, Step.ErspanII);
    }
    case EtherType.ErspanIII: {
      const next = st.enter(Tunnel.Gre, Step.ErspanIII);
      return next === Step.ErspanIII ? st.enter(Tunnel.Erspan, Step.ErspanIII) : next;
    }
    default:
      return st.notTcp(NotTcpKind.GreOther);
  }
}

function greFail(st: DecodeState, need: number): number {
  return st.fail(need, 'truncated_gre_header', 'gre_exceeds_packet_length');
}

/** ERSPAN type II: an 8-byte header (version 1, VLAN, session, index), then the mirrored Ethernet frame. */
export function decodeErspanII(st: DecodeState): number {
  return st.skip(8, Step.Ethernet, 'truncated_erspan_header', 'erspan_exceeds_packet_length');
}

/**
 * ERSPAN type III: a 12-byte header whose last bit (O) announces an 8-byte platform sub-header; the frame type
 * (FT, 5 bits) is 0 for Ethernet and 2 for IP.
 */
export function decodeErspanIII(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < 12) return st.fail(o + 12, 'truncated_erspan_header', 'erspan_exceeds_packet_length');
  const hl = 12 + ((b[o + 11]! & 1) !== 0 ? 8 : 0);
  if (st.capEnd - o < hl) return st.fail(o + hl, 'truncated_erspan_header', 'erspan_exceeds_packet_length');
  const frameType = (b[o + 10]! >> 2) & 0x1f;
  st.off = o + hl;
  if (frameType === 0) return Step.Ethernet;
  if (frameType === 2 && o + hl < st.capEnd) {
    const version = b[o + hl]! >> 4;
    if (version === 4) return Step.Ipv4;
    if (version === 6) return Step.Ipv6;
  }
  return st.notTcp(NotTcpKind.GreOther);
}
