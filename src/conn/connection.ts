import type { TcpState } from '../classify/labels.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../decode/segment.js';
import { ENDPOINT_WORDS, ENDPOINT_WORDS_UNLOGGED, EndpointTrack } from './endpoint.js';
import { LadderTrace, NOTE, TRACE_WORDS, type NoteCode } from './ladder-trace.js';
import { makeResetter } from './resetter.js';
import { seqAdd, seqAfter, seqAtOrAfter, seqBefore, seqDiff } from './seq.js';
import { toSeconds } from './time.js';
import { ZeekHistory } from './zeek-history.js';

/** A reply RST is sent at once; allow this much capture-time delay between the segment and the RST it drew. */
const REPLY_RST_MAX_DELAY_S = 2;
/** Window assumed for an end whose advertised window the capture has not shown. */
const UNKNOWN_WINDOW = 65535;


/** The trace of every connection that keeps none: empty, never written (Connection.traced guards each use). */
const NO_TRACE = new LadderTrace(new Uint32Array(0));

/** Well-known and registered service ports below this are taken as the server's when no handshake was seen. */
const EPHEMERAL_FLOOR = 32768;

/**
 * One TCP connection (one incarnation of a 4-tuple): both ends' tracks and the inferred TCP state of each end.
 * `onSegment` is the only writer of state (smoltcp's model). It allocates nothing on the common path.
 */
export class Connection {
  /**
   * Both ends' fields, the addresses, then the ladder trace, in one buffer: one allocation a connection, and a
   * packet's work on its two ends stays within a few cache lines.
   */
  private readonly buffer: ArrayBuffer;
  readonly client: EndpointTrack;
  readonly server: EndpointTrack;
  // --- what every packet reads or writes first (declared first: V8 lays fields out in this order, so they share
  // the object's first cache lines)
  readonly trace: LadderTrace;
  /** Whether the ladder trace and the state logs follow the packets (off when no output reads them: the summary tables). */
  readonly traced: boolean;
  /** Whether `history` follows the segments (off when nothing will read Zeek's view: the summary tables). */
  zeekTracked = true;
  lastTime = 0;
  lastSec = 0;
  lastNs = 0;
  lastFrame = 0;
  /** Set once the connection has ended on the wire (both ends CLOSED/TIME_WAIT, an accepted RST, a refusal). */
  finished = false;
  // --- connection table links (owned by ConnectionTable)
  /** Slot in the table's index (-1 when not held). */
  slot = -1;
  inFinishedQueue = false;
  sawSynAck = false;

  /**
   * The client's and the server's address (IPv4 in word 0), views of the buffer made on first use: the table
   * and the per-packet path read the words directly, so an open connection carries no view objects for them
   * until its record is built.
   */
  get clientAddr(): Uint32Array {
    return (this.clientAddrView ??= new Uint32Array(this.buffer, this.addrWord * 4, 4));
  }
  get serverAddr(): Uint32Array {
    return (this.serverAddrView ??= new Uint32Array(this.buffer, this.addrWord * 4 + 16, 4));
  }
  private clientAddrView: Uint32Array | null = null;
  private serverAddrView: Uint32Array | null = null;
  /** The buffer as 32-bit words (the addresses and the ladder trace), and where the addresses begin. */
  private readonly words: Uint32Array;
  private readonly addrWord: number;
  clientPort = 0;
  serverPort = 0;
  ipVersion: 4 | 6 = 4;
  /** Incarnation of the 4-tuple in this run (port reuse makes 2, 3, …). */
  incarnation = 1;
  tunnel = '';

  midstream = false;
  sawSyn = false;
  sawHandshakeAck = false;

  firstSec = 0;
  firstNs = 0;
  tsDigits = 6;
  firstTime = 0;
  firstFrame = 0;

  /** Who sent the first FIN or accepted RST (null until one did). */
  closer: 'client' | 'server' | null = null;

  badChecksums = 0;
  truncated = 0;
  /** Packets that carried no new information for either end (exact duplicates, e.g. a SPAN port doubling frames). */
  duplicates = 0;

  finishedTime = -1;

