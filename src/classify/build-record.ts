import type { Connection } from '../conn/connection.js';
import type { EndpointTrack } from '../conn/endpoint.js';
import { NOTE_TEXT } from '../conn/ladder-trace.js';
import { isoTime, toSeconds } from '../conn/time.js';
import { formatAddress } from '../decode/address.js';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../decode/segment.js';
import { displayFilterOf, tcpStreamOf } from '../interop/wireshark.js';
import { zeekFactsOf } from '../interop/zeek-state.js';
import { classify, type ClassifierOptions, type ClassifyContext, type Verdict } from './classifier.js';
import { explain } from './explain.js';
import type { ConnectionRecord, EndSummary, LadderPacket } from './record.js';

/** TCP flags as Wireshark writes them in its Info column, e.g. "FIN, ACK". */
export function flagNames(flags: number): string {
  const names: string[] = [];
  if (flags & TCP_SYN) names.push('SYN');
  if (flags & TCP_FIN) names.push('FIN');
  if (flags & TCP_RST) names.push('RST');
  if (flags & TCP_PSH) names.push('PSH');
  if (flags & TCP_ACK) names.push('ACK');
  if (flags & TCP_URG) names.push('URG');
  if (flags & TCP_ECE) names.push('ECE');
  if (flags & TCP_CWR) names.push('CWR');
  return names.join(', ');
}

function endSummary(conn: Connection, e: EndpointTrack, full: boolean): EndSummary {
  return {
    state: e.state,
    states: full ? e.states().map((s) => ({ state: s.state, rel: round6(s.time - conn.firstTime), frame: s.frame })) : [],
    retransmissions: e.retransmissions,
    keepAlives: e.keepAlives,
    zeroWindows: e.zeroWindows,
    finFrame: e.hasFin ? e.finFrame : null,
    finAcked: e.finAcked,
    rstFrames: e.hasRst ? [e.rstFrame] : [],
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function ladder(conn: Connection): LadderPacket[] {
  const c = conn.client;
  const s = conn.server;
  return conn.trace.packets().map((p) => {
    const from = p.fromServer ? s : c;
    const to = p.fromServer ? c : s;
    const rel = (x: number, base: EndpointTrack) => (base.hasBase ? (x - base.baseSeq) >>> 0 : x);
    const hasAck = (p.flags & TCP_ACK) !== 0;
    const isSyn = (p.flags & TCP_SYN) !== 0;
    return {
      frame: p.frame,
      time: isoTime(p.tsSec, p.tsNs, conn.tsDigits),
      rel: round6(toSeconds(p.tsSec, p.tsNs) - conn.firstTime),
      from: p.fromServer ? 'server' : 'client',
      flags: flagNames(p.flags),
      seq: rel(p.seq, from),
      ack: hasAck ? rel(p.ack, to) : 0,
      len: p.len,
      win: isSyn ? p.win : p.win * 2 ** from.wscaleShift,
      note: NOTE_TEXT[p.note] ?? '',
    };
  });
}

/**
 * How much of the record to build: 'full' (JSON outputs, ladders, reports) or 'summary', which leaves the ladder
 * and the state lists empty — what the terminal tables, CSV and conn.log need, at a fraction of the cost and
 * garbage when hundreds of thousands of connections go by.
 */
export type RecordDetail = 'full' | 'summary';

/** Classifies a connection and builds its record (allocates: once per connection, never per packet). */
export function buildRecord(conn: Connection, opts: ClassifierOptions, ctx: ClassifyContext, detail: RecordDetail = 'full'): ConnectionRecord {
  return recordOf(conn, classify(conn, opts, ctx), detail);
}

/** The record of a connection already classified. */
export function recordOf(conn: Connection, v: Verdict, detail: RecordDetail = 'full'): ConnectionRecord {
  const full = detail === 'full';
  const client = { ip: formatAddress(conn.ipVersion, conn.clientAddr), port: conn.clientPort };
  const server = { ip: formatAddress(conn.ipVersion, conn.serverAddr), port: conn.serverPort };
  const fmt = (e: { ip: string; port: number }) => (conn.ipVersion === 6 ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);
  const anomalies: string[] = [];
  const oow = conn.client.outOfWindowRsts + conn.server.outOfWindowRsts;
  if (oow > 0) anomalies.push(`${oow} out-of-window RST${oow > 1 ? 's' : ''} ignored (RFC 5961)`);
  if (conn.badChecksums > 0) anomalies.push(`${conn.badChecksums} bad TCP checksum${conn.badChecksums > 1 ? 's' : ''} (checksum offload on the capturing host is the usual cause)`);
  const gaps = conn.client.gaps + conn.server.gaps;
  if (gaps > 0) anomalies.push(`${gaps} gap${gaps > 1 ? 's' : ''} in the sequence space (segments the capture missed)`);
  if (conn.duplicates > 0) anomalies.push(`${conn.duplicates} segment${conn.duplicates > 1 ? 's' : ''} of data already acknowledged (a duplicated frame, or a spurious retransmission)`);
  if (conn.truncated > 0) anomalies.push(`${conn.truncated} segment${conn.truncated > 1 ? 's' : ''} cut short by the snap length`);
  const zeek = conn.zeekTracked ? zeekFactsOf(conn) : null;
  return {
    id: conn.id,
    client,
    server,
    start: isoTime(conn.firstSec, conn.firstNs, conn.tsDigits),
    end: isoTime(conn.lastSec, conn.lastNs, conn.tsDigits),
    durationMs: Math.max(0, Math.round((conn.lastTime - conn.firstTime) * 1e6) / 1e3),
    packets: { client: conn.client.packets, server: conn.server.packets },
    bytes: { client: conn.client.payloadBytes, server: conn.server.payloadBytes },
    handshake: v.handshake,
    midstream: conn.midstream,
    ending: v.ending,
    cause: v.cause,
    closer: v.closer,
    closeWaitMs: v.closeWaitMs,
    finWait2Ms: v.finWait2Ms,
    rstReason: v.rstReason,
    confidence: v.confidence,
    // Copies: the verdict may be reused for the next connection (classify's `into`).
    confidenceReasons: [...v.confidenceReasons],
    appView: { client: v.appView.client, server: v.appView.server },
    evidence: [...v.evidence],
    explanation: explain(v, { client: fmt(client), server: fmt(server) }),
    tunnel: conn.tunnel,
    incarnation: conn.incarnation,
    tcpStream: tcpStreamOf(conn),
    displayFilter: displayFilterOf(conn),
    zeekConnState: zeek?.connState ?? null,
    zeekHistory: zeek?.history ?? null,
    zeekConn: zeek && { duration: zeek.duration, origBytes: zeek.origBytes, respBytes: zeek.respBytes, missedBytes: zeek.missedBytes },
    endpoints: { client: endSummary(conn, conn.client, full), server: endSummary(conn, conn.server, full) },
    anomalies,
    ladder: full ? ladder(conn) : [],
  };
}
