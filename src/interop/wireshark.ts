/**
 * Finding a connection of ours in Wireshark: the `tcp.stream` index Wireshark gives it, and a display filter
 * that selects exactly its packets.
 *
 * tcp.stream. Wireshark's TCP dissector (epan/dissectors/packet-tcp.c) numbers conversations from 0 in the
 * order their first packet appears (`tcpd->stream = tcp_stream_count++` when a conversation is created), and
 * starts a new conversation on the same 4-tuple when a SYN without ACK carries a sequence number other than the
 * base sequence number of its direction ("TCP port numbers reused"); a retransmitted SYN stays in its stream.
 * Our connection table numbers connections the same way: one id per connection in the order of its first
 * packet, a new connection for a client SYN with a new ISN, and a finished connection's stragglers counted
 * against it (tombstone) instead of opening a connection of their own. So the stream index is the id minus
 * one. Where the two can part is listed in docs/interop.md (TCP quoted inside ICMP errors, a server-side SYN on
 * a live connection, tunnels Wireshark does not decode by default); test/interop/tcp-stream.test.ts checks the
 * numbering against tshark.
 *
 * Display filter. A tuple in both directions plus the frame range, rather than `tcp.stream eq N`, so that it
 * stays exact where the numbering could differ, and separates incarnations of a reused 4-tuple. ICMP errors
 * quote TCP headers (Wireshark dissects them, so tcp.port would match); they are excluded.
 */
import type { Connection } from '../conn/connection.js';
import { formatAddress } from '../decode/address.js';

/** Wireshark's tcp.stream for the connection (see above). */
export function tcpStreamOf(conn: Connection): number {
  return conn.id - 1;
}

/** The Wireshark display filter that selects exactly this connection's packets. */
export function displayFilterOf(conn: Connection): string {
  const v6 = conn.ipVersion === 6;
  return displayFilter(
    v6,
    formatAddress(conn.ipVersion, conn.clientAddr),
    conn.clientPort,
    formatAddress(conn.ipVersion, conn.serverAddr),
    conn.serverPort,
    conn.firstFrame,
    conn.lastFrame,
  );
}

/**
 * `!icmp && ((ip.src==A && tcp.srcport==a && ip.dst==B && tcp.dstport==b) || (…reverse…)) && frame.number>=F
 * && frame.number<=L`; ipv6.src/ipv6.dst and icmpv6 for IPv6.
 */
export function displayFilter(v6: boolean, clientIp: string, clientPort: number, serverIp: string, serverPort: number, firstFrame: number, lastFrame: number): string {
  const ip = v6 ? 'ipv6' : 'ip';
  const icmp = v6 ? 'icmpv6' : 'icmp';
  const way = (sa: string, sp: number, da: string, dp: number) => `${ip}.src==${sa} && tcp.srcport==${sp} && ${ip}.dst==${da} && tcp.dstport==${dp}`;
  const fwd = way(clientIp, clientPort, serverIp, serverPort);
  const rev = way(serverIp, serverPort, clientIp, clientPort);
  return `!${icmp} && ((${fwd}) || (${rev})) && frame.number>=${firstFrame} && frame.number<=${lastFrame}`;
}
