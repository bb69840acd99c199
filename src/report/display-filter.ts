/**
 * The frames of a connection as a report shows them. The Wireshark filter that selects exactly its packets is the
 * record's own `displayFilter` (src/interop/wireshark.ts).
 */
import type { ConnectionRecord } from '../classify/record.js';

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
