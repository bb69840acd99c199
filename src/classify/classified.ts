import type { Connection } from '../conn/connection.js';
import { isoTime } from '../conn/time.js';
import { formatAddress } from '../decode/address.js';
import { recordOf, type RecordDetail } from './build-record.js';
import type { Verdict } from './classifier.js';
import type { ConnectionRecord, Endpoint } from './record.js';

/**
 * A connection just classified, before its record is built. Consumers that only count (the summary tables) read
 * the verdict and a few numbers; the record — addresses as text, times, explanation, filters, ladder: most of
 * the cost of a connection once its packets are counted — is built only when asked for.
 *
 * One view is reused for every connection: it is valid only during the callback it is passed to (the connection
 * object is recycled right after).
 */
export class ClassifiedConnection {
  conn!: Connection;
  verdict!: Verdict;
  private detail: RecordDetail = 'full';
  private built: ConnectionRecord | null = null;

  /** Points the view at the next connection. */
  set(conn: Connection, verdict: Verdict, detail: RecordDetail): this {
    this.conn = conn;
    this.verdict = verdict;
    this.detail = detail;
    this.built = null;
    return this;
  }

  get id(): number {
    return this.conn.id;
  }

  get ending(): Verdict['ending'] {
    return this.verdict.ending;
  }

  get closer(): Verdict['closer'] {
    return this.verdict.closer;
  }

  get closeWaitMs(): number | null {
    return this.verdict.closeWaitMs;
  }

  /** The full record (built once, on the first call). */
  record(): ConnectionRecord {
    return (this.built ??= recordOf(this.conn, this.verdict, this.detail));
  }

  /** Start time as the record writes it. */
  start(): string {
    const c = this.conn;
    return this.built !== null ? this.built.start : isoTime(c.firstSec, c.firstNs, c.tsDigits);
  }

  /**
   * A key for the server endpoint that equals for equal endpoints, without building text: a number for IPv4
   * (address × 65536 + port, exact in a double), the endpoint's text for IPv6.
   */
  serviceKey(): number | string {
    const c = this.conn;
    if (c.ipVersion === 4) return (c.serverAddr[0]! >>> 0) * 65536 + c.serverPort;
    return `[${formatAddress(6, c.serverAddr)}]:${c.serverPort}`;
  }

  server(): Endpoint {
    const c = this.conn;
    return this.built !== null ? this.built.server : { ip: formatAddress(c.ipVersion, c.serverAddr), port: c.serverPort };
  }
}
