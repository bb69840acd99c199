/**
 * Wireshark display filters that select exactly one connection's packets, so that a reader of a report can open
 * the same packets in Wireshark (Edit → Find Packet, or the filter bar).
 */
import type { ConnectionRecord, Endpoint } from '../classify/record.js';

/** Addresses come from the decoder, but a report never pastes anything into a filter that is not an address. */
const ADDRESS = /^[0-9A-Fa-f:.]+$/;

/** The first and the last frame of a connection, from the packets its record kept (handshake and teardown). */
export function frameRange(r: ConnectionRecord): { first: number; last: number } | null {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const see = (f: number): void => {
    if (!Number.isInteger(f) || f <= 0) return;
    if (f < first) first = f;
    if (f > last) last = f;
  };
  for (const p of r.ladder) see(p.frame);
  for (const f of r.evidence) see(f);
  for (const s of r.endpoints.client.states) see(s.frame);
  for (const s of r.endpoints.server.states) see(s.frame);
  return first === Number.POSITIVE_INFINITY ? null : { first, last };
}

/**
 * `ip.addr==192.0.2.1 && ip.addr==192.0.2.2 && tcp.port==40001 && tcp.port==9999` (ipv6.addr for IPv6), plus
 * `&& frame.number >= A && frame.number <= B` when the frame range is known: the range separates incarnations
 * of the same 4-tuple (port reuse). Null when an address is not one.
 */
export function displayFilter(client: Endpoint, server: Endpoint, range: { first: number; last: number } | null): string | null {
  if (!ADDRESS.test(client.ip) || !ADDRESS.test(server.ip)) return null;
  const field = (ip: string): string => (ip.includes(':') ? 'ipv6.addr' : 'ip.addr');
  const parts: string[] = [];
  if (client.ip === server.ip) parts.push(`${field(client.ip)}==${client.ip}`);
  else parts.push(`${field(client.ip)}==${client.ip}`, `${field(server.ip)}==${server.ip}`);
  if (client.port === server.port) parts.push(`tcp.port==${client.port}`);
  else parts.push(`tcp.port==${client.port}`, `tcp.port==${server.port}`);
  if (range !== null) parts.push(`frame.number >= ${range.first}`, `frame.number <= ${range.last}`);
  return parts.join(' && ');
}

/**
 * The filter for a record: the one the record carries (`displayFilter`, from the connection's own first and last
 * frame, where the record has that field) or else one built from the kept packets. Read defensively, so that the
 * report works with records with and without the field.
 */
export function recordFilter(r: ConnectionRecord): string | null {
  const carried = (r as unknown as { displayFilter?: unknown }).displayFilter;
  if (typeof carried === 'string' && carried !== '') return carried;
  return displayFilter(r.client, r.server, frameRange(r));
}
