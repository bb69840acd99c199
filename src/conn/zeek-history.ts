/**
 * Zeek's view of one connection, kept beside ours so that every record can say what Zeek's conn.log would say:
 * the history letters (`ShADadFf`), the per-endpoint observer states that Zeek's conn_state() is a function of,
 * and the sequence-space sizes and gap bytes that conn.log reports.
 *
 * Zeek's endpoint states are not RFC socket states, and they differ from ours in ways that change the answer:
 * Zeek takes every RST at face value (we drop out-of-window ones, RFC 5961), keeps an originator in SYN_SENT
 * while it sends data that no SYN-ACK answered, and reverts a FIN-then-RST end to CLOSED when the peer's FIN
 * follows. So the tracker runs Zeek's small observer machine (zeek/zeek src/packet_analysis/protocol/tcp/
 * TCPSessionAdapter.cc: UpdateInactiveState … UpdateClosedState) and its history rules (update_history,
 * CheckHistory, ScaledHistoryEntry) on the same segments, in our orientation: the originator is our client.
 *
 * Hot path: Connection.onSegment makes one call per segment. Numbers only, the letters packed into integer
 * fields, all allocated with the connection; the string is built only when the record is.
 */
import { seqDiff } from './seq.js';
import { makeResetter } from './resetter.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../decode/segment.js';

/** Zeek's endpoint states (TCP_Endpoint.h EndpointState), in Zeek's order. */
export const ZEEK_EP = {
  INACTIVE: 0,
  SYN_SENT: 1,
  SYN_ACK_SENT: 2,
  PARTIAL: 3,
  ESTABLISHED: 4,
  CLOSED: 5,
  RESET: 6,
} as const;
export type ZeekEndpointState = (typeof ZEEK_EP)[keyof typeof ZEEK_EP];
export const ZEEK_EP_NAMES: readonly string[] = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET'];

/** History bits (TCP_Endpoint::HistoryMasks); the responder's are shifted 16 bits up, as in Zeek. */
const HIST_SYN = 0x1;
const HIST_FIN = 0x2;
const HIST_RST = 0x4;
const HIST_FIN_RST = 0x8;
const HIST_DATA = 0x10;
const HIST_ACK = 0x20;
const HIST_MULTI_FLAG = 0x40;

/** Zeek ignores SYN/RST sequence numbers that jump further than this (TOO_LARGE_SEQ_DELTA). */
const TOO_LARGE_SEQ_DELTA = 1_048_576;
const TWO_32 = 4_294_967_296;

/**
 * Letters kept per connection. Zeek does not bound the string; SYN, FIN and RST letters repeat only when their
 * sequence number changes and t/g/w grow logarithmically, so real connections stay far below this (Zeek's own
 * test traces peak at 10). A connection that reaches it (a RST storm with changing sequence numbers) keeps its
 * first letters.
 */
export const MAX_HISTORY_LETTERS = 48;

/**
 * The letters a history can hold, each stored as its index + 1 in five bits, six to a small integer: eight
 * integer fields hold 48 letters without a buffer object per connection.
 */
const ALPHABET = 'SHADFRIQTGW^shadfriqtgw';
const LETTER_BITS = 5;
const LETTERS_PER_WORD = 6;
const CODE_OF = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) CODE_OF[ALPHABET.charCodeAt(i)] = i + 1;

/** Upper-case code for the originator, lower-case for the responder. */
const LOWER = 0x20;
const CH = {
  S: 0x53,
  H: 0x48,
  A: 0x41,
  D: 0x44,
  F: 0x46,
  R: 0x52,
  G: 0x47,
  T: 0x54,
  W: 0x57,
  I: 0x49,
  Q: 0x51,
  FLIP: 0x5e, // '^'
} as const;

