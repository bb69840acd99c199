/**
 * The record the decoders hand to the connection table: one TCP segment with the facts the TCP state machine
 * and the classifier need, already in host numbers.
 *
 * Like RawPacket, the decoder reuses ONE TcpSegment for every packet; the connection table copies what it keeps.
 * Addresses are held as four 32-bit words (IPv4 uses word 0 only), so that keying a connection needs no string
 * and no allocation.
 */
export interface TcpSegment {
  // --- where the packet came from
  frame: number;
  source: number;
  tsSec: number;
  tsNs: number;
  tsDigits: number;

  // --- network layer (innermost IP header that carries the TCP segment)
  ipVersion: 4 | 6;
  /** Source address: IPv4 in word 0 (network order as an unsigned number), IPv6 in words 0..3. */
  srcAddr: Uint32Array;
  dstAddr: Uint32Array;
  ttl: number;
  /** IPv4 identification (or -1 for IPv6), useful to spot duplicated frames. */
  ipId: number;

  // --- transport layer
  srcPort: number;
  dstPort: number;
  /** Unsigned 32-bit sequence and acknowledgement numbers. */
  seq: number;
  ack: number;
  /** TCP flags byte plus the NS bit as 0x100: see TCP_FIN .. TCP_CWR below. */
  flags: number;
  /** Raw window field (not scaled: scaling depends on the handshake, which the connection tracks). */
  window: number;
  urgent: number;
  /** Payload bytes carried on the wire: from the IP length, so it is right even when the capture was cut short. */
  payloadLen: number;
  /** Payload bytes actually present in the capture. */
  payloadCaptured: number;
  /**
   * Where the payload starts in the RawPacket's data buffer (valid until the next packet). For a segment rebuilt
   * from IP fragments the payload lies in the reassembly buffer instead: Decoder.payloadBuffer names the buffer
   * in both cases.
   */
  payloadOffset: number;

  // --- TCP options (-1 / false when absent)
  mss: number;
  windowScale: number;
  sackPermitted: boolean;
  hasTimestamps: boolean;
  tsVal: number;
  tsEcr: number;
  /** Number of SACK blocks and their edges: sackBlocks[2*i] = left edge, sackBlocks[2*i+1] = right edge. */
  sackCount: number;
  sackBlocks: Uint32Array;

  // --- capture facts
  /** 1 = checksum verified good, 0 = bad (offload makes this normal: counted, never dropped), -1 = not verifiable. */
  checksumOk: number;
  /** True when the snap length cut the packet inside the TCP header or payload. */
  truncated: boolean;
  /**
   * Encapsulation the segment was found in ("" when none), e.g. "mpls", "gre", "vxlan", "gtp-u", "teredo",
   * "ip-in-ip", "6in4", joined with "/" from the outside in. Built only from constant strings. VLAN tags are not
   * tunnels: they go to `vlans`.
   */
  tunnel: string;
  /** VLAN ids seen on the way in (outermost first), up to 4; vlanCount says how many. */
  vlanCount: number;
  vlans: Uint16Array;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
export const TCP_NS = 0x100;

export function newTcpSegment(): TcpSegment {
  return {
    frame: 0,
    source: 0,
    tsSec: 0,
    tsNs: 0,
    tsDigits: 6,
    ipVersion: 4,
    srcAddr: new Uint32Array(4),
    dstAddr: new Uint32Array(4),
    ttl: 0,
    ipId: -1,
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    urgent: 0,
    payloadLen: 0,
    payloadCaptured: 0,
    payloadOffset: 0,
    mss: -1,
    windowScale: -1,
    sackPermitted: false,
    hasTimestamps: false,
    tsVal: 0,
    tsEcr: 0,
    sackCount: 0,
    sackBlocks: new Uint32Array(8),
    checksumOk: -1,
    truncated: false,
    tunnel: '',
    vlanCount: 0,
    vlans: new Uint16Array(4),
  };
}

/** Why a frame was or was not turned into a TcpSegment. Counted per run; listed with --verbose. */
export const DecodeOutcome = {
  /** A TCP segment: the TcpSegment is filled. */
  Tcp: 0,
  /** A well-formed frame of another protocol (UDP, ICMP, ARP, …): counted, not decoded further. */
  NotTcp: 1,
  /**
   * An IP fragment that does not complete its datagram: counted and skipped. The fragment that completes a
   * datagram is decoded from the rebuilt datagram (as Wireshark does) and gets that datagram's outcome.
   */
  Fragment: 2,
  /** Too short to decode (the snap length cut it inside a header the decoder needs). */
  TooShort: 3,
  /** Malformed header (IHL < 5, data offset < 5, lengths that contradict each other…). */
  Malformed: 4,
  /** Link type the decoder does not know. */
  UnknownLinkType: 5,
} as const;
export type DecodeOutcome = (typeof DecodeOutcome)[keyof typeof DecodeOutcome];
