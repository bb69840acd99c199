/**
 * The RST burst detector: per service (the server end of the connections), the times of its last N RSTs in a
 * ring; N RSTs within the window is a burst — a service refusing or resetting connections (crash loop, full
 * backlog, a load balancer or firewall tearing connections down). While the burst goes on it is reported at most
 * once per window, with the count so far.
 *
 * Per RST, not per packet: the ring is a preallocated Float64Array; IPv4 services are keyed by a number
 * (address × 65536 + port), IPv6 ones by a string built only for RSTs.
 */
import type { Connection } from '../conn/connection.js';
import { formatAddress } from '../decode/address.js';
import type { RstBurstAlert } from './alerts.js';

export interface RstBurstOptions {
  /** RSTs that make a burst (≥ 1). */
  count: number;
  /** Within this many seconds. */
  windowS: number;
}

export const DEFAULT_RST_BURST: RstBurstOptions = { count: 20, windowS: 10 };

class ServiceRsts {
  readonly times: Float64Array;
  readonly frames: Float64Array;
  readonly fromServer: Uint8Array;
  head = 0;
  n = 0;
  total = 0;
  lastAt = 0;
  lastAlertAt = -Infinity;

  constructor(
    readonly ipVersion: 4 | 6,
    readonly addr: Uint32Array,
    readonly port: number,
    size: number,
  ) {
    this.times = new Float64Array(size);
    this.frames = new Float64Array(size);
    this.fromServer = new Uint8Array(size);
  }
}

export class RstBurstDetector {
  private readonly services = new Map<number | string, ServiceRsts>();

  constructor(readonly opts: RstBurstOptions) {
    if (!(opts.count >= 1) || !(opts.windowS > 0)) throw new RangeError('RST burst: count ≥ 1 and window > 0 needed');
  }

  private keyOf(conn: Connection): number | string {
    const a = conn.serverAddr;
    if (conn.ipVersion === 4) return (a[0]! >>> 0) * 65536 + conn.serverPort;
    return `${a[0]}:${a[1]}:${a[2]}:${a[3]}:${conn.serverPort}`;
  }

  /** One RST seen at capture time `t` (frame `frame`) on `conn`; returns an alert when it completes a burst. */
  onRst(conn: Connection, fromServer: boolean, t: number, frame: number): RstBurstAlert | null {
    const key = this.keyOf(conn);
    let s = this.services.get(key);
    if (s === undefined) {
      s = new ServiceRsts(conn.ipVersion, Uint32Array.from(conn.serverAddr), conn.serverPort, this.opts.count);
      this.services.set(key, s);
    }
    const size = s.times.length;
    s.times[s.head] = t;
    s.frames[s.head] = frame;
    s.fromServer[s.head] = fromServer ? 1 : 0;
    s.head = (s.head + 1) % size;
    if (s.n < size) s.n++;
    s.total++;
    s.lastAt = t;
    if (s.n < size) return null;
    // The ring is full: its oldest entry is the first of the last `count` RSTs.
    const oldest = s.head;
    const span = t - s.times[oldest]!;
    if (span > this.opts.windowS || t - s.lastAlertAt < this.opts.windowS) return null;
    s.lastAlertAt = t;
    let fromSrv = 0;
    for (let i = 0; i < size; i++) fromSrv += s.fromServer[i]!;
    return {
      alert: 'rst-burst',
      time: new Date(t * 1000).toISOString(),
      service: { ip: formatAddress(s.ipVersion, s.addr), port: s.port },
      rsts: size,
      spanS: span,
      fromServer: fromSrv,
      fromClient: size - fromSrv,
      total: s.total,
      firstFrame: s.frames[oldest]!,
      lastFrame: frame,
    };
  }

  /** Forgets services with no RST within the window before `nowSec` (bounded memory under a port scan). */
  prune(nowSec: number): void {
    for (const [k, s] of this.services) if (nowSec - s.lastAt > this.opts.windowS) this.services.delete(k);
  }

  get trackedServices(): number {
    return this.services.size;
  }
}
