/**
 * Zeek's conn_state for a connection, from the Zeek endpoint states our tracker keeps beside our own TCP state
 * (src/conn/zeek-history.ts), following conn_state() in zeek/zeek scripts/base/protocols/conn/main.zeek.
 *
 * conn_state is a pure function of the two ends' final observer states, their sequence-space sizes (REJ) and
 * the history (RSTOS0), so it is computed once, when the record is built.
 */
import type { Connection } from '../conn/connection.js';
import { ZEEK_EP, type ZeekEndpoint, type ZeekHistory } from '../conn/zeek-history.js';

export const ZEEK_CONN_STATES = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'] as const;
export type ZeekConnState = (typeof ZEEK_CONN_STATES)[number];

/** A history that is a SYN, then anything but a SYN-ACK, ACK, FIN, gap, inconsistency or multi-flag, then a RST. */
const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R.*$/;

function inactive(e: ZeekEndpoint): boolean {
  return e.state === ZEEK_EP.INACTIVE || e.state === ZEEK_EP.PARTIAL;
}

/** conn_state() for TCP, from the tracker's two ends and its history string. */
export function connStateOf(h: ZeekHistory, history: string): ZeekConnState {
  const o = h.orig;
  const r = h.resp;
  const os = o.state;
  const rs = r.state;
  if (rs === ZEEK_EP.RESET) {
    if (os === ZEEK_EP.SYN_SENT || os === ZEEK_EP.SYN_ACK_SENT || (os === ZEEK_EP.RESET && o.size(r) === 0 && r.size(o) === 0)) return 'REJ';
    return inactive(o) ? 'RSTRH' : 'RSTR';
  }
  if (os === ZEEK_EP.RESET) {
    if (inactive(r)) return RSTOS0_HISTORY.test(history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === ZEEK_EP.CLOSED && os === ZEEK_EP.CLOSED) return 'SF';
  if (os === ZEEK_EP.CLOSED) return inactive(r) ? 'SH' : 'S2';
  if (rs === ZEEK_EP.CLOSED) return inactive(o) ? 'SHR' : 'S3';
  if (os === ZEEK_EP.SYN_SENT && rs === ZEEK_EP.INACTIVE) return 'S0';
  if (os === ZEEK_EP.ESTABLISHED && rs === ZEEK_EP.ESTABLISHED) return 'S1';
  return 'OTH';
}

/** What Zeek's conn.log would carry for the fields Zeek computes its own way. */
export interface ZeekConnFacts {
  connState: ZeekConnState;
  history: string;
  /**
   * Seconds from the first packet to the last one before both ends had closed (Zeek leaves out the trailing
   * ACK), at microsecond resolution as Zeek reads traces; null when zero (Zeek then logs no duration and no sizes).
   */
  duration: number | null;
  /** Sequence-space sizes (Zeek's orig_bytes / resp_bytes: bytes lost in gaps count, SYN and FIN do not). */
  origBytes: number | null;
  respBytes: number | null;
  /** Bytes acknowledged but never seen, in both directions (conn.log missed_bytes). */
  missedBytes: number;
}

export function zeekFactsOf(conn: Connection): ZeekConnFacts {
  const h = conn.history;
  const history = h.toString();
  // Zeek reads traces through libpcap at microsecond resolution: nanoseconds are cut, not rounded.
  const firstUs = conn.firstSec * 1e6 + Math.floor(conn.firstNs / 1000);
  const lastUs = h.lastSec * 1e6 + Math.floor(h.lastNs / 1000);
  const durUs = h.started ? lastUs - firstUs : 0;
  const has = durUs > 0;
  return {
    connState: connStateOf(h, history),
    history,
    duration: has ? durUs / 1e6 : null,
    origBytes: has ? h.orig.size(h.resp) : null,
    respBytes: has ? h.resp.size(h.orig) : null,
    missedBytes: h.missedBytes(),
  };
}