/** One end as Zeek's TCP_Endpoint sees it (only what the history, conn_state and conn.log need). */
export class ZeekEndpoint {
  state: ZeekEndpointState = ZEEK_EP.INACTIVE;
  prevState: ZeekEndpointState = ZEEK_EP.INACTIVE;
  /** Sequence numbers as unsigned 32-bit values, and how often last/ack wrapped past 2^32. */
  startSeq = 0;
  lastSeq = 0;
  ackSeq = 0;
  seqWraps = 0;
  ackWraps = 0;
  finCount = 0;
  rstCount = 0;
  /** Relative sequence number just past this end's FIN. */
  finSeq = 0;
  /** Relative sequence numbers of the last SYN, FIN and RST (a repeat adds a letter only when they change). */
  histLastSyn = 0;
  histLastFin = 0;
  histLastRst = 0;
  rxmtCount = 0;
  rxmtThresh = 1;
  win0Count = 0;
  win0Thresh = 1;
  gapCount = 0;
  gapThresh = 1;
  /** Zeek reported this end closed (FIN or RST processed). */
  didClose = false;
  // --- the reassembler's bookkeeping, relative sequence numbers (Zeek's TCP_Reassembler starts at 1)
  reassem = 1;
  trim = 1;
  /** The lowest block received above a hole (one is enough to count Zeek's gaps). */
  hasHole = false;
  holeStart = 0;
  holeEnd = 0;
  /** Bytes Zeek reports as missed (content_gap) for this end's stream. */
  missedBytes = 0;
  /** Set by relative(): the number lay before the start of the end's sequence space. */
  underflow = false;

  setState(s: ZeekEndpointState): void {
    if (s === this.state) return;
    this.prevState = this.state;
    this.state = s;
  }

  /** Relative position of a 32-bit sequence number, and whether it lies before the start (Zeek get_relative_seq). */
  relative(cur: number, last: number, wraps: number): number {
    const d = seqDiff(cur, last);
    let w = wraps;
    if (d < 0) {
      if (w > 0 && cur > last) w--;
    } else if (d > 0) {
      if (cur < last) w++;
    }
    if (w === 0) {
      const rel = seqDiff(cur, this.startSeq);
      this.underflow = rel < 0;
      return rel;
    }
    this.underflow = false;
    return w * TWO_32 + cur - this.startSeq;
  }

  init(start: number, last: number): void {
    this.startSeq = start;
    this.ackSeq = start;
    this.lastSeq = last;
  }

  updateLastSeq(seq: number): void {
    if (seq < this.lastSeq) this.seqWraps++;
    this.lastSeq = seq;
  }

  updateAckSeq(seq: number): void {
    if (seq < this.ackSeq) this.ackWraps++;
    this.ackSeq = seq;
  }

  private ack64(): number {
    return this.ackWraps * TWO_32 + this.ackSeq;
  }

  /** None of this end's data was acknowledged (one octet allowed for the SYN). */
  noDataAcked(): boolean {
    const a = this.ack64();
    return a === this.startSeq || a === this.startSeq + 1;
  }

  /** Bytes this end sent, from the sequence space (Zeek TCP_Endpoint::Size, conn.log orig_bytes/resp_bytes). */
  size(peer: ZeekEndpoint): number {
    // A half-open connection found and aborted: its sequence numbers say nothing about data.
    if (this.prevState === ZEEK_EP.SYN_SENT && this.state === ZEEK_EP.RESET && peer.state === ZEEK_EP.INACTIVE && !this.noDataAcked()) return 0;
    const last = this.seqWraps * TWO_32 + this.lastSeq;
    const ack = this.ack64();
    let size = (last > ack ? last : ack) - this.startSeq;
    // Zeek computes this in uint64; a start above both (sequence numbers that went backwards) would wrap
    // there. Report nothing rather than 2^64 minus a little.
    if (size < 0) return 0;
    if (size !== 0) size--; // the SYN octet
    if (this.finCount > 0 && size !== 0) size--; // the FIN octet
    return size;
  }
}

function isClean(e: ZeekEndpoint): boolean {
  return e.state === ZEEK_EP.ESTABLISHED || (e.state === ZEEK_EP.CLOSED && e.prevState === ZEEK_EP.ESTABLISHED);
}

