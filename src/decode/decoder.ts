/**
 * The decoder: one captured frame in, one outcome out, and for TCP the reused TcpSegment filled.
 *
 * Layers are decoded in a loop over Steps (decode-state.ts): each layer decoder checks its bytes, moves the
 * cursor and names the next layer, until an outcome is reached. The loop is bounded, so hostile nesting cannot
 * spin, and nothing is allocated per packet (fragment reassembly, off the hot path, is the exception).
 * Every frame lands in exactly one outcome counter of DecodeStats.
 */
import type { RawPacket } from '../capture/raw-packet.js';
import { DecodeOutcome, type TcpSegment } from './segment.js';
import { newDecodeStats, noteProblem, type DecodeStats } from './stats.js';
import { DecodeState, FIRST_LAYER_STEP, Step } from './decode-state.js';
import {
  decodeEthernet,
  ETHERNET_HEADER_LEN,
  decodeFabricPath,
  decodeLinkHeader,
  decodeMpls,
  decodePpp,
  decodePppoe,
  decodePwEthernet,
  decodeVlan,
} from './link-layer.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeIcmp, decodeIcmpv6 } from './ip-proto.js';
import { decodeGeneve, decodeGtpU, decodeTeredo, decodeUdp, decodeVxlan } from './udp.js';
import { decodeErspanII, decodeErspanIII, decodeGre } from './gre.js';
import { decodeTcp } from './tcp.js';
import { tunnelPath } from './tunnels.js';
import { LinkType } from './link-types.js';
import { FragmentReassembler, type ReassemblyStats } from './fragments.js';


/** Layers one frame may pass through before it is Malformed (`too_many_layers`); real frames use under 15. */
export const MAX_LAYERS = 64;

export interface DecoderOptions {
  /** Rebuild fragmented IP datagrams (default true); when false every fragment is only counted. */
  reassemble?: boolean;
  /** Most datagrams waiting for fragments at once (default 256). */
  maxPendingDatagrams?: number;
  /** Seconds of packet time after which an incomplete datagram is dropped (default 60). */
  fragmentTimeoutSec?: number;
  /**
   * Verify TCP checksums (default true). Summing every payload costs about as much as decoding all the headers
   * of a full-size segment; without it every checksumOk is -1 and counted as unchecked.
   */
  verifyChecksums?: boolean;
}

export class Decoder {
  readonly stats: DecodeStats;
  private readonly st: DecodeState;
  private readonly reassembler: FragmentReassembler | null;

  constructor(stats: DecodeStats = newDecodeStats(), options: DecoderOptions = {}) {
    this.stats = stats;
    this.reassembler =
      options.reassemble === false
        ? null
        : new FragmentReassembler(options.maxPendingDatagrams ?? 256, options.fragmentTimeoutSec ?? 60);
    this.st = new DecodeState(stats, this.reassembler, options.verifyChecksums !== false);
  }

  /**
   * The buffer that TcpSegment.payloadOffset indexes for the last TCP segment: the RawPacket's data, or the
   * reassembly buffer when the segment came from a rebuilt datagram. Valid until the next decode().
   */
  get payloadBuffer(): Buffer {
    return this.st.buf;
  }

  /** Fragment reassembly counters (datagrams rebuilt, expired, evicted, dropped). */
  get reassemblyStats(): ReassemblyStats {
    return this.reassembler?.stats ?? { datagrams: 0, expired: 0, evicted: 0, dropped: 0 };
  }

