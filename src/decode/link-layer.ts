/**
 * Link layers and the layer-2 encapsulations found between them and IP: Ethernet with 802.1Q/802.1ad tags,
 * Linux cooked v1/v2, BSD NULL and LOOP, raw IP, MPLS (with Ethernet pseudowires), PPPoE sessions, PPP and
 * Cisco FabricPath. Each decoder reads at `st.off`, checks its length first, and returns the next Step or an
 * outcome (see decode-state.ts).
 */
import { u16, u32, u32le } from './bytes.js';
import { DecodeOutcome } from './segment.js';
import { BsdFamily, EtherType, LinkType, NotTcpKind } from './link-types.js';
import { Step, type DecodeState } from './decode-state.js';
import { Tunnel } from './tunnels.js';

export const ETHERNET_HEADER_LEN = 14;
const SLL_HEADER_LEN = 16;
const SLL2_HEADER_LEN = 20;
const ARPHRD_NETLINK = 824;
/** Tags beyond this many are Malformed (`too_many_vlan_tags`): real networks stack two, rarely three. */
export const MAX_VLAN_TAGS = 8;
/** Labels beyond this many in one stack are Malformed (`too_many_mpls_labels`). */
export const MAX_MPLS_LABELS = 16;

/** The link-layer header named by the capture's link type: the first Step, or UnknownLinkType. */
export function decodeLinkHeader(st: DecodeState, linkType: number): number {
  switch (linkType) {
    case LinkType.Ethernet:
      return Step.Ethernet;
    case LinkType.LinuxSll:
      return decodeSll(st);
    case LinkType.LinuxSll2:
      return decodeSll2(st);
    case LinkType.Null:
      return decodeNull(st, false);
    case LinkType.Loop:
      return decodeNull(st, true);
    case LinkType.Raw:
    case LinkType.RawBsd12:
    case LinkType.RawBsd14:
      return decodeRawIp(st);
    case LinkType.Ipv4:
      return Step.Ipv4;
    case LinkType.Ipv6:
      return Step.Ipv6;
    default:
      return DecodeOutcome.UnknownLinkType;
  }
}

/** The Step for an EtherType (shared by Ethernet, VLAN tags, SLL, GRE, SNAP). */
export function etherTypeStep(st: DecodeState, type: number): number {
  switch (type) {
    case EtherType.Ipv4:
      return Step.Ipv4;
    case EtherType.Ipv6:
      return Step.Ipv6;
    case EtherType.Vlan:
    case EtherType.QinQ:
    case EtherType.QinQOld:
    case EtherType.QinQOld2:
      return Step.Vlan;
    case EtherType.Mpls:
    case EtherType.MplsMulticast:
      return st.enter(Tunnel.Mpls, Step.Mpls);
    case EtherType.PppoeSession:
      return st.enter(Tunnel.Pppoe, Step.Pppoe);
    case EtherType.FabricPath:
      return st.enter(Tunnel.FabricPath, Step.FabricPath);
    case EtherType.Arp:
      return st.notTcp(NotTcpKind.Arp);
    case EtherType.Rarp:
      return st.notTcp(NotTcpKind.Rarp);
    case EtherType.Lldp:
      return st.notTcp(NotTcpKind.Lldp);
    case EtherType.Slow:
      return st.notTcp(NotTcpKind.Slow);
    case EtherType.Eapol:
      return st.notTcp(NotTcpKind.Eapol);
    case EtherType.Ptp:
      return st.notTcp(NotTcpKind.Ptp);
    case EtherType.PppoeDiscovery:
      return st.notTcp(NotTcpKind.PppoeDiscovery);
    default:
      // Values up to 1500 are an 802.3 length, and an LLC header follows.
      if (type <= 1500) return decodeLlc(st);
      return st.notTcp(NotTcpKind.EtherOther);
  }
}

export function decodeEthernet(st: DecodeState): number {
  const o = st.off;
  if (st.capEnd - o < ETHERNET_HEADER_LEN) {
    return st.fail(o + ETHERNET_HEADER_LEN, 'truncated_ethernet_header', 'ethernet_exceeds_packet_length');
  }
  st.off = o + ETHERNET_HEADER_LEN;
  return etherTypeStep(st, u16(st.buf, o + 12));
}