export class ZeekHistory {
  /** The originator (our client) and the responder (our server). */
  readonly orig = new ZeekEndpoint();
  readonly resp = new ZeekEndpoint();
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  private w4 = 0;
  private w5 = 0;
  private w6 = 0;
  private w7 = 0;
  length = 0;
  /** Letters that did not fit (MAX_HISTORY_LETTERS). */
  dropped = 0;
  /** Zeek's hist_seen: which once-only letters were recorded, originator low 16 bits, responder high. */
  private seen = 0;
  /** Zeek's is_partial and first_packet_seen (1 originator, 2 responder): they only silence one kind of gap. */
  private partial = false;
  private firstSeen = 0;
  /** Zeek's last_time for the connection: it stops moving once both ends have closed (duration). */
  lastSec = 0;
  lastNs = 0;
  started = false;

  /** Called once, before the first segment: a connection whose first packet came from the server starts flipped. */
  /** Back to the initial state, for a pooled connection's next life. */
  reset(): void {
    resetZeekHistory(this);
    resetZeekEndpoint(this.orig);
    resetZeekEndpoint(this.resp);
  }

  begin(firstFromServer: boolean): void {
    if (firstFromServer) this.add(CH.FLIP);
  }

  /** Zeek's processing of one segment (TCPSessionAdapter::Process), for what the history and conn.log need. */
  onSegment(seg: TcpSegment, fromServer: boolean): void {
    const isOrig = !fromServer;
    const e = isOrig ? this.orig : this.resp;
    const p = isOrig ? this.resp : this.orig;
    const flags = seg.flags;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ack = (flags & TCP_ACK) !== 0;
    const len = seg.payloadLen;
    const seq = seg.seq;

    this.setPartialStatus(syn, ack, isOrig);

    // The sequence space the segment covers: SYN and FIN count one, a RST's payload is not part of the stream.
    const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0) - (rst ? len : 0);
    const onePast = (seq + segLen) >>> 0;
    this.initEndpoint(e, syn, seq, onePast);

    const relSeq = e.relative(seq, e.lastSeq, e.seqWraps);
    const seqUnderflow = e.underflow;

    this.updateHistory(e, isOrig, syn, fin, rst, ack, relSeq, len);
    // A zero window is interesting unless it comes with or after a RST, or after the peer's FIN.
    if (seg.window === 0 && !rst && p.state !== ZEEK_EP.CLOSED && e.state !== ZEEK_EP.RESET) {
      this.scaled(isOrig, CH.W, e, 1);
    }

    if (!this.orig.didClose || !this.resp.didClose || !this.started) {
      this.lastSec = seg.tsSec;
      this.lastNs = seg.tsNs;
    }
    this.started = true;

    if (fin) {
      e.finCount++;
      e.finSeq = relSeq + segLen;
    }
    if (rst) e.rstCount++;

    let relAck = 0;
    if (ack) {
      if (p.state === ZEEK_EP.INACTIVE) {
        relAck = 1;
        // Number the silent peer as though its SYN had been seen (init_peer).
        const base = (seg.ack - 1) >>> 0;
        p.init(base, base);
      } else {
        const r = p.relative(seg.ack, p.ackSeq, p.ackWraps);
        if (p.underflow) relAck = 0;
        else {
          relAck = r;
          // Acks in RSTs are not trusted.
          if (!rst) {
            const d = seqDiff(seg.ack, p.ackSeq);
            if (!(seg.ack === 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0) p.updateAckSeq(seg.ack);
          }
        }
      }
    }

    this.updateLastSeq(e, isOrig, onePast, syn, fin, rst, len);

    const close = this.updateState(e, p, isOrig, syn, fin, rst, ack, len, seq);

    if (ack) this.ackReceived(p, !isOrig, relAck);

    this.firstSeen |= isOrig ? 1 : 2;

    // The reassembler gets the payload only when all of it was captured (a cut packet leaves a hole).
    if (len > 0 && seg.payloadCaptured >= len && !rst && !seqUnderflow) {
      this.dataSent(e, syn ? relSeq + 1 : relSeq, len);
    }

    if (close) e.didClose = true;
  }

  private setPartialStatus(syn: boolean, ack: boolean, isOrig: boolean): void {
    if (isOrig) {
      if ((this.firstSeen & 1) === 0) this.partial = !syn || ack;
    } else if ((this.firstSeen & 2) === 0 && !this.partial) {
      this.partial = !syn;
    }
  }