  /**
   * Decodes one frame into `seg`. `frame` is the number the segment and the frame's problems carry: the run's
   * number when the caller has one (several files merged: the merged stream's), else the source's.
   */
  decode(pkt: RawPacket, seg: TcpSegment, frame: number = pkt.frame): DecodeOutcome {
    const st = this.st;
    const stats = this.stats;
    stats.frames++;
    const data = pkt.data;
    const start = pkt.offset;
    let capEnd = start + pkt.capLen;
    // A source bug must not make us read past the buffer: clamp to what is there.
    if (capEnd > data.length) capEnd = data.length;
    // Stored only when the chunk changed: storing a new (young) buffer into the long-lived state runs the
    // collector's write barrier, on every frame.
    if (st.buf !== data) st.buf = data;
    st.off = start;
    st.capEnd = capEnd;
    st.wireEnd = pkt.origLen > pkt.capLen ? start + pkt.origLen : capEnd;
    st.lenTrusted = false;
    st.frame = frame;
    st.tsSec = pkt.tsSec;
    st.tunnelDepth = 0;
    st.tunnelCode = 0;
    st.vlanTags = 0;
    st.ckDstKnown = true;
    st.kind = '';
    st.reason = '';
    st.seg = seg;
    seg.vlanCount = 0;

    // The common frame, Ethernet carrying IPv4 carrying TCP, goes straight through its three layers; the loop
    // takes whatever else comes (the same decoders, in the same order: only the dispatch is skipped).
    let step: number;
    let layers = 0;
    if (pkt.linkType === LinkType.Ethernet && capEnd - start >= ETHERNET_HEADER_LEN && data[start + 12] === 0x08 && data[start + 13] === 0x00) {
      st.off = start + ETHERNET_HEADER_LEN;
      step = decodeIpv4(st);
      layers = 2;
      if (step === Step.Tcp) {
        step = decodeTcp(st);
        layers = 3;
      }
    } else {
      step = decodeLinkHeader(st, pkt.linkType);
    }
    for (; step >= FIRST_LAYER_STEP; layers++) {
      if (layers >= MAX_LAYERS) {
        step = st.malformed('too_many_layers');
        break;
      }
      switch (step) {
        case Step.Ethernet:
          step = decodeEthernet(st);
          break;
        case Step.Vlan:
          step = decodeVlan(st);
          break;
        case Step.Ipv4:
          step = decodeIpv4(st);
          break;
        case Step.Ipv6:
          step = decodeIpv6(st);
          break;
        case Step.Tcp:
          step = decodeTcp(st);
          break;
        case Step.Udp:
          step = decodeUdp(st);
          break;
        case Step.Icmp:
          step = decodeIcmp(st);
          break;
        case Step.Icmpv6:
          step = decodeIcmpv6(st);
          break;
        case Step.Mpls:
          step = decodeMpls(st);
          break;
        case Step.PwEthernet:
          step = decodePwEthernet(st);
          break;
        case Step.Pppoe:
          step = decodePppoe(st);
          break;
        case Step.Ppp:
          step = decodePpp(st);
          break;
        case Step.FabricPath:
          step = decodeFabricPath(st);
          break;
        case Step.Gre:
          step = decodeGre(st);
          break;
        case Step.ErspanII:
          step = decodeErspanII(st);
          break;
        case Step.ErspanIII:
          step = decodeErspanIII(st);
          break;
        case Step.Vxlan:
          step = decodeVxlan(st);
          break;
        case Step.Geneve:
          step = decodeGeneve(st);
          break;
        case Step.Teredo:
          step = decodeTeredo(st);
          break;
        case Step.GtpU:
          step = decodeGtpU(st);
          break;
        default:
          step = st.malformed('internal_unknown_step');
          break;
      }
    }

    switch (step) {
      case DecodeOutcome.Tcp:
        this.finishTcp(pkt, seg, frame);
        return DecodeOutcome.Tcp;
      case DecodeOutcome.NotTcp: {
        stats.notTcp++;
        const byKind = stats.notTcpByKind;
        const kind = st.kind;
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
        return DecodeOutcome.NotTcp;
      }
      case DecodeOutcome.Fragment:
        stats.fragments++;
        return DecodeOutcome.Fragment;
      case DecodeOutcome.TooShort:
        stats.tooShort++;
        noteProblem(stats, st.reason, frame);
        return DecodeOutcome.TooShort;
      case DecodeOutcome.UnknownLinkType:
        stats.unknownLinkType++;
        noteProblem(stats, 'unknown_link_type', frame);
        return DecodeOutcome.UnknownLinkType;
      default:
        stats.malformed++;
        noteProblem(stats, st.reason, frame);
        return DecodeOutcome.Malformed;
    }
  }

  private finishTcp(pkt: RawPacket, seg: TcpSegment, frame: number): void {
    const st = this.st;
    const stats = this.stats;
    seg.frame = frame;
    seg.source = pkt.source;
    seg.tsSec = pkt.tsSec;
    seg.tsNs = pkt.tsNs;
    seg.tsDigits = pkt.tsDigits;
    seg.ipVersion = st.ipVersion;
    const s = st.src;
    const d = st.dst;
    const ss = seg.srcAddr;
    const sd = seg.dstAddr;
    ss[0] = s[0]!;
    ss[1] = s[1]!;
    ss[2] = s[2]!;
    ss[3] = s[3]!;
    sd[0] = d[0]!;
    sd[1] = d[1]!;
    sd[2] = d[2]!;
    sd[3] = d[3]!;
    seg.ttl = st.ttl;
    seg.ipId = st.ipId;
    seg.tunnel = tunnelPath(st.tunnelCode, st.tunnelDepth);
    stats.tcp++;
    if (st.tunnelDepth !== 0) stats.tunnelled++;
    if (seg.checksumOk === 0) stats.badChecksums++;
    else if (seg.checksumOk < 0) stats.uncheckedChecksums++;
    if (seg.truncated) stats.truncatedTcp++;
  }
}
