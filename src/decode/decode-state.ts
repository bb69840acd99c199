/**
 * The decoder's scratch state: a cursor over the frame and the facts of the innermost IP header, reused for
 * every packet (one object per Decoder, stable shape, no allocation per packet).
 *
 * Three offsets bound every read: `off` is where the current header starts, `capEnd` is the end of the bytes
 * that were captured, `wireEnd` the end of the bytes the current layer had on the wire (it can pass `capEnd`
 * when the snap length cut the frame). A header that needs bytes past `capEnd` is TooShort when those bytes
 * existed on the wire (or when no trustworthy length says otherwise), and Malformed when a trusted IP length
 * says the packet ended before them.
 */
import type { DecodeStats } from './stats.js';
import { DecodeOutcome, newTcpSegment, type TcpSegment } from './segment.js';
import type { NotTcpKind } from './link-types.js';
import { MAX_TUNNEL_DEPTH, type Tunnel } from './tunnels.js';
import type { FragmentReassembler } from './fragments.js';

/**
 * What to decode next. Values below FIRST_LAYER_STEP are final DecodeOutcome values, so a layer decoder returns
 * either the next layer or the outcome of the frame.
 */
export const Step = {
  Ethernet: 10,
  Vlan: 11,
  Mpls: 12,
  PwEthernet: 13,
  Pppoe: 14,
  Ppp: 15,
  FabricPath: 16,
  Ipv4: 17,
  Ipv6: 18,
  Tcp: 19,
  Udp: 20,
  Icmp: 21,
  Icmpv6: 22,
  Gre: 23,
  Vxlan: 24,
  Geneve: 25,
  Teredo: 26,
  GtpU: 27,
  ErspanII: 28,
  ErspanIII: 29,
} as const;
export const FIRST_LAYER_STEP = 10;

const EMPTY = Buffer.alloc(0);

export class DecodeState {
  buf: Buffer = EMPTY;
  off = 0;
  capEnd = 0;
  wireEnd = 0;
  /** True while wireEnd comes from an IP length that fits the frame (or from a reassembled datagram). */
  lenTrusted = false;

  frame = 0;
  tsSec = 0;
  /** Set by a layer that returns NotTcp. */
  kind: NotTcpKind | '' = '';
  /** Set by a layer that returns TooShort or Malformed: a snake_case problem code. */
  reason = '';

  tunnelDepth = 0;
  /** Tunnel kinds so far, 4 bits a layer, outermost in the highest digit (see tunnels.ts). */
  tunnelCode = 0;
  vlanTags = 0;

  // --- facts of the innermost IP header (copied into the segment only when TCP is found)
  ipVersion: 4 | 6 = 4;
  /** Where the innermost IP header starts in `buf` (before any reassembly switched buffers). */
  ipOff = 0;
  ttl = 0;
  ipId = -1;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** IPv6 pseudo-header destination: the final destination when a routing header is present. */
  readonly ckDst = new Uint32Array(4);
  /** False when the checksum cannot be checked for a reason found on the way (unknown routing header type). */
  ckDstKnown = true;
  /** IPv6 payload length was 0: the hop-by-hop jumbo option, if any, gives the real length. */
  jumbo = false;

  /** The segment being filled (only the VLAN list is written before TCP is reached). */
  seg: TcpSegment = newTcpSegment();

  constructor(
    readonly stats: DecodeStats,
    /** Null when fragments are only counted, never rebuilt. */
    readonly reassembler: FragmentReassembler | null,
    /** False to skip TCP checksum verification (checksumOk is then always -1). */
    readonly verifyChecksums: boolean,
  ) {}

  tooShort(reason: string): number {
    this.reason = reason;
    return DecodeOutcome.TooShort;
  }

  malformed(reason: string): number {
    this.reason = reason;
    return DecodeOutcome.Malformed;
  }

  notTcp(kind: NotTcpKind): number {
    this.kind = kind;
    return DecodeOutcome.NotTcp;
  }

  /** A header needs bytes up to `need` but fewer were captured: cut short, or contradicted by a trusted length. */
  fail(need: number, truncated: string, malformed: string): number {
    if (this.lenTrusted && need > this.wireEnd) return this.malformed(malformed);
    return this.tooShort(truncated);
  }

  /** A fixed-size header of `size` bytes with nothing in it the analysis needs: skip it, then go on with `next`. */
  skip(size: number, next: number, truncated: string, malformed: string): number {
    const o = this.off;
    if (this.capEnd - o < size) return this.fail(o + size, truncated, malformed);
    this.off = o + size;
    return next;
  }

  /** Sets the end of the current layer from a length field that fits inside the current bounds. */
  limit(end: number): void {
    this.wireEnd = end;
    if (this.capEnd > end) this.capEnd = end;
  }

  /** Notes one more encapsulation on the path, then goes on with `next`; too deep a nesting is Malformed. */
  enter(kind: Tunnel, next: number): number {
    if (this.tunnelDepth >= MAX_TUNNEL_DEPTH) return this.malformed('too_many_encapsulations');
    this.tunnelDepth++;
    this.tunnelCode = this.tunnelCode * 16 + kind;
    return next;
  }
}
