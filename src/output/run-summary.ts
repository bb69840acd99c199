/**
 * The facts of one run, for the capture header of the table output and the `summary` of `--format json`.
 *
 * A plain serialisable object (no Map, no Date, no class): the pipeline fills it while it runs, the renderers
 * only read it, and JSON.stringify writes it as it is. Field names are part of the JSON interface.
 */

/** One capture source as the run read it. */
export interface CaptureFileSummary {
  /** The path as the user gave it ("-" for standard input). */
  name: string;
  /** "pcap", "pcap-ns", "pcapng" (with "+gzip" when it was compressed). */
  format: string;
  /** Frames read from this source. */
  frames: number;
  /** Bytes read from the source as stored. */
  bytes: number;
  /** LINKTYPE_* values seen (per interface for pcapng). */
  linkTypes: number[];
  /** Why reading stopped early (damaged or unreadable file), or null when the file was read to its end. */
  error: string | null;
  /** Packets the capturing host says it dropped (pcapng isb_ifdrop), or null when the file does not say. */
  droppedByCapture: number | null;
  /** Non-fatal notes from the reader (unknown blocks skipped, …). */
  notes: string[];
}

/** The thresholds the classifier used, so a reader of the output can tell how "stuck" and "orphan" were judged. */
export interface RunThresholds {
  /** A CLOSE_WAIT longer than this counts as stuck. */
  closeWaitThresholdMs: number;
  /** The FIN_WAIT_2 timeout assumed for orphaned sockets (Linux tcp_fin_timeout, 60 s by default). */
  finTimeoutMs: number;
}

export interface RunSummary {
  files: CaptureFileSummary[];
  /** ISO 8601 UTC time of the first and last frame, or null when no frame was read. */
  captureStart: string | null;
  captureEnd: string | null;
  /** Frames read from all sources. */
  packetsRead: number;
  tcpSegments: number;
  /** Frames of other protocols, in total and by kind ("udp", "icmp", "arp", …). */
  notTcp: number;
  notTcpByKind: Record<string, number>;
  /** IP fragments (not reassembled). */
  fragments: number;
  /** Frames cut too short to decode a header the decoder needs. */
  tooShort: number;
  /** Frames with self-contradicting headers. */
  malformed: number;
  /** Frames whose link type the decoder does not know. */
  unknownLinkType: number;
  /** TCP segments whose checksum was verified bad (normal with checksum offload; they are still used). */
  badChecksums: number;
  /** Connections classified: all of them (--only, --ending, --host and --port choose what is listed, not this count). */
  connections: number;
  /** Connections evicted from the connection table before their end (memory limit). */
  evictedConnections: number;
  /** RSTs outside the receive window, ignored as RFC 5961 says. */
  outOfWindowRstsIgnored: number;
  thresholds: RunThresholds;
}

/** An empty summary: every counter at zero, no files. */
export function newRunSummary(thresholds: RunThresholds): RunSummary {
  return {
    files: [],
    captureStart: null,
    captureEnd: null,
    packetsRead: 0,
    tcpSegments: 0,
    notTcp: 0,
    notTcpByKind: {},
    fragments: 0,
    tooShort: 0,
    malformed: 0,
    unknownLinkType: 0,
    badChecksums: 0,
    connections: 0,
    evictedConnections: 0,
    outOfWindowRstsIgnored: 0,
    thresholds: { closeWaitThresholdMs: thresholds.closeWaitThresholdMs, finTimeoutMs: thresholds.finTimeoutMs },
  };
}

/** Turns a counter map (DecodeStats.notTcpByKind) into the plain object the summary holds, keys sorted. */
export function countsToRecord(counts: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of [...counts.keys()].sort()) out[key] = counts.get(key) ?? 0;
  return out;
}
