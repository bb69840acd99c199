import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../decode/segment.js';
import { ENDPOINT_WORDS, ENDPOINT_WORDS_UNLOGGED, EndpointTrack, F, S, W } from './endpoint.js';
import { LadderTrace, NOTE, TRACE_WORDS, type NoteCode } from './ladder-trace.js';
import { makeFieldCopier } from './field-copier.js';
import { makeResetter } from './resetter.js';
import { seqAdd, seqAfter, seqAtOrAfter, seqBefore, seqDiff } from './seq.js';
import { toSeconds } from './time.js';
import { tupleDirIn } from './tuple-index.js';
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
 * A connection's own words in its buffer, after the addresses: its times and frame numbers. Fields would do, but a
 * number field that is not a small integer is a box of its own in V8: seven more objects to make (and for the
 * collector to copy) per connection, and three more cache lines that every packet wrote.
 */
const CW = { lastTime: 0, lastSec: 1, lastFrame: 2, firstTime: 3, firstSec: 4, firstFrame: 5, finishedTime: 6 } as const;
/** Float64 words CW takes (one spare). */
const CONN_WORDS = 8;

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
  /** The buffer's Float64 words up to the trace: both ends, the addresses and the connection's own words (CW). */
  private readonly all: Float64Array;
  /** Where the connection's own words (CW) begin in `all`. */
  private readonly cw: number;
  lastNs = 0;
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

  firstNs = 0;
  tsDigits = 6;

  /** Who sent the first FIN or accepted RST (null until one did). */
  closer: 'client' | 'server' | null = null;

  badChecksums = 0;
  truncated = 0;
  /** Packets that carried no new information for either end (exact duplicates, e.g. a SPAN port doubling frames). */
  duplicates = 0;

  // --- times and frame numbers: words of the buffer (CW), behind accessors of these names
  /** Latest timestamp (float seconds; never moves back), and its seconds (lastNs: its nanoseconds). */
  get lastTime(): number {
    return this.all[this.cw + CW.lastTime]!;
  }
  get lastSec(): number {
    return this.all[this.cw + CW.lastSec]!;
  }
  /** Frame of the latest segment. */
  get lastFrame(): number {
    return this.all[this.cw + CW.lastFrame]!;
  }
  /** First segment's timestamp (float seconds), its seconds (firstNs: its nanoseconds) and its frame. */
  get firstTime(): number {
    return this.all[this.cw + CW.firstTime]!;
  }
  get firstSec(): number {
    return this.all[this.cw + CW.firstSec]!;
  }
  get firstFrame(): number {
    return this.all[this.cw + CW.firstFrame]!;
  }
  set firstFrame(v: number) {
    this.all[this.cw + CW.firstFrame] = v;
  }
  /** When the connection finished (the time of the segment that finished it), or -1. */
  get finishedTime(): number {
    return this.all[this.cw + CW.finishedTime]!;
  }

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
    // Both ends' Float64 words, the addresses (4 words), the connection's own words (CW), then the trace.
    const ew = traced ? ENDPOINT_WORDS : ENDPOINT_WORDS_UNLOGGED;
    this.addrWord = 4 * ew;
    this.cw = 2 * ew + 4;
    this.buffer = new ArrayBuffer((this.cw + CONN_WORDS) * 8 + (traced ? TRACE_WORDS * 4 : 0));
    this.client = new EndpointTrack(new Float64Array(this.buffer, 0, ew));
    this.server = new EndpointTrack(new Float64Array(this.buffer, ew * 8, ew));
    this.all = new Float64Array(this.buffer, 0, this.cw + CONN_WORDS);
    this.words = new Uint32Array(this.buffer);
    this.trace = traced ? new LadderTrace(this.words, (this.cw + CONN_WORDS) * 2) : NO_TRACE;
    this.all[this.cw + CW.finishedTime] = -1;
  }

  /** Back to the initial state for reuse (the table keeps a free list of connections). */
  reset(): void {
    const gen = this.generation;
    resetConnection(this);
    this.generation = gen + 1;
    this.client.reset();
    this.server.reset();
    this.all.fill(0, this.cw - 4, this.cw + CONN_WORDS);
    this.all[this.cw + CW.finishedTime] = -1;
    if (this.traced) this.trace.reset();
    if (this.zeekHistory !== null) this.zeekHistory.reset();
  }

  /**
   * Writes the connection's state to `f64` from word `at` on (CONNECTION_STATE_WORDS words): both ends, the
   * addresses, every number and boolean field, and the closer; not the encapsulation name, which the caller
   * carries. How a parallel run's worker hands an ended connection to the thread that classifies it. Only for a
   * connection that keeps neither a ladder trace nor Zeek's view (the summary tables' connections), whose ends
   * keep everything in their words (an end's state log is empty without a trace; a test holds EndpointTrack to
   * its three fields).
   */
  saveState(f64: Float64Array, at: number): void {
    if (this.traced || this.zeekHistory !== null) throw new Error('Connection.saveState: a traced connection, or one with Zeek history');
    const all = this.all;
    f64.set(all, at);
    const n = at + all.length;
    connectionFields.save(this, f64, n);
    f64[n + connectionFields.words] = this.closer === null ? 0 : this.closer === 'client' ? 1 : 2;
  }

  /**
   * Takes the state saveState wrote at word `at` of `f64` (into a connection made with `traced` false); the tunnel
   * is the caller's. `buffer` views the record's first CONNECTION_BUFFER_WORDS words, the connection's buffer as
   * saved: the caller keeps one such view per place it loads from, so that the copy is one TypedArray.set between
   * arrays of one type (a memcpy, no allocation). That copy keeps bytes as they are, which matters: two address
   * words read as one double can make a NaN, whose bits an engine need not keep through a number.
   */
  loadState(buffer: Float64Array, f64: Float64Array, at: number): void {
    if (this.traced) throw new Error('Connection.loadState: a traced connection');
    const all = this.all;
    if (buffer.length !== all.length) throw new Error(`Connection.loadState: a view of ${buffer.length} words, not ${all.length}`);
    all.set(buffer);
    const n = at + all.length;
    connectionFields.load(this, f64, n);
    const closer = f64[n + connectionFields.words];
    this.closer = closer === 1 ? 'client' : closer === 2 ? 'server' : null;
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
    const all = this.all;
    const cw = this.cw;
    const t = toSeconds(seg.tsSec, seg.tsNs);
    all[cw + CW.firstSec] = seg.tsSec;
    this.firstNs = seg.tsNs;
    if (this.traced) this.trace.baseSec = seg.tsSec;
    all[cw + CW.lastSec] = seg.tsSec;
    this.lastNs = seg.tsNs;
    all[cw + CW.firstTime] = t;
    all[cw + CW.lastTime] = t;
    all[cw + CW.firstFrame] = seg.frame;
    this.client.f[W.clock] = t;
    this.server.f[W.clock] = t;
    if (!this.midstream) {
      this.client.setStateCode(S.SYN_SENT, seg.frame);
      this.server.setStateCode(S.LISTEN, seg.frame);
    } else if (syn) {
      this.client.setStateCode(S.SYN_SENT, seg.frame);
      this.server.setStateCode(S.SYN_RECV, seg.frame);
    } else {
      this.client.setStateCode(S.ESTABLISHED, seg.frame);
      this.server.setStateCode(S.ESTABLISHED, seg.frame);
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
    return this.tupleDir(seg) === 1;
  }

  /**
   * Whether `seg` belongs to this connection's tuple, and which way it goes: 0 from the client to the server, 1
   * the other way, -1 another tuple (the table's index keeps only hashes and checks a candidate here).
   */
  tupleDir(seg: TcpSegment): number {
    if (seg.ipVersion !== this.ipVersion) return -1;
    return tupleDirIn(seg, this.words, this.addrWord, this.addrWord + 4, this.clientPort, this.serverPort);
  }

  /** Writes the connection's tuple record (tuple-index.ts, TUPLE_RECORD_WORDS) into `out` from `o` on. */
  copyTuple(out: Uint32Array, o: number): void {
    out[o] = this.ipVersion;
    out[o + 1] = ((this.clientPort << 16) | this.serverPort) >>> 0;
    const w = this.words;
    const c = this.addrWord;
    for (let k = 0; k < 8; k++) out[o + 2 + k] = w[c + k]!;
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

  /**
   * Feeds one segment of this connection.
   *
   * The ends' fields are read and written as words of their arrays (W, F, S of endpoint.ts), not through the
   * accessors: this method is too large for V8 to inline them, and a call per field was a good share of its
   * cost. Each end's flags word is read once into a local and written back before anything else reads it.
   */
  onSegment(seg: TcpSegment, fromServer: boolean): void {
    const snd = fromServer ? this.server : this.client;
    const rcv = fromServer ? this.client : this.server;
    const s = snd.f;
    const r = rcv.f;
    const t = toSeconds(seg.tsSec, seg.tsNs);
    const frame = seg.frame;
    const flags = seg.flags;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const hasAck = (flags & TCP_ACK) !== 0;
    const len = seg.payloadLen;
    const seq = seg.seq;

    // The connection's end is its latest timestamp: a capture whose clock steps back must not shorten it.
    const all = this.all;
    const cw = this.cw;
    if (t >= all[cw + CW.lastTime]!) {
      all[cw + CW.lastSec] = seg.tsSec;
      this.lastNs = seg.tsNs;
      all[cw + CW.lastTime] = t;
    }
    all[cw + CW.lastFrame] = frame;
    const packets = s[W.packets]! + 1;
    s[W.packets] = packets;
    let sf = s[W.flags]!;
    if ((sf & F.hasBase) === 0) {
      sf |= F.hasBase;
      s[W.baseSeq] = seq;
    }
    s[W.lastSeenTime] = t;
    s[W.lastFrame] = frame;
    // What the state changes below are stamped with (W.clock: not an argument, which V8 would box every time).
    s[W.clock] = t;
    r[W.clock] = t;
    if (seg.checksumOk === 0) this.badChecksums++;
    if (seg.truncated) this.truncated++;
    if (this.zeekTracked) this.history.onSegment(seg, fromServer);
    // Anything from the peer answers this end's keep-alives.
    r[W.keepAlivesUnanswered] = 0;

    let note: NoteCode = NOTE.none;

    if (rst) {
      s[W.flags] = sf;
      note = this.onRst(seg, snd, rcv, fromServer);
      if (this.traced) this.trace.addSegment(seg, fromServer, note);
      return;
    }

    // --- window: scaled only on non-SYN segments, and only once both ends offered scaling.
    if (!syn) {
      const win = seg.window << s[W.wscaleShift]!;
      if (win === 0 && s[W.window] !== 0) {
        s[W.zeroWindows] = s[W.zeroWindows]! + 1;
        note = NOTE.zeroWindow;
      }
      s[W.window] = win;
      if (win > s[W.maxWindow]!) s[W.maxWindow] = win;
    } else {
      s[W.window] = seg.window;
      if (seg.window > s[W.maxWindow]!) s[W.maxWindow] = seg.window;
    }

    // --- SYN and SYN-ACK
    if (syn) {
      if ((sf & F.hasIsn) === 0) {
        sf |= F.hasIsn;
        s[W.isn] = seq;
        s[W.synFrame] = frame;
        s[W.wscaleOffered] = seg.windowScale;
        if ((sf & F.hasNxt) === 0) {
          sf |= F.hasNxt;
          s[W.nxt] = seq;
        }
      } else if (seq === s[W.isn]) {
        note = NOTE.synRetransmission;
        s[W.retransmissions] = s[W.retransmissions]! + 1;
      }
      const lastSynTime = s[W.lastSynTime]!;
      if (lastSynTime >= 0) s[W.lastSynGap] = t - lastSynTime;
      s[W.lastSynTime] = t;
      s[W.synCount] = s[W.synCount]! + 1;
      if (!hasAck) {
        this.sawSyn = true;
      } else {
        this.sawSynAck = true;
        // Scaling is in force only when both SYNs carried the option (RFC 7323 §2.2).
        const sOffered = s[W.wscaleOffered]!;
        const rOffered = r[W.wscaleOffered]!;
        if (sOffered >= 0 && rOffered >= 0) {
          s[W.wscaleShift] = Math.min(sOffered, 14);
          r[W.wscaleShift] = Math.min(rOffered, 14);
        }
        const sState = s[W.states]! & 15;
        if (sState === S.LISTEN || sState === S.CLOSED) snd.setStateCode(S.SYN_RECV, frame);
        if ((r[W.states]! & 15) === S.SYN_SENT) rcv.setStateCode(S.ESTABLISHED, frame);
      }
    }

    // --- acknowledgement of the peer's sequence space
    let rf = r[W.flags]!;
    if (hasAck) {
      const ack = seg.ack;
      if ((rf & F.hasAckedByPeer) === 0 || seqAfter(ack, r[W.ackedByPeer]!)) {
        rf |= F.hasAckedByPeer;
        r[W.ackedByPeer] = ack;
        r[W.ackAdvanceTime] = t;
        r[W.retransSinceAck] = 0;
        r[W.retransRunStart] = -1;
      }
      if ((rf & F.hasNxt) === 0) {
        // Midstream: the first ack tells where the peer's sequence space stands.
        rf |= F.hasNxt;
        r[W.nxt] = ack;
      }
      if (!syn && (s[W.states]! & 15) === S.SYN_SENT && this.sawSynAck) snd.setStateCode(S.ESTABLISHED, frame);
      // The server leaves SYN_RECV when the client acknowledges its SYN.
      if ((r[W.states]! & 15) === S.SYN_RECV && (rf & F.hasIsn) !== 0 && seqAfter(ack, r[W.isn]!)) {
        rcv.setStateCode(S.ESTABLISHED, frame);
        if (!syn) this.sawHandshakeAck = true;
      }
      if ((rf & (F.hasFin | F.finAcked)) === F.hasFin && seqAtOrAfter(ack, seqAdd(r[W.finSeq]!, 1))) {
        rf |= F.finAcked;
        r[W.finAckFrame] = frame;
        r[W.finAckTime] = t;
        const rState = r[W.states]! & 15;
        if (rState === S.FIN_WAIT_1) rcv.setStateCode(S.FIN_WAIT_2, frame);
        else if (rState === S.CLOSING) rcv.setStateCode(S.TIME_WAIT, frame);
        else if (rState === S.LAST_ACK) rcv.setStateCode(S.CLOSED, frame);
        // The sender's acknowledgement shows it received the peer's FIN: that, not the FIN crossing the vantage
        // point, moves it on (so that crossed FINs give CLOSING, as in the kernel).
        s[W.flags] = sf;
        r[W.flags] = rf;
        this.onFinReceived(snd, frame);
        this.checkFinished();
      }
    }

    // --- payload and FIN in the sender's sequence space
    const segEnd = seqAdd(seq, len + (syn ? 1 : 0) + (fin ? 1 : 0));
    if ((sf & F.hasNxt) === 0) {
      sf |= F.hasNxt;
      s[W.nxt] = seq;
    }
    const nxt = s[W.nxt]!;
    if (len > 0) {
      if (seqAtOrAfter(seq, nxt)) {
        if (seqAfter(seq, nxt) && packets > 1) {
          s[W.gaps] = s[W.gaps]! + 1;
          note = NOTE.gap;
        }
        newData(s, r, rf, len, frame);
      } else if (seqAfter(segEnd, nxt) && !fin) {
        // Partly old, partly new: count the new part.
        newData(s, r, rf, seqDiff(segEnd, nxt), frame);
        s[W.retransmissions] = s[W.retransmissions]! + 1;
        note = NOTE.retransmission;
      } else if (len <= 1 && seqDiff(nxt, seqAdd(seq, len)) === (fin && (sf & F.hasFin) !== 0 ? 1 : 0) && r[W.window] === 0) {
        s[W.zeroWindowProbes] = s[W.zeroWindowProbes]! + 1;
        s[W.lastZeroWindowProbeFrame] = frame;
        note = NOTE.zeroWindowProbe;
      } else if (len === 1 && seqAdd(seq, 1) === nxt && !fin) {
        // One old byte at snd.una - 1: the keep-alive some stacks (Windows, BSD) send with a garbage byte.
        keepAlive(s, frame);
        note = NOTE.keepAlive;
      } else if ((sf & F.hasAckedByPeer) !== 0 && seqAtOrAfter(s[W.ackedByPeer]!, segEnd)) {
        // Bytes the peer had already acknowledged: a copy of the frame (a SPAN port, two vantage points merged)
        // or a spurious retransmission. Either way it says nothing about the peer answering: no retransmission run.
        this.duplicates++;
        note = NOTE.duplicate;
      } else {
        retransmission(s, frame);
        note = NOTE.retransmission;
      }
    } else {
      if (!syn && !fin && hasAck && seqAdd(seq, 1) === nxt && packets > 1) {
        // Linux keep-alive (and zero-window probe): an empty segment at snd.una - 1 that the peer must answer.
        if (r[W.window] === 0) {
          s[W.zeroWindowProbes] = s[W.zeroWindowProbes]! + 1;
          s[W.lastZeroWindowProbeFrame] = frame;
          note = NOTE.zeroWindowProbe;
        } else {
          keepAlive(s, frame);
          note = NOTE.keepAlive;
        }
      }
    }
    r[W.flags] = rf;

    if (fin) {
      const finSeq = seqAdd(seq, len);
      if ((sf & F.hasFin) === 0) {
        sf |= F.hasFin;
        sf = hasAck ? sf | F.finHadAck : sf & ~F.finHadAck;
        s[W.finSeq] = finSeq;
        s[W.finFrame] = frame;
        s[W.finTime] = t;
        s[W.finAckValue] = seg.ack;
        if (this.closer === null) {
          this.closer = fromServer ? 'server' : 'client';
        }
        s[W.flags] = sf;
        this.onFinSent(snd, frame);
      } else if (finSeq === s[W.finSeq]) {
        if (note === NOTE.none) note = NOTE.finRetransmission;
        if (len === 0) s[W.retransmissions] = s[W.retransmissions]! + 1;
      }
    }

    if (seqAfter(segEnd, s[W.nxt]!)) s[W.nxt] = segEnd;

    // The last segment, to recognise a reply RST from the peer (Linux: seq = this segment's ack, no ACK flag).
    s[W.lastSegFrame] = frame;
    s[W.lastSegTime] = t;
    s[W.lastSegAck] = seg.ack;
    s[W.lastSegEndSeq] = segEnd;
    sf &= ~(F.lastSegHadAck | F.lastSegWasFin);
    if (hasAck) sf |= F.lastSegHadAck;
    if (fin) sf |= F.lastSegWasFin;
    s[W.flags] = sf;

    if (this.traced) this.trace.addSegment(seg, fromServer, note);
  }

  /** State changes when `snd` sends its first FIN. */
  private onFinSent(snd: EndpointTrack, frame: number): void {
    switch (snd.stateCode) {
      case S.CLOSE_WAIT:
        snd.setStateCode(S.LAST_ACK, frame);
        break;
      case S.LAST_ACK:
      case S.CLOSING:
      case S.TIME_WAIT:
      case S.FIN_WAIT_1:
      case S.FIN_WAIT_2:
        break;
      default:
        snd.setStateCode(S.FIN_WAIT_1, frame);
    }
    this.checkFinished();
  }

  /** State changes when an end shows (by its acknowledgement) that it received the peer's FIN. */
  private onFinReceived(e: EndpointTrack, frame: number): void {
    switch (e.stateCode) {
      case S.FIN_WAIT_1:
        e.setStateCode(e.finAcked ? S.TIME_WAIT : S.CLOSING, frame);
        break;
      case S.FIN_WAIT_2:
        e.setStateCode(S.TIME_WAIT, frame);
        break;
      case S.ESTABLISHED:
      case S.SYN_RECV:
      case S.SYN_SENT:
        e.setStateCode(S.CLOSE_WAIT, frame);
        break;
      default:
        break;
    }
  }

  /** Handles a RST; returns the ladder note. */
  private onRst(seg: TcpSegment, snd: EndpointTrack, rcv: EndpointTrack, fromServer: boolean): NoteCode {
    const t = snd.f[W.clock]!;
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
    snd.setStatesAtRst(snd.stateCode, rcv.stateCode);
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
    snd.setStateCode(S.CLOSED, seg.frame);
    // A TIME_WAIT end may keep its state (RFC 1337); every other end is torn down by an acceptable RST.
    if (rcv.stateCode !== S.TIME_WAIT) rcv.setStateCode(S.CLOSED, seg.frame);
    this.markFinished();
    return NOTE.none;
  }

  /**
   * RFC 793 / RFC 5961: in SYN_SENT a RST is acceptable when it acknowledges the SYN; otherwise when its sequence
   * number lies in the receiver's window. The receiver's rcv_nxt is what it last acknowledged of the sender.
   */
  private rstAcceptable(seg: TcpSegment, snd: EndpointTrack, rcv: EndpointTrack, hasAck: boolean): boolean {
    if (rcv.stateCode === S.SYN_SENT && !this.midstream) {
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

  private checkFinished(): void {
    const c = this.client.stateCode;
    const v = this.server.stateCode;
    if (this.client.hasFin && this.server.hasFin && (c === S.CLOSED || c === S.TIME_WAIT) && (v === S.CLOSED || v === S.TIME_WAIT)) {
      this.markFinished();
    }
  }

  /** Marks the connection finished at the segment being taken (the ends' clock). */
  private markFinished(): void {
    if (!this.finished) {
      this.finished = true;
      this.all[this.cw + CW.finishedTime] = this.client.f[W.clock]!;
    }
  }

}

/**
 * New payload from the end with words `s` (`r`: the peer's words, `rf` the peer's flags). These helpers read the
 * segment's time from the end's clock word rather than take it as an argument (see W.clock).
 */
function newData(s: Float64Array, r: Float64Array, rf: number, bytes: number, frame: number): void {
  s[W.payloadBytes] = s[W.payloadBytes]! + bytes;
  if (s[W.firstDataFrame]! < 0) s[W.firstDataFrame] = frame;
  s[W.lastDataTime] = s[W.clock]!;
  s[W.receivedSinceOwnSend] = 0;
  r[W.receivedSinceOwnSend] = r[W.receivedSinceOwnSend]! + bytes;
  if ((rf & F.hasFin) !== 0 && s[W.dataAfterPeerFinFrame]! < 0) s[W.dataAfterPeerFinFrame] = frame;
}

function retransmission(s: Float64Array, frame: number): void {
  const t = s[W.clock]!;
  s[W.retransmissions] = s[W.retransmissions]! + 1;
  const since = s[W.retransSinceAck]! + 1;
  s[W.retransSinceAck] = since;
  if (since === 1) s[W.retransRunStart] = t;
  if (s[W.firstRetransFrame]! < 0) s[W.firstRetransFrame] = frame;
  const last = s[W.lastRetransTime]!;
  if (last >= 0) s[W.lastRetransGap] = t - last;
  s[W.lastRetransFrame] = frame;
  s[W.lastRetransTime] = t;
}

function keepAlive(s: Float64Array, frame: number): void {
  const t = s[W.clock]!;
  s[W.keepAlives] = s[W.keepAlives]! + 1;
  s[W.keepAlivesUnanswered] = s[W.keepAlivesUnanswered]! + 1;
  s[W.lastKeepAliveFrame] = frame;
  s[W.lastKeepAliveTime] = t;
}

const resetConnection = makeResetter(new Connection(), ['buffer', 'client', 'server', 'clientAddrView', 'serverAddrView', 'all', 'cw', 'words', 'addrWord', 'trace', 'traced', 'zeekHistory', 'generation']);

/**
 * The fields saveState carries: every number and boolean but the table's links (slot, hash, queue flag, generation:
 * they mean nothing in another thread). The closer and the encapsulation name are strings, carried by hand.
 */
const connectionFields = makeFieldCopier(new Connection(false), [
  'buffer', 'client', 'server', 'clientAddrView', 'serverAddrView', 'all', 'cw', 'words', 'addrWord', 'trace', 'traced',
  'zeekHistory', 'generation', 'slot', 'hash', 'inFinishedQueue', 'closer', 'tunnel',
  // Every number field left is a 32-bit integer (ports, counts, nanoseconds, ids): see makeFieldCopier.
], true);

/** Float64 words of an untraced connection's buffer: both ends, the addresses and CW (saveState's first words). */
export const CONNECTION_BUFFER_WORDS = 2 * ENDPOINT_WORDS_UNLOGGED + 4 + CONN_WORDS;

/** Float64 words of a connection's state as saveState writes it: both ends, the addresses, the fields, the closer. */
export const CONNECTION_STATE_WORDS = CONNECTION_BUFFER_WORDS + connectionFields.words + 1;