  /**
   * Zeek's view of the same segments: history letters, Zeek endpoint states, sequence-space sizes. Created on
   * first use, so that runs that do not follow it (the summary tables) do not carry its two endpoints.
   */
  get history(): ZeekHistory {
    return (this.zeekHistory ??= new ZeekHistory());
  }
  private zeekHistory: ZeekHistory | null = null;

  // --- more connection table links
  id = 0;
  hash = 0;

  /**
   * Lives this object has had: connections are pooled and reused, so anything that holds on to one across the
   * table's emissions (the finished queue) remembers the generation it saw.
   */
  generation = 0;

  /** A connection; `traced` false leaves out the ladder trace and the ends' state logs, and their storage. */
  constructor(traced = true) {
    this.traced = traced;
    // Both ends' Float64 words, then the addresses (8 words), then the trace.
    const ew = traced ? ENDPOINT_WORDS : ENDPOINT_WORDS_UNLOGGED;
    this.addrWord = 4 * ew;
    this.buffer = new ArrayBuffer(this.addrWord * 4 + 32 + (traced ? TRACE_WORDS * 4 : 0));
    this.client = new EndpointTrack(new Float64Array(this.buffer, 0, ew));
    this.server = new EndpointTrack(new Float64Array(this.buffer, ew * 8, ew));
    this.words = new Uint32Array(this.buffer);
    this.trace = traced ? new LadderTrace(this.words, this.addrWord + 8) : NO_TRACE;
  }

  /** Back to the initial state for reuse (the table keeps a free list of connections). */
  reset(): void {
    const gen = this.generation;
    resetConnection(this);
    this.generation = gen + 1;
    this.client.reset();
    this.server.reset();
    this.words.fill(0, this.addrWord, this.addrWord + 8);
    if (this.traced) this.trace.reset();
    if (this.zeekHistory !== null) this.zeekHistory.reset();
  }

  /** Sets the key and roles from the first segment seen. Returns whether the segment's sender is the server. */
  init(seg: TcpSegment, id: number, hash: number): boolean {
    this.id = id;
    this.hash = hash;
    this.ipVersion = seg.ipVersion;
    this.tunnel = seg.tunnel;
    this.tsDigits = seg.tsDigits;
    const syn = (seg.flags & TCP_SYN) !== 0;
    const ack = (seg.flags & TCP_ACK) !== 0;
    let senderIsServer: boolean;
    if (syn && !ack) {
      senderIsServer = false;
    } else if (syn && ack) {
      senderIsServer = true;
      this.midstream = true;
    } else {
      senderIsServer = Connection.guessSenderIsServer(seg.srcPort, seg.dstPort);
      this.midstream = true;
    }
    if (senderIsServer) {
      this.setAddresses(seg.dstAddr, seg.srcAddr);
      this.clientPort = seg.dstPort;
      this.serverPort = seg.srcPort;
    } else {
      this.setAddresses(seg.srcAddr, seg.dstAddr);
      this.clientPort = seg.srcPort;
      this.serverPort = seg.dstPort;
    }
    this.firstSec = seg.tsSec;
    this.firstNs = seg.tsNs;
    if (this.traced) this.trace.baseSec = seg.tsSec;
    this.lastSec = seg.tsSec;
    this.lastNs = seg.tsNs;
    this.firstTime = toSeconds(seg.tsSec, seg.tsNs);
    this.lastTime = this.firstTime;
    this.firstFrame = seg.frame;
    if (!this.midstream) {
      this.client.setState('SYN_SENT', this.firstTime, seg.frame);
      this.server.setState('LISTEN', this.firstTime, seg.frame);
    } else if (syn) {
      this.client.setState('SYN_SENT', this.firstTime, seg.frame);
      this.server.setState('SYN_RECV', this.firstTime, seg.frame);
    } else {
      this.client.setState('ESTABLISHED', this.firstTime, seg.frame);
      this.server.setState('ESTABLISHED', this.firstTime, seg.frame);
    }
    if (this.zeekTracked) this.history.begin(senderIsServer);
    return senderIsServer;
  }