/** 802.2 LLC; only SNAP with OUI 0 carries an EtherType we follow (IP over 802.3, rare but legal). */
function decodeLlc(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < 8 && st.capEnd < st.wireEnd) return st.tooShort('truncated_llc_header');
  if (st.capEnd - o >= 8 && b[o] === 0xaa && b[o + 1] === 0xaa && b[o + 2] === 0x03) {
    if (b[o + 3] === 0 && b[o + 4] === 0 && b[o + 5] === 0) {
      const type = u16(b, o + 6);
      // Only IP: a SNAP header inside SNAP (or VLAN in SNAP) is not something to chase.
      if (type === EtherType.Ipv4 || type === EtherType.Ipv6) {
        st.off = o + 8;
        return type === EtherType.Ipv4 ? Step.Ipv4 : Step.Ipv6;
      }
    }
  }
  return st.notTcp(NotTcpKind.Llc);
}

/** One 802.1Q / 802.1ad tag: the VLAN id goes to seg.vlans (outermost first), not to the tunnel path. */
export function decodeVlan(st: DecodeState): number {
  const o = st.off;
  if (st.capEnd - o < 4) return st.fail(o + 4, 'truncated_vlan_header', 'vlan_exceeds_packet_length');
  if (st.vlanTags >= MAX_VLAN_TAGS) return st.malformed('too_many_vlan_tags');
  st.vlanTags++;
  const seg = st.seg;
  if (seg.vlanCount < seg.vlans.length) seg.vlans[seg.vlanCount++] = u16(st.buf, o) & 0x0fff;
  st.off = o + 4;
  return etherTypeStep(st, u16(st.buf, o + 2));
}

/** Linux cooked capture v1: packet type, ARPHRD type, address length, 8 address bytes, protocol. */
export function decodeSll(st: DecodeState): number {
  const o = st.off;
  if (st.capEnd - o < SLL_HEADER_LEN) return st.tooShort('truncated_sll_header');
  st.off = o + SLL_HEADER_LEN;
  return sllProtocolStep(st, u16(st.buf, o + 2), u16(st.buf, o + 14));
}

/** Linux cooked capture v2: protocol, reserved, interface index, ARPHRD type, packet type, address. */
export function decodeSll2(st: DecodeState): number {
  const o = st.off;
  if (st.capEnd - o < SLL2_HEADER_LEN) return st.tooShort('truncated_sll2_header');
  st.off = o + SLL2_HEADER_LEN;
  return sllProtocolStep(st, u16(st.buf, o + 8), u16(st.buf, o));
}

function sllProtocolStep(st: DecodeState, arphrd: number, protocol: number): number {
  // Netlink captures put the netlink family in the protocol field; values below 0x600 are Linux ETH_P_*
  // pseudo-protocols (802.2 LLC, CAN, …), not EtherTypes.
  if (arphrd === ARPHRD_NETLINK || protocol < 0x0600) return st.notTcp(NotTcpKind.LinkOther);
  return etherTypeStep(st, protocol);
}

/**
 * BSD NULL (family in the capturing host's byte order: read it big-endian and swap when the high half is set,
 * as Wireshark does) and OpenBSD LOOP (network order).
 */
export function decodeNull(st: DecodeState, networkOrder: boolean): number {
  const o = st.off;
  if (st.capEnd - o < 4) return st.tooShort('truncated_loopback_header');
  let family = u32(st.buf, o);
  if (!networkOrder && (family & 0xffff0000) !== 0) family = u32le(st.buf, o);
  st.off = o + 4;
  switch (family) {
    case BsdFamily.Inet:
      return Step.Ipv4;
    case BsdFamily.Inet6Bsd:
    case BsdFamily.Inet6FreeBsd:
    case BsdFamily.Inet6Darwin:
      return Step.Ipv6;
    default:
      return st.notTcp(NotTcpKind.LinkOther);
  }
}

