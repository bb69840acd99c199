import type { ZeekConnState } from '../interop/zeek-state.js';
import type { AppView, Cause, Closer, Confidence, Ending, Handshake, RstReason, Side, TcpState } from './labels.js';

export interface Endpoint {
  ip: string;
  port: number;
}

/** One packet of a connection as the ladder diagram draws it (kept for the handshake and the teardown). */
export interface LadderPacket {
  /** Run-wide frame number (equals Wireshark's frame number for a single file). */
  frame: number;
  /** ISO 8601 UTC at the capture's resolution. */
  time: string;
  /** Seconds since the connection's first packet (float, for gaps and drawing). */
  rel: number;
  from: Side;
  /** Flags as Wireshark writes them: "SYN", "SYN, ACK", "FIN, ACK", "RST", "RST, ACK", "PSH, ACK" … */
  flags: string;
  /** Sequence and acknowledgement numbers relative to each side's initial sequence number (absolute when midstream). */
  seq: number;
  ack: number;
  len: number;
  /** Scaled window in bytes (the raw field when the scale is unknown). */
  win: number;
  /** What this packet means for the teardown: "retransmission", "keep-alive", "zero window", "out-of-window RST", … */
  note: string;
}

/** A state an end entered, and when (seconds since the connection's first packet). */
export interface StateChange {
  state: TcpState;
  rel: number;
  frame: number;
}

export interface EndSummary {
  /** Inferred final state of this end. */
  state: TcpState;
  /** The states this end went through, with when (seconds since the first packet) and the frame that moved it. */
  states: StateChange[];
  /** Segments this end sent again (data, SYN or FIN). */
  retransmissions: number;
  keepAlives: number;
  /** Times this end advertised a zero window. */
  zeroWindows: number;
  /** Frame of this end's first FIN, and whether the peer acknowledged it. */
  finFrame: number | null;
  finAcked: boolean;
  /** Frame of the first RST this end sent that was accepted (in window). */
  rstFrames: number[];
}

/** Zeek's conn.log duration and sizes; duration and sizes are null where Zeek leaves them unset (zero duration). */
export interface ZeekConnSizes {
  /** Seconds, microsecond resolution. */
  duration: number | null;
  /** Sequence-space bytes of each side (bytes lost in gaps included), Zeek's orig_bytes / resp_bytes. */
  origBytes: number | null;
  respBytes: number | null;
  /** Bytes acknowledged but never captured, both directions (missed_bytes). */
  missedBytes: number;
}

/**
 * One connection's record: what `--format json|ndjson|csv` writes. Field names are part of the interface.
 */
export interface ConnectionRecord {
  id: number;
  client: Endpoint;
  server: Endpoint;
  /** ISO 8601 UTC, at the capture's resolution. */
  start: string;
  end: string;
  durationMs: number;
  packets: { client: number; server: number };
  /** Payload bytes. */
  bytes: { client: number; server: number };
  handshake: Handshake;
  midstream: boolean;
  ending: Ending;
  cause: Cause | null;
  closer: Closer | null;
  closeWaitMs: number | null;
  finWait2Ms: number | null;
  rstReason: RstReason | null;
  confidence: Confidence;
  /** Why confidence is lower than high (capture began mid-connection, ended while open, evicted, …). */
  confidenceReasons: string[];
  appView: { client: AppView; server: AppView };
  /** Frame numbers of the packets that decided the label. */
  evidence: number[];
  explanation: string;
  /** Encapsulation the connection was carried in ("" when none). */
  tunnel: string;
  /** Incarnation of this 4-tuple in the capture (1 for the first; port reuse makes 2, 3, …). */
  incarnation: number;
  /** The `tcp.stream` index Wireshark gives this connection (docs/interop.md). */
  tcpStream: number;
  /** A Wireshark display filter that selects exactly this connection's packets (tuple and frame range). */
  displayFilter: string;
  /**
   * Zeek's conn_state for the connection, the client taken as originator (docs/interop.md maps our endings).
   * This and the two fields after it are null when the run did not follow Zeek's view (the summary tables, which
   * do not show it, leave it out for speed).
   */
  zeekConnState: ZeekConnState | null;
  /** Zeek's history letters: upper case for the client (originator), lower case for the server; `^` = first packet from the server. */
  zeekHistory: string | null;
  /** conn.log fields Zeek computes its own way (duration without trailing packets, sequence-space sizes). */
  zeekConn: ZeekConnSizes | null;
  endpoints: { client: EndSummary; server: EndSummary };
  /** Out-of-window RSTs seen and ignored (RFC 5961), bad checksums, duplicates… */
  anomalies: string[];
  /** The handshake and the teardown packets, bounded, for the ladder diagram. */
  ladder: LadderPacket[];
}