  /**
   * With no handshake seen, the server is the end on a well-known or registered port, else the end off the
   * ephemeral range, else the lower port (as Zeek and tcptrace guess).
   */
  static guessSenderIsServer(srcPort: number, dstPort: number): boolean {
    if (srcPort < 1024 !== dstPort < 1024) return srcPort < 1024;
    if (srcPort >= EPHEMERAL_FLOOR !== dstPort >= EPHEMERAL_FLOOR) return srcPort < EPHEMERAL_FLOOR;
    return srcPort < dstPort;
  }

  /** True when `seg` goes from the server to the client. Call only for segments of this connection. */
  isFromServer(seg: TcpSegment): boolean {
    if (seg.srcPort !== this.serverPort || seg.dstPort !== this.clientPort) return false;
    const a = seg.srcAddr;
    const w = this.words;
    const o = this.addrWord + 4;
    return a[0] === w[o] && a[1] === w[o + 1] && a[2] === w[o + 2] && a[3] === w[o + 3];
  }

  /** Writes the addresses' words (element by element: cheaper than TypedArray.prototype.set for four). */
  private setAddresses(client: Uint32Array, server: Uint32Array): void {
    const w = this.words;
    const o = this.addrWord;
    w[o] = client[0]!;
    w[o + 1] = client[1]!;
    w[o + 2] = client[2]!;
    w[o + 3] = client[3]!;
    w[o + 4] = server[0]!;
    w[o + 5] = server[1]!;
    w[o + 6] = server[2]!;
    w[o + 7] = server[3]!;
  }