/** Raw IP: the version nibble says which. */
export function decodeRawIp(st: DecodeState): number {
  const o = st.off;
  if (st.capEnd - o < 1) return st.tooShort('truncated_ip_header');
  const version = st.buf[o]! >> 4;
  if (version === 4) return Step.Ipv4;
  if (version === 6) return Step.Ipv6;
  return st.malformed('bad_ip_version');
}

/**
 * Cisco FabricPath: the outer Ethernet header (EtherType 0x8903) is followed by 2 bytes of FTAG/TTL, then the
 * classical Ethernet frame (16 header bytes in all, as Wireshark's cfp and Zeek's FabricPath analyzer read it).
 */
export function decodeFabricPath(st: DecodeState): number {
  return st.skip(2, Step.Ethernet, 'truncated_fabricpath_header', 'fabricpath_exceeds_packet_length');
}

/**
 * An MPLS label stack. After the bottom of the stack nothing says what follows, so (as Wireshark and Zeek do)
 * the first nibble decides: 4 or 6 is IP, 0 is an Ethernet pseudowire control word.
 */
export function decodeMpls(st: DecodeState): number {
  const b = st.buf;
  let o = st.off;
  for (let labels = 0; ; labels++) {
    if (labels >= MAX_MPLS_LABELS) return st.malformed('too_many_mpls_labels');
    if (st.capEnd - o < 4) return st.fail(o + 4, 'truncated_mpls_header', 'mpls_exceeds_packet_length');
    const bottom = b[o + 2]! & 1;
    o += 4;
    if (bottom !== 0) break;
  }
  st.off = o;
  if (o >= st.capEnd) {
    return o < st.wireEnd ? st.tooShort('truncated_mpls_payload') : st.notTcp(NotTcpKind.MplsOther);
  }
  switch (b[o]! >> 4) {
    case 4:
      return Step.Ipv4;
    case 6:
      return Step.Ipv6;
    case 0:
      return Step.PwEthernet;
    default:
      return st.notTcp(NotTcpKind.MplsOther);
  }
}

/** The 4-byte pseudowire control word (RFC 4385), then an Ethernet frame. */
export function decodePwEthernet(st: DecodeState): number {
  return st.skip(4, Step.Ethernet, 'truncated_pw_control_word', 'pw_exceeds_packet_length');
}

/** PPPoE session stage (RFC 2516): version/type 0x11, code 0, session id, length; then PPP. */
export function decodePppoe(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < 6) return st.fail(o + 6, 'truncated_pppoe_header', 'pppoe_exceeds_packet_length');
  if (b[o] !== 0x11 || b[o + 1] !== 0) return st.notTcp(NotTcpKind.PppOther);
  const end = o + 6 + u16(b, o + 4);
  // The PPPoE length drops Ethernet padding; a length past the frame is left alone (IP's own length rules).
  if (end <= st.wireEnd) st.limit(end);
  st.off = o + 6;
  return Step.Ppp;
}

/** PPP (RFC 1661/1662): optional address/control 0xff 0x03, then a 1- or 2-byte protocol (PFC). */
export function decodePpp(st: DecodeState): number {
  const b = st.buf;
  let o = st.off;
  if (st.capEnd - o < 1) return st.fail(o + 1, 'truncated_ppp_header', 'ppp_exceeds_packet_length');
  if (b[o] === 0xff) {
    if (st.capEnd - o < 2) return st.fail(o + 2, 'truncated_ppp_header', 'ppp_exceeds_packet_length');
    if (b[o + 1] === 0x03) o += 2;
  }
  if (st.capEnd - o < 1) return st.fail(o + 1, 'truncated_ppp_header', 'ppp_exceeds_packet_length');
  let protocol: number;
  if ((b[o]! & 1) !== 0) {
    protocol = b[o]!;
    o += 1;
  } else {
    if (st.capEnd - o < 2) return st.fail(o + 2, 'truncated_ppp_header', 'ppp_exceeds_packet_length');
    protocol = u16(b, o);
    o += 2;
  }
  st.off = o;
  if (protocol === 0x21) return Step.Ipv4;
  if (protocol === 0x57) return Step.Ipv6;
  return st.notTcp(NotTcpKind.PppOther);
}