  /** Zeek init_endpoint: where an end's relative numbering starts, and when a SYN restarts it. */
  private initEndpoint(e: ZeekEndpoint, syn: boolean, first: number, onePast: number): void {
    switch (e.state) {
      case ZEEK_EP.INACTIVE:
        // Without a SYN, number as though one had been seen; the first packet is never a duplicate.
        if (syn) e.init(first, onePast);
        else e.init((first - 1) >>> 0, first);
        break;
      case ZEEK_EP.SYN_SENT:
      case ZEEK_EP.SYN_ACK_SENT:
        if (syn && first !== e.startSeq) e.init(first, onePast);
        break;
      case ZEEK_EP.ESTABLISHED:
      case ZEEK_EP.PARTIAL:
        // A SYN inside a connection: guess that this SYN is the one that really sets it up.
        if (syn) e.init(first, onePast);
        break;
      case ZEEK_EP.RESET:
        // Numbers initialised by a RST (perhaps injected) give way to a later SYN.
        if (syn && e.prevState === ZEEK_EP.INACTIVE) e.init(first, onePast);
        break;
      default:
        break;
    }
  }

  /** Zeek update_history: s h a d f r i q, once each or again when the sequence number changes. */
  private updateHistory(e: ZeekEndpoint, isOrig: boolean, syn: boolean, fin: boolean, rst: boolean, ack: boolean, relSeq: number, len: number): void {
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.check(isOrig, HIST_FIN_RST, CH.I);
      else this.check(isOrig, HIST_MULTI_FLAG, CH.Q);
    } else if (bits === 1) {
      if (syn) {
        const code = ack ? CH.H : CH.S;
        if (this.check(isOrig, HIST_SYN, code) && relSeq !== e.histLastSyn) this.addFor(isOrig, code);
        e.histLastSyn = relSeq;
      }
      if (fin) {
        // A FIN's sequence number is the one after its data.
        if (this.check(isOrig, HIST_FIN, CH.F) && relSeq + len !== e.histLastFin) this.addFor(isOrig, CH.F);
        e.histLastFin = relSeq + len;
      }
      if (rst) {
        if (this.check(isOrig, HIST_RST, CH.R) && relSeq !== e.histLastRst) this.addFor(isOrig, CH.R);
        e.histLastRst = relSeq;
      }
    } else if (len > 0) {
      this.check(isOrig, HIST_DATA, CH.D);
    } else if (ack) {
      this.check(isOrig, HIST_ACK, CH.A);
    }
  }

  /** Zeek update_last_seq: advances the end's highest sequence number; payload that does not is a retransmission. */
  private updateLastSeq(e: ZeekEndpoint, isOrig: boolean, last: number, syn: boolean, fin: boolean, rst: boolean, len: number): void {
    const d = seqDiff(last, e.lastSeq);
    if ((syn || rst) && (d > TOO_LARGE_SEQ_DELTA || d < -TOO_LARGE_SEQ_DELTA)) return;
    // A FIN right after the SYN: trust it even if it lies "behind" (connections over 2 GB seen only at the ends).
    if (fin && e.lastSeq === ((e.startSeq + 1) >>> 0)) e.updateLastSeq(last);
    else if (e.state === ZEEK_EP.RESET) return;
    else if (d > 0) e.updateLastSeq(last);
    else if (len > 0) this.scaled(isOrig, CH.T, e, 0);
  }

  /** Zeek UpdateStateMachine. Returns whether the segment closes its sender's side (do_close). */
  private updateState(e: ZeekEndpoint, p: ZeekEndpoint, isOrig: boolean, syn: boolean, fin: boolean, rst: boolean, ack: boolean, len: number, seq: number): boolean {
    let close = false;
    switch (e.state) {
      case ZEEK_EP.INACTIVE: {
        if (syn) {
          if (isOrig) {
            e.setState(ack ? ZEEK_EP.SYN_ACK_SENT : ZEEK_EP.SYN_SENT);
          } else {
            if (!ack && p.state === ZEEK_EP.SYN_ACK_SENT && seq === e.startSeq) {
              // SYN-ACK captured before its SYN: Zeek swaps the roles; we keep ours and only mark it.
              this.partial = false;
              this.add(CH.FLIP);
              p.setState(ZEEK_EP.ESTABLISHED);
              this.firstSeen |= 1;
            }
            if (p.state === ZEEK_EP.SYN_SENT) p.setState(ZEEK_EP.ESTABLISHED);
            e.setState(ZEEK_EP.ESTABLISHED);
          }
        }
        if (fin) {
          e.setState(ZEEK_EP.CLOSED);
          close = true;
        }
        if (rst) {
          e.setState(ZEEK_EP.RESET);
          close = true;
        }
        if (e.state === ZEEK_EP.INACTIVE) {
          // No control flag moved it. An empty ACK to a SYN before the SYN-ACK (some stacks) is not a partial
          // connection; an ACK to an established peer whose SYN we missed establishes this end.
          if (!isOrig && len === 0 && this.orig.state === ZEEK_EP.SYN_SENT) {
            // stays inactive
          } else if (ack && p.state === ZEEK_EP.ESTABLISHED) {
            e.setState(ZEEK_EP.ESTABLISHED);
            this.partial = false;
            this.firstSeen |= isOrig ? 1 : 2;
          } else {
            e.setState(ZEEK_EP.PARTIAL);
          }
        }
        break;
      }
      case ZEEK_EP.SYN_SENT:
      case ZEEK_EP.SYN_ACK_SENT:
        if (fin) {
          e.setState(ZEEK_EP.CLOSED);
          close = true;
        }
        if (rst) {
          e.setState(ZEEK_EP.RESET);
          close = true;
        }
        break;
      case ZEEK_EP.ESTABLISHED:
      case ZEEK_EP.PARTIAL:
        if (syn && e.state === ZEEK_EP.PARTIAL && p.state === ZEEK_EP.INACTIVE && !ack) e.setState(ZEEK_EP.SYN_SENT);
        if (fin && !rst) {
          e.setState(ZEEK_EP.CLOSED);
          // The peer sent FIN then RST: with this FIN it was a normal close after all.
          if (p.state === ZEEK_EP.RESET && p.prevState === ZEEK_EP.CLOSED) p.setState(ZEEK_EP.CLOSED);
          close = true;
        }
        if (rst) {
          e.setState(ZEEK_EP.RESET);
          close = true;
        }
        break;
      case ZEEK_EP.CLOSED:
        // After a FIN exchange a RST does not change the verdict; after only this end's FIN it does.
        if (rst && p.state !== ZEEK_EP.CLOSED) {
          e.setState(ZEEK_EP.RESET);
          if (!e.didClose) close = true;
        }
        break;
      default:
        break;
    }
    return close;
  }

  /** The peer acknowledged `e`'s stream up to relAck: data acknowledged but never seen is a content gap. */
  private ackReceived(e: ZeekEndpoint, eIsOrig: boolean, relAck: number): void {
    let upTo = relAck;
    if (e.finCount > 0 && upTo >= e.finSeq) upTo = e.finSeq - 1;
    if (upTo <= e.trim) return;
    if (upTo > e.reassem) this.undelivered(e, eIsOrig, upTo);
    e.trim = upTo;
  }

  private undelivered(e: ZeekEndpoint, eIsOrig: boolean, upTo: number): void {
    // A partial connection's first ack: its numbering was made up, so a "missing" first octet or two is not.
    if (upTo <= 2 && this.partial) return;
    if (e.hasHole && e.holeStart < upTo) {
      if (e.holeStart > e.reassem) this.gap(e, eIsOrig, e.holeStart - e.reassem);
      if (e.holeEnd > e.reassem) e.reassem = e.holeEnd;
      e.hasHole = false;
    }
    if (upTo > e.reassem) {
      this.gap(e, eIsOrig, upTo - e.reassem);
      e.reassem = upTo;
    }
  }

  private gap(e: ZeekEndpoint, eIsOrig: boolean, len: number): void {
    // Only between cleanly established (or cleanly closing) ends: elsewhere gaps are artefacts of RSTs and
    // partial connections.
    const peer = eIsOrig ? this.resp : this.orig;
    if (!isClean(e) || !isClean(peer)) return;
    this.scaled(eIsOrig, CH.G, e, 2);
    e.missedBytes += len;
  }

  /** Payload handed to the reassembler (relative sequence numbers). */
  private dataSent(e: ZeekEndpoint, relSeq: number, len: number): void {
    let s = relSeq;
    const upper = relSeq + len;
    const acked = e.ackWraps * TWO_32 + e.ackSeq - e.startSeq;
    if (s < acked) {
      if (upper <= acked) return; // delivered and acknowledged already
      s = acked;
    }
    if (upper <= e.trim) return;
    if (s < e.trim) s = e.trim;
    if (s <= e.reassem) {
      if (upper > e.reassem) e.reassem = upper;
      if (e.hasHole && e.holeStart <= e.reassem) {
        if (e.holeEnd > e.reassem) e.reassem = e.holeEnd;
        e.hasHole = false;
      }
    } else if (!e.hasHole) {
      e.hasHole = true;
      e.holeStart = s;
      e.holeEnd = upper;
    } else if (s <= e.holeEnd && upper >= e.holeStart) {
      if (s < e.holeStart) e.holeStart = s;
      if (upper > e.holeEnd) e.holeEnd = upper;
    } else if (s < e.holeStart) {
      // Keep the block nearest the hole: it decides the next gap.
      e.holeStart = s;
      e.holeEnd = upper;
    }
  }

  /** Zeek CheckHistory: records the letter the first time; true when it had been seen already. */
  private check(isOrig: boolean, mask: number, code: number): boolean {
    const m = isOrig ? mask : mask << 16;
    if ((this.seen & m) === 0) {
      this.seen |= m;
      this.addFor(isOrig, code);
      return false;
    }
    return true;
  }

  /** Zeek ScaledHistoryEntry: the 1st, 10th, 100th … occurrence adds the letter again. */
  private scaled(isOrig: boolean, code: number, e: ZeekEndpoint, which: 0 | 1 | 2): void {
    if (which === 0) {
      if (++e.rxmtCount === e.rxmtThresh) {
        this.addFor(isOrig, code);
        e.rxmtThresh *= 10;
      }
    } else if (which === 1) {
      if (++e.win0Count === e.win0Thresh) {
        this.addFor(isOrig, code);
        e.win0Thresh *= 10;
      }
    } else if (++e.gapCount === e.gapThresh) {
      this.addFor(isOrig, code);
      e.gapThresh *= 10;
    }
  }

  private addFor(isOrig: boolean, code: number): void {
    this.add(isOrig ? code : code | LOWER);
  }

  private add(ch: number): void {
    if (this.length >= MAX_HISTORY_LETTERS) {
      this.dropped++;
      return;
    }
    const bits = CODE_OF[ch]! << ((this.length % LETTERS_PER_WORD) * LETTER_BITS);
    switch ((this.length / LETTERS_PER_WORD) | 0) {
      case 0:
        this.w0 |= bits;
        break;
      case 1:
        this.w1 |= bits;
        break;
      case 2:
        this.w2 |= bits;
        break;
      case 3:
        this.w3 |= bits;
        break;
      case 4:
        this.w4 |= bits;
        break;
      case 5:
        this.w5 |= bits;
        break;
      case 6:
        this.w6 |= bits;
        break;
      default:
        this.w7 |= bits;
    }
    this.length++;
  }

  /** The history string (allocates: call when the record is built). */
  toString(): string {
    const words = [this.w0, this.w1, this.w2, this.w3, this.w4, this.w5, this.w6, this.w7];
    let out = '';
    for (let i = 0; i < this.length; i++) {
      const code = (words[(i / LETTERS_PER_WORD) | 0]! >>> ((i % LETTERS_PER_WORD) * LETTER_BITS)) & 0x1f;
      out += ALPHABET[code - 1];
    }
    return out;
  }

  /** Bytes of both streams Zeek would report as missed (conn.log missed_bytes). */
  missedBytes(): number {
    return this.orig.missedBytes + this.resp.missedBytes;
  }
}

const resetZeekEndpoint = makeResetter(new ZeekEndpoint());
const resetZeekHistory = makeResetter(new ZeekHistory(), ['orig', 'resp']);