  /** Feeds one segment of this connection. */
  onSegment(seg: TcpSegment, fromServer: boolean): void {
    const snd = fromServer ? this.server : this.client;
    const rcv = fromServer ? this.client : this.server;
    const t = toSeconds(seg.tsSec, seg.tsNs);
    const flags = seg.flags;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const hasAck = (flags & TCP_ACK) !== 0;
    const len = seg.payloadLen;
    const seq = seg.seq;

    // The connection's end is its latest timestamp: a capture whose clock steps back must not shorten it.
    if (t >= this.lastTime) {
      this.lastSec = seg.tsSec;
      this.lastNs = seg.tsNs;
      this.lastTime = t;
    }
    this.lastFrame = seg.frame;
    snd.packets++;
    if (!snd.hasBase) {
      snd.hasBase = true;
      snd.baseSeq = seq;
    }
    snd.lastSeenTime = t;
    snd.lastFrame = seg.frame;
    if (seg.checksumOk === 0) this.badChecksums++;
    if (seg.truncated) this.truncated++;
    if (this.zeekTracked) this.history.onSegment(seg, fromServer);
    // Anything from the peer answers this end's keep-alives.
    rcv.keepAlivesUnanswered = 0;

    let note: NoteCode = NOTE.none;

    if (rst) {
      note = this.onRst(seg, snd, rcv, fromServer, t);
      if (this.traced) this.trace.addSegment(seg, fromServer, note);
      return;
    }

    // --- window: scaled only on non-SYN segments, and only once both ends offered scaling.
    if (!syn) {
      const win = seg.window << snd.wscaleShift;
      if (win === 0 && snd.window !== 0) {
        snd.zeroWindows++;
        note = NOTE.zeroWindow;
      }
      snd.window = win;
      if (win > snd.maxWindow) snd.maxWindow = win;
    } else {
      snd.window = seg.window;
      if (seg.window > snd.maxWindow) snd.maxWindow = seg.window;
    }

    // --- SYN and SYN-ACK
    if (syn) {
      if (!snd.hasIsn) {
        snd.hasIsn = true;
        snd.isn = seq;
        snd.synFrame = seg.frame;
        snd.wscaleOffered = seg.windowScale;
        if (!snd.hasNxt) {
          snd.hasNxt = true;
          snd.nxt = seq;
        }
      } else if (seq === snd.isn) {
        note = NOTE.synRetransmission;
        snd.retransmissions++;
      }
      if (snd.lastSynTime >= 0) snd.lastSynGap = t - snd.lastSynTime;
      snd.lastSynTime = t;
      snd.synCount++;
      if (!hasAck) {
        this.sawSyn = true;
      } else {
        this.sawSynAck = true;
        // Scaling is in force only when both SYNs carried the option (RFC 7323 §2.2).
        if (snd.wscaleOffered >= 0 && rcv.wscaleOffered >= 0) {
          snd.wscaleShift = Math.min(snd.wscaleOffered, 14);
          rcv.wscaleShift = Math.min(rcv.wscaleOffered, 14);
        }
        if (snd.state === 'LISTEN' || snd.state === 'CLOSED') snd.setState('SYN_RECV', t, seg.frame);
        if (rcv.state === 'SYN_SENT') rcv.setState('ESTABLISHED', t, seg.frame);
      }
    }

    // --- acknowledgement of the peer's sequence space
    if (hasAck) {
      const ack = seg.ack;
      if (!rcv.hasAckedByPeer || seqAfter(ack, rcv.ackedByPeer)) {
        rcv.hasAckedByPeer = true;
        rcv.ackedByPeer = ack;
        rcv.ackAdvanceTime = t;
        rcv.retransSinceAck = 0;
        rcv.retransRunStart = -1;
      }
      if (!rcv.hasNxt) {
        // Midstream: the first ack tells where the peer's sequence space stands.
        rcv.hasNxt = true;
        rcv.nxt = ack;
      }
      if (!syn && snd.state === 'SYN_SENT' && this.sawSynAck) snd.setState('ESTABLISHED', t, seg.frame);
      // The server leaves SYN_RECV when the client acknowledges its SYN.
      if (rcv.state === 'SYN_RECV' && rcv.hasIsn && seqAfter(ack, rcv.isn)) {
        rcv.setState('ESTABLISHED', t, seg.frame);
        if (!syn) this.sawHandshakeAck = true;
      }
      if (rcv.hasFin && !rcv.finAcked && seqAtOrAfter(ack, seqAdd(rcv.finSeq, 1))) {
        rcv.finAcked = true;
        rcv.finAckFrame = seg.frame;
        rcv.finAckTime = t;
        if (rcv.state === 'FIN_WAIT_1') rcv.setState('FIN_WAIT_2', t, seg.frame);
        else if (rcv.state === 'CLOSING') rcv.setState('TIME_WAIT', t, seg.frame);
        else if (rcv.state === 'LAST_ACK') rcv.setState('CLOSED', t, seg.frame);
        // The sender's acknowledgement shows it received the peer's FIN: that, not the FIN crossing the vantage
        // point, moves it on (so that crossed FINs give CLOSING, as in the kernel).
        this.onFinReceived(snd, t, seg.frame);
        this.checkFinished(t);
      }
    }

    // --- payload and FIN in the sender's sequence space
    const segEnd = seqAdd(seq, len + (syn ? 1 : 0) + (fin ? 1 : 0));
    if (!snd.hasNxt) {
      snd.hasNxt = true;
      snd.nxt = seq;
    }
    if (len > 0) {
      if (seqAtOrAfter(seq, snd.nxt)) {
        if (seqAfter(seq, snd.nxt) && snd.packets > 1) {
          snd.gaps++;
          note = NOTE.gap;
        }
        this.newData(snd, rcv, len, seg.frame, t);
      } else if (seqAfter(segEnd, snd.nxt) && !fin) {
        // Partly old, partly new: count the new part.
        this.newData(snd, rcv, seqDiff(segEnd, snd.nxt), seg.frame, t);
        snd.retransmissions++;
        note = NOTE.retransmission;
      } else if (len <= 1 && seqDiff(snd.nxt, seqAdd(seq, len)) === (fin && snd.hasFin ? 1 : 0) && rcv.window === 0) {
        snd.zeroWindowProbes++;
        snd.lastZeroWindowProbeFrame = seg.frame;
        note = NOTE.zeroWindowProbe;
      } else if (len === 1 && seqAdd(seq, 1) === snd.nxt && !fin) {
        // One old byte at snd.una - 1: the keep-alive some stacks (Windows, BSD) send with a garbage byte.
        this.keepAlive(snd, seg.frame, t);
        note = NOTE.keepAlive;
      } else if (snd.hasAckedByPeer && seqAtOrAfter(snd.ackedByPeer, segEnd)) {
        // Bytes the peer had already acknowledged: a copy of the frame (a SPAN port, two vantage points merged)
        // or a spurious retransmission. Either way it says nothing about the peer answering: no retransmission run.
        this.duplicates++;
        note = NOTE.duplicate;
      } else {
        this.retransmission(snd, seg.frame, t);
        note = NOTE.retransmission;
      }
    } else {
      if (!syn && !fin && hasAck && seqAdd(seq, 1) === snd.nxt && snd.packets > 1) {
        // Linux keep-alive (and zero-window probe): an empty segment at snd.una - 1 that the peer must answer.
        if (rcv.window === 0) {
          snd.zeroWindowProbes++;
        snd.lastZeroWindowProbeFrame = seg.frame;
          note = NOTE.zeroWindowProbe;
        } else {
          this.keepAlive(snd, seg.frame, t);
          note = NOTE.keepAlive;
        }
      }
    }

    if (fin) {
      const finSeq = seqAdd(seq, len);
      if (!snd.hasFin) {
        snd.hasFin = true;
        snd.finSeq = finSeq;
        snd.finFrame = seg.frame;
        snd.finTime = t;
        snd.finHadAck = hasAck;
        snd.finAckValue = seg.ack;
        if (this.closer === null) {
          this.closer = fromServer ? 'server' : 'client';
        }
        this.onFinSent(snd, t, seg.frame);
      } else if (finSeq === snd.finSeq) {
        if (note === NOTE.none) note = NOTE.finRetransmission;
        if (len === 0) snd.retransmissions++;
      }
    }

    if (seqAfter(segEnd, snd.nxt)) snd.nxt = segEnd;

    // The last segment, to recognise a reply RST from the peer (Linux: seq = this segment's ack, no ACK flag).
    snd.lastSegFrame = seg.frame;
    snd.lastSegTime = t;
    snd.lastSegHadAck = hasAck;
    snd.lastSegAck = seg.ack;
    snd.lastSegEndSeq = segEnd;
    snd.lastSegWasFin = fin;

    if (this.traced) this.trace.addSegment(seg, fromServer, note);
  }

