/**
 * What follows an IP header (shared by IPv4 and IPv6): the transport Step, a tunnel, or NotTcp by kind; plus the
 * ICMP decoders, which only count errors that quote a TCP header (Wireshark's "tcp" filter matches those
 * frames, but they carry no TCP segment of their own), and the hand-over of a rebuilt datagram.
 */
import { IpProto, NotTcpKind } from './link-types.js';
import { Step, type DecodeState } from './decode-state.js';
import { Tunnel } from './tunnels.js';
import { noteProblem } from './stats.js';

export function ipProtoStep(st: DecodeState, proto: number): number {
  const v4 = st.ipVersion === 4;
  switch (proto) {
    case IpProto.Tcp:
      return Step.Tcp;
    case IpProto.Udp:
      return Step.Udp;
    case IpProto.Icmp:
      return v4 ? Step.Icmp : st.notTcp(NotTcpKind.Ipv6Other);
    case IpProto.Icmpv6:
      return v4 ? st.notTcp(NotTcpKind.Ipv4Other) : Step.Icmpv6;
    case IpProto.Gre:
      return Step.Gre;
    case IpProto.IpInIp:
      return st.enter(Tunnel.IpInIp, Step.Ipv4);
    case IpProto.Ipv6:
      return st.enter(v4 ? Tunnel.SixInFour : Tunnel.IpInIp, Step.Ipv6);
    case IpProto.Igmp:
      return st.notTcp(NotTcpKind.Igmp);
    case IpProto.Sctp:
      return st.notTcp(NotTcpKind.Sctp);
    case IpProto.Esp:
      return st.notTcp(NotTcpKind.Esp);
    default:
      return st.notTcp(v4 ? NotTcpKind.Ipv4Other : NotTcpKind.Ipv6Other);
  }
}

/**
 * Hands a fragment (IP facts in `st`, payload at st.off..st.wireEnd) to the reassembler. When it completes the
 * datagram, the cursor is switched to the rebuilt payload (a trusted length, all of it captured) and that buffer
 * is returned; otherwise null, and the frame's outcome is Fragment.
 */
export function addFragment(st: DecodeState, id: number, proto: number, offset: number, more: boolean): Buffer | null {
  const r = st.reassembler;
  // A fragment cut by the snap length, or whose IP length cannot be trusted, cannot be placed.
  if (r === null || !st.lenTrusted || st.capEnd < st.wireEnd) return null;
  const whole = r.add(
    st.ipVersion,
    st.src,
    st.dst,
    id,
    proto,
    offset,
    more,
    st.buf,
    st.off,
    st.wireEnd - st.off,
    st.tsSec,
  );
  if (whole === null) {
    if (r.problem !== '') noteProblem(st.stats, r.problem, st.frame);
    return null;
  }
  st.buf = whole;
  st.off = 0;
  st.capEnd = whole.length;
  st.wireEnd = whole.length;
  st.lenTrusted = true;
  return whole;
}

/** ICMP error types that quote the offending datagram: unreachable, source quench, redirect, time exceeded, parameter problem. */
function icmpQuotes(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

export function decodeIcmp(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  const q = o + 8;
  // The quoted IPv4 header: version 4 and protocol TCP.
  if (st.capEnd - q >= 20 && icmpQuotes(b[o]!) && b[q]! >> 4 === 4 && b[q + 9] === IpProto.Tcp) {
    st.stats.icmpQuotingTcp++;
  }
  return st.notTcp(NotTcpKind.Icmp);
}

export function decodeIcmpv6(st: DecodeState): number {
  const b = st.buf;
  const o = st.off;
  const type = st.capEnd - o >= 1 ? b[o]! : 0;
  // Types 1..4 are errors quoting the offending IPv6 packet.
  if (type >= 1 && type <= 4 && quotedIpv6IsTcp(b, o + 8, st.capEnd)) st.stats.icmpQuotingTcp++;
  return st.notTcp(NotTcpKind.Icmpv6);
}

/** Walks the quoted IPv6 header and its extension headers as far as they were captured (bounded). */
function quotedIpv6IsTcp(b: Buffer, q: number, end: number): boolean {
  if (end - q < 40 || b[q]! >> 4 !== 6) return false;
  let nh = b[q + 6]!;
  let p = q + 40;
  for (let i = 0; i < 8; i++) {
    if (nh === IpProto.Tcp) return true;
    if (nh === IpProto.HopByHop || nh === IpProto.Ipv6Routing || nh === IpProto.Ipv6DestOpts) {
      if (end - p < 2) return false;
      const len = (b[p + 1]! + 1) * 8;
      nh = b[p]!;
      p += len;
    } else if (nh === IpProto.Ipv6Fragment) {
      if (end - p < 8) return false;
      nh = b[p]!;
      p += 8;
    } else if (nh === IpProto.Ah) {
      if (end - p < 2) return false;
      const len = (b[p + 1]! + 2) * 4;
      nh = b[p]!;
      p += len;
    } else {
      return false;
    }
  }
  return false;
}
