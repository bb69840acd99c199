/**
 * Counters the decoders keep for the run's summary. Every frame read lands in exactly one of the outcome
 * counters (tcp + notTcp + fragments + tooShort + malformed + unknownLinkType = frames), so that nothing is lost
 * silently. The other counters are details beside that partition.
 */
export interface DecodeStats {
  frames: number;
  tcp: number;
  notTcp: number;
  fragments: number;
  tooShort: number;
  malformed: number;
  unknownLinkType: number;
  /** TCP segments whose checksum was verified bad (normal with offload: the segment is still used). */
  badChecksums: number;
  /** TCP segments whose checksum could not be verified (truncated, GSO super-frame, …). */
  uncheckedChecksums: number;
  /** TCP segments cut by the snap length (headers complete, payload partly missing). */
  truncatedTcp: number;
  /** TCP segments found inside a tunnel (GRE, VXLAN, GTP-U, …). */
  tunnelled: number;
  /** ICMP / ICMPv6 errors quoting a TCP header (not TCP segments themselves; Wireshark does not count them either). */
  icmpQuotingTcp: number;
  /** Non-TCP frames by protocol name ("udp", "icmp", "arp", "ipv4-other", …). */
  notTcpByKind: Map<string, number>;
  /** Frames that could not be decoded, by reason, for --verbose: first few frame numbers kept per reason. */
  problems: Map<string, { count: number; frames: number[] }>;
}

export function newDecodeStats(): DecodeStats {
  return {
    frames: 0,
    tcp: 0,
    notTcp: 0,
    fragments: 0,
    tooShort: 0,
    malformed: 0,
    unknownLinkType: 0,
    badChecksums: 0,
    uncheckedChecksums: 0,
    truncatedTcp: 0,
    tunnelled: 0,
    icmpQuotingTcp: 0,
    notTcpByKind: new Map(),
    problems: new Map(),
  };
}

/** Keeps at most this many example frame numbers per problem reason (bounded memory on hostile input). */
export const PROBLEM_FRAMES_KEPT = 20;

export function noteProblem(stats: DecodeStats, reason: string, frame: number): void {
  let p = stats.problems.get(reason);
  if (p === undefined) {
    p = { count: 0, frames: [] };
    stats.problems.set(reason, p);
  }
  p.count++;
  if (p.frames.length < PROBLEM_FRAMES_KEPT) p.frames.push(frame);
}