  private newData(snd: EndpointTrack, rcv: EndpointTrack, bytes: number, frame: number, t: number): void {
    snd.payloadBytes += bytes;
    if (snd.firstDataFrame < 0) snd.firstDataFrame = frame;
    snd.lastDataTime = t;
    snd.receivedSinceOwnSend = 0;
    rcv.receivedSinceOwnSend += bytes;
    if (rcv.hasFin && snd.dataAfterPeerFinFrame < 0) snd.dataAfterPeerFinFrame = frame;
  }

  private retransmission(snd: EndpointTrack, frame: number, t: number): void {
    snd.retransmissions++;
    snd.retransSinceAck++;
    if (snd.retransSinceAck === 1) snd.retransRunStart = t;
    if (snd.firstRetransFrame < 0) snd.firstRetransFrame = frame;
    if (snd.lastRetransTime >= 0) snd.lastRetransGap = t - snd.lastRetransTime;
    snd.lastRetransFrame = frame;
    snd.lastRetransTime = t;
  }

  private keepAlive(snd: EndpointTrack, frame: number, t: number): void {
    snd.keepAlives++;
    snd.keepAlivesUnanswered++;
    snd.lastKeepAliveFrame = frame;
    snd.lastKeepAliveTime = t;
  }

  /** State changes when `snd` sends its first FIN. */
  private onFinSent(snd: EndpointTrack, t: number, frame: number): void {
    switch (snd.state) {
      case 'CLOSE_WAIT':
        snd.setState('LAST_ACK', t, frame);
        break;
      case 'LAST_ACK':
      case 'CLOSING':
      case 'TIME_WAIT':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
        break;
      default:
        snd.setState('FIN_WAIT_1', t, frame);
    }
    this.checkFinished(t);
  }

  /** State changes when an end shows (by its acknowledgement) that it received the peer's FIN. */
  private onFinReceived(e: EndpointTrack, t: number, frame: number): void {
    switch (e.state) {
      case 'FIN_WAIT_1':
        e.setState(e.finAcked ? 'TIME_WAIT' : 'CLOSING', t, frame);
        break;
      case 'FIN_WAIT_2':
        e.setState('TIME_WAIT', t, frame);
        break;
      case 'ESTABLISHED':
      case 'SYN_RECV':
      case 'SYN_SENT':
        e.setState('CLOSE_WAIT', t, frame);
        break;
      default:
        break;
    }
  }

