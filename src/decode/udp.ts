/**
 * UDP and the tunnels it carries: VXLAN (4789), Geneve (6081), Teredo (3544) and GTP-U (2152). Like Wireshark,
 * the lower of the two ports is tried first, then the higher; either side may be the tunnel port (GTP-U uplink
 * and downlink often use different source ports, with 2152 on one side only).
 */
import { u16 } from './bytes.js';
import { EtherType, NotTcpKind, UdpPort } from './link-types.js';
import { Step, type DecodeState } from './decode-state.js';
import { Tunnel } from './tunnels.js';

const UDP_HEADER_LEN = 8;

function portStep(port: number): number {
  switch (port) {
    case UdpPort.Vxlan:
      return Step.Vxlan;
    case UdpPort.Geneve:
      return Step.Geneve;
    case UdpPort.Teredo:
      return Step.Teredo;
    case UdpPort.GtpU:
      return Step.GtpU;
    default:
      return 0;
  }
}

export function decodeUdp(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < UDP_HEADER_LEN) {
    return st.fail(o + UDP_HEADER_LEN, 'truncated_udp_header', 'udp_exceeds_packet_length');
  }
  const sport = u16(b, o);
  const dport = u16(b, o + 2);
  const len = u16(b, o + 4);
  // The UDP length bounds the payload when it fits (0 means a jumbogram: keep the IP bound).
  if (len >= UDP_HEADER_LEN && o + len <= st.wireEnd) st.limit(o + len);
  st.off = o + UDP_HEADER_LEN;
  let step = portStep(sport < dport ? sport : dport);
  if (step === 0) step = portStep(sport < dport ? dport : sport);
  return step === 0 ? st.notTcp(NotTcpKind.Udp) : step;
}

/** VXLAN (RFC 7348): 8 bytes (flags, VNI), then an Ethernet frame. */
export function decodeVxlan(st: DecodeState): number {
  const o = st.off;
  if (st.capEnd - o < 8) return st.fail(o + 8, 'truncated_vxlan_header', 'vxlan_exceeds_packet_length');
  st.off = o + 8;
  return st.enter(Tunnel.Vxlan, Step.Ethernet);
}

/** Geneve (RFC 8926): version 0, options length in 4-byte words, protocol type, VNI; then the payload. */
export function decodeGeneve(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < 8) return st.fail(o + 8, 'truncated_geneve_header', 'geneve_exceeds_packet_length');
  if (b[o]! >> 6 !== 0) return st.notTcp(NotTcpKind.Udp);
  const hl = 8 + (b[o]! & 0x3f) * 4;
  if (st.capEnd - o < hl) return st.fail(o + hl, 'truncated_geneve_header', 'geneve_exceeds_packet_length');
  const proto = u16(b, o + 2);
  st.off = o + hl;
  if (proto === EtherType.TransEther) return st.enter(Tunnel.Geneve, Step.Ethernet);
  if (proto === EtherType.Ipv4) return st.enter(Tunnel.Geneve, Step.Ipv4);
  if (proto === EtherType.Ipv6) return st.enter(Tunnel.Geneve, Step.Ipv6);
  return st.notTcp(NotTcpKind.Udp);
}

/**
 * Teredo (RFC 4380): an optional authentication indicator (0x0001, id and auth lengths, id, auth, 8-byte nonce,
 * confirmation byte), an optional origin indicator (0x0000, 6 bytes of obfuscated port and address), then IPv6.
 * A payload that is not IPv6 after that is plain UDP.
 */
export function decodeTeredo(st: DecodeState): number {
  const b = st.buf;
  let o = st.off;
  if (st.capEnd - o < 2) return teredoShort(st, o + 2);
  if (b[o] === 0 && b[o + 1] === 1) {
    if (st.capEnd - o < 4) return teredoShort(st, o + 4);
    o += 4 + b[o + 2]! + b[o + 3]! + 9;
    if (st.capEnd - o < 2) return teredoShort(st, o + 2);
  }
  if (b[o] === 0 && b[o + 1] === 0) {
    o += 8;
    if (st.capEnd - o < 1) return teredoShort(st, o + 1);
  }
  if (b[o]! >> 4 !== 6) return st.notTcp(NotTcpKind.Udp);
  st.off = o;
  return st.enter(Tunnel.Teredo, Step.Ipv6);
}

/** Cut inside the indications: TooShort if the bytes were on the wire; a datagram that really ends there is UDP. */
function teredoShort(st: DecodeState, need: number): number {
  return need <= st.wireEnd ? st.tooShort('truncated_teredo_header') : st.notTcp(NotTcpKind.Udp);
}

const GTP_FLAG_E = 0x04;
const GTP_FLAGS_OPTIONAL = 0x07;
const GTP_G_PDU = 0xff;
/** Extension headers followed before giving up as Malformed (`too_many_gtp_extension_headers`). */
export const MAX_GTP_EXTENSION_HEADERS = 8;

/**
 * GTPv1-U (3GPP TS 29.281): flags (version 1, PT 1, E, S, PN), message type, length, TEID; 4 more bytes when
 * any of E/S/PN is set; with E, a chain of extension headers, each with its length in 4-byte units and the next
 * type in its last byte. Only G-PDU messages (0xff) carry user IP packets; the first nibble says which version.
 */
export function decodeGtpU(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  if (st.capEnd - o < 8) return st.fail(o + 8, 'truncated_gtp_header', 'gtp_exceeds_packet_length');
  const flags = b[o]!;
  // Version 1 with protocol type GTP (PT=1); GTP' (PT=0) and GTPv2 (control plane) carry no user packets.
  if ((flags & 0xf0) !== 0x30) return st.notTcp(NotTcpKind.Udp);
  const type = b[o + 1]!;
  const end = o + 8 + u16(b, o + 2);
  if (end <= st.wireEnd) st.limit(end);
  let p = o + 8;
  if ((flags & GTP_FLAGS_OPTIONAL) !== 0) {
    if (st.capEnd - o < 12) return st.fail(o + 12, 'truncated_gtp_header', 'gtp_exceeds_packet_length');
    p = o + 12;
    if ((flags & GTP_FLAG_E) !== 0) {
      let next = b[o + 11]!;
      for (let n = 0; next !== 0; n++) {
        if (n >= MAX_GTP_EXTENSION_HEADERS) return st.malformed('too_many_gtp_extension_headers');
        if (st.capEnd - p < 1) return st.fail(p + 1, 'truncated_gtp_header', 'gtp_exceeds_packet_length');
        const len = b[p]! * 4;
        if (len === 0) return st.malformed('bad_gtp_extension_length');
        if (st.capEnd - p < len) return st.fail(p + len, 'truncated_gtp_header', 'gtp_exceeds_packet_length');
        next = b[p + len - 1]!;
        p += len;
      }
    }
  }
  if (type !== GTP_G_PDU) return st.notTcp(NotTcpKind.Udp);
  st.off = p;
  if (p >= st.capEnd) return p < st.wireEnd ? st.tooShort('truncated_gtp_payload') : st.notTcp(NotTcpKind.Udp);
  const version = b[p]! >> 4;
  if (version === 4) return st.enter(Tunnel.GtpU, Step.Ipv4);
  if (version === 6) return st.enter(Tunnel.GtpU, Step.Ipv6);
  return st.notTcp(NotTcpKind.Udp);
}
