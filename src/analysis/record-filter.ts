/**
 * The user's connection filters (--only, --ending, --host, --port), for records and for classified connections.
 * Plain data in, predicates out: a worker thread rebuilds the same predicates from the same arguments.
 */
import type { ClassifiedConnection } from '../classify/classified.js';
import { isAbnormal, type Ending } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { formatAddress } from '../decode/address.js';

export interface FilterArgs {
  only?: 'abnormal';
  ending?: Ending[];
  host?: string[];
  port?: number[];
}

/** Does the record pass the user's filters? */
export function recordFilter(a: FilterArgs): (r: ConnectionRecord) => boolean {
  const endings = a.ending && a.ending.length > 0 ? new Set(a.ending) : null;
  const hosts = hostSet(a);
  const ports = a.port && a.port.length > 0 ? new Set(a.port) : null;
  return (r) => {
    if (a.only === 'abnormal' && !isAbnormal(r.ending)) return false;
    if (endings && !endings.has(r.ending)) return false;
    if (hosts && !hosts.has(r.client.ip) && !hosts.has(r.server.ip)) return false;
    if (ports && !ports.has(r.client.port) && !ports.has(r.server.port)) return false;
    return true;
  };
}

/**
 * recordFilter for a classified connection, without building its record: the ending filters read the verdict, the
 * port and host filters the connection (its addresses written as the record writes them, only when asked for).
 */
export function classifiedFilter(a: FilterArgs): (c: ClassifiedConnection) => boolean {
  const endings = a.ending && a.ending.length > 0 ? new Set(a.ending) : null;
  const hosts = hostSet(a);
  const ports = a.port && a.port.length > 0 ? new Set(a.port) : null;
  if (a.only !== 'abnormal' && endings === null && hosts === null && ports === null) return () => true;
  return (c) => {
    if (a.only === 'abnormal' && !isAbnormal(c.ending)) return false;
    if (endings && !endings.has(c.ending)) return false;
    const conn = c.conn;
    if (ports && !ports.has(conn.clientPort) && !ports.has(conn.serverPort)) return false;
    if (hosts && !hosts.has(formatAddress(conn.ipVersion, conn.clientAddr)) && !hosts.has(formatAddress(conn.ipVersion, conn.serverAddr))) {
      return false;
    }
    return true;
  };
}

/** The --host addresses as records write them (no brackets, lower case), or null for none. */
function hostSet(a: FilterArgs): Set<string> | null {
  return a.host && a.host.length > 0 ? new Set(a.host.map((h) => h.replace(/^\[|\]$/g, '').toLowerCase())) : null;
}