  /** Handles a RST; returns the ladder note. */
  private onRst(seg: TcpSegment, snd: EndpointTrack, rcv: EndpointTrack, fromServer: boolean, t: number): NoteCode {
    const hasAck = (seg.flags & TCP_ACK) !== 0;
    if (!this.rstAcceptable(seg, snd, rcv, hasAck)) {
      snd.outOfWindowRsts++;
      return NOTE.outOfWindowRst;
    }
    if (snd.hasRst) return NOTE.none;
    snd.hasRst = true;
    snd.rstFrame = seg.frame;
    snd.rstTime = t;
    snd.rstHasAck = hasAck;
    snd.stateBeforeRst = snd.state;
    snd.peerStateAtRst = rcv.state;
    snd.unansweredBytesAtRst = snd.receivedSinceOwnSend;
    snd.windowAtRst = snd.window;
    // A Linux reply RST: to a segment with ACK, seq = that ack and no ACK flag; to one without, seq 0 and
    // ack = its end (tcp_v4_send_reset). A live socket's abort carries ACK and its own snd_nxt instead.
    if (rcv.lastSegFrame >= 0 && t - rcv.lastSegTime <= REPLY_RST_MAX_DELAY_S) {
      const reply = rcv.lastSegHadAck
        ? !hasAck && seg.seq === rcv.lastSegAck
        : hasAck && seg.ack === rcv.lastSegEndSeq;
      if (reply) {
        snd.rstIsReply = true;
        snd.rstTriggerFrame = rcv.lastSegFrame;
        snd.rstTriggerWasFin = rcv.lastSegWasFin;
        snd.rstTriggerTime = rcv.lastSegTime;
      }
    }
    if (this.closer === null) {
      this.closer = fromServer ? 'server' : 'client';
    }
    snd.setState('CLOSED', t, seg.frame);
    // A TIME_WAIT end may keep its state (RFC 1337); every other end is torn down by an acceptable RST.
    if (rcv.state !== 'TIME_WAIT') rcv.setState('CLOSED', t, seg.frame);
    this.markFinished(t);
    return NOTE.none;
  }

  /**
   * RFC 793 / RFC 5961: in SYN_SENT a RST is acceptable when it acknowledges the SYN; otherwise when its sequence
   * number lies in the receiver's window. The receiver's rcv_nxt is what it last acknowledged of the sender.
   */
  private rstAcceptable(seg: TcpSegment, snd: EndpointTrack, rcv: EndpointTrack, hasAck: boolean): boolean {
    if (rcv.state === 'SYN_SENT' && !this.midstream) {
      return hasAck && rcv.hasIsn && seg.ack === seqAdd(rcv.isn, 1);
    }
    // The receiver has said nothing yet: there is no window to check against.
    if (rcv.packets === 0) return true;
    let rcvNxt: number;
    if (rcv.lastSegFrame >= 0 && rcv.lastSegHadAck) rcvNxt = rcv.lastSegAck;
    else if (snd.hasNxt) rcvNxt = snd.nxt;
    else return true; // nothing known of the sender's sequence space: take it
    const win = Math.max(rcv.window > 0 ? rcv.window : UNKNOWN_WINDOW, 1);
    const d = seqDiff(seg.seq, rcvNxt);
    if (d >= 0 && d <= win) return true;
    // The sender's own snd_nxt (an abort after data the receiver has not acknowledged yet) is also in window.
    return snd.hasNxt && seg.seq === snd.nxt && seqBefore(seqDiff(snd.nxt, rcvNxt), win);
  }

  private checkFinished(t: number): void {
    const done = (s: TcpState) => s === 'CLOSED' || s === 'TIME_WAIT';
    if (this.client.hasFin && this.server.hasFin && done(this.client.state) && done(this.server.state)) {
      this.markFinished(t);
    }
  }

  private markFinished(t: number): void {
    if (!this.finished) {
      this.finished = true;
      this.finishedTime = t;
    }
  }

}

const resetConnection = makeResetter(new Connection(), ['buffer', 'client', 'server', 'clientAddrView', 'serverAddrView', 'words', 'addrWord', 'trace', 'traced', 'zeekHistory', 'generation']);
