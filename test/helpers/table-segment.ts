/**
 * Segments between one client and one server on documentation addresses, for tests that drive the connection
 * table directly: each connection is told apart by the client's port.
 */
import type { TcpSegment } from '../../src/decode/segment.js';

export const TABLE_SERVER = 0xc0000202; // 192.0.2.2, port 80
export const TABLE_CLIENT = 0xc0000201; // 192.0.2.1

export interface TableSegmentOptions {
  /** The client's port (the server's is 80). */
  cport: number;
  flags: number;
  /** Capture time, whole seconds. */
  t: number;
  seq: number;
  ack: number;
  frame?: number;
  fromServer?: boolean;
}

/** Fills `s` (reused) with one segment from the client to the server, or back. */
export function tableSegment(s: TcpSegment, o: TableSegmentOptions): TcpSegment {
  const fromServer = o.fromServer === true;
  s.ipVersion = 4;
  s.srcAddr.fill(0);
  s.dstAddr.fill(0);
  s.srcAddr[0] = fromServer ? TABLE_SERVER : TABLE_CLIENT;
  s.dstAddr[0] = fromServer ? TABLE_CLIENT : TABLE_SERVER;
  s.srcPort = fromServer ? 80 : o.cport;
  s.dstPort = fromServer ? o.cport : 80;
  s.flags = o.flags;
  s.seq = o.seq;
  s.ack = o.ack;
  s.tsSec = o.t;
  s.tsNs = 0;
  s.frame = o.frame ?? 0;
  return s;
}
