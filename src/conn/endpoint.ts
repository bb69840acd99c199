import { TCP_STATES, type TcpState } from '../classify/labels.js';

/** How many state changes an end keeps (a real connection has fewer than ten; bounded against hostile input). */
const MAX_STATE_CHANGES = 16;

/** State changes kept inline (two words each: time, and frame × 16 + state); later ones go to a small array. */
const INLINE_STATE_CHANGES = 8;

/**
 * Codes of the TCP states (their index in TCP_STATES): the per-packet path compares and stores these, and the
 * state names are produced only when a record or a log reads them.
 */
export const S = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
} as const satisfies Record<TcpState, number>;
export type StateCode = (typeof S)[TcpState];

// The codes are indices into TCP_STATES: a reordered list must not silently rename states.
for (const name of TCP_STATES) if (TCP_STATES[S[name]] !== name) throw new Error(`endpoint: state code of ${name} is not its index`);

/** Code of each TCP state, by name. */
const STATE_CODE: Readonly<Record<TcpState, StateCode>> = S;

/** Words of the end's fields, then the state-change count and the inline state changes. */
const FIELD_WORDS = 59;
/**
 * Word of each field in an end's Float64Array. The booleans are bits (F) of word `flags`, and the three states
 * 4-bit codes (S) in word `states` (the current state in the low bits, the own and the peer's state at the RST
 * above): one word each instead of one per field. Connection's per-packet path reads and writes the words
 * directly (EndpointTrack.f); everything else goes through the accessors of the same names.
 */
export const W = {
  flags: 0,
  states: 1,
  packets: 2,
  baseSeq: 3,
  lastSeenTime: 4,
  lastFrame: 5,
  keepAlivesUnanswered: 6,
  window: 7,
  maxWindow: 8,
  wscaleShift: 9,
  nxt: 10,
  ackedByPeer: 11,
  isn: 12,
  finSeq: 13,
  lastSegFrame: 14,
  lastSegTime: 15,
  lastSegAck: 16,
  lastSegEndSeq: 17,
  payloadBytes: 18,
  firstDataFrame: 19,
  lastDataTime: 20,
  /**
   * The time of the segment the connection is taking (both ends hold it): what state changes are stamped with.
   * A word rather than an argument: a time passed to a call V8 does not inline is boxed, and V8 boxes it once
   * for every such call of a method, at their common dominator: that was a heap number for every segment.
   */
  clock: 21,
  receivedSinceOwnSend: 22,
  retransSinceAck: 23,
  retransRunStart: 24,
  ackAdvanceTime: 25,
  retransmissions: 26,
  keepAlives: 27,
  zeroWindowProbes: 28,
  lastZeroWindowProbeFrame: 29,
  zeroWindows: 30,
  gaps: 31,
  wscaleOffered: 32,
  synFrame: 33,
  synCount: 35,
  lastSynTime: 36,
  lastSynGap: 37,
  finFrame: 38,
  finTime: 39,
  finAckFrame: 40,
  finAckTime: 41,
  finAckValue: 42,
  rstFrame: 43,
  rstTime: 44,
  rstTriggerFrame: 47,
  rstTriggerTime: 48,
  unansweredBytesAtRst: 49,
  windowAtRst: 50,
  outOfWindowRsts: 51,
  dataAfterPeerFinFrame: 52,
  firstRetransFrame: 53,
  lastRetransFrame: 54,
  lastRetransTime: 55,
  lastRetransGap: 56,
  lastKeepAliveFrame: 57,
  lastKeepAliveTime: 58,
} as const;
/** Bits of word W.flags. */
export const F = {
  hasBase: 0x1,
  hasNxt: 0x2,
  hasAckedByPeer: 0x4,
  hasIsn: 0x8,
  hasFin: 0x10,
  finAcked: 0x20,
  lastSegHadAck: 0x40,
  lastSegWasFin: 0x80,
  hasRst: 0x200,
  finHadAck: 0x400,
  rstHasAck: 0x800,
  rstIsReply: 0x1000,
  rstTriggerWasFin: 0x2000,
} as const;
const STATE_COUNT = FIELD_WORDS;
const STATE_LOG = FIELD_WORDS + 1;
/** Float64 words one end takes (a connection holds both ends in one buffer: Connection). */
export const ENDPOINT_WORDS = STATE_LOG + 2 * INLINE_STATE_CHANGES;
/** Float64 words of an end that keeps no state log (no record will list its state changes). */
export const ENDPOINT_WORDS_UNLOGGED = STATE_LOG;

/** The initial words of an end, copied in on creation and reset. Words 34, 45 and 46 and flag bit 0x100 are free. */
const INITIAL = new Float64Array(ENDPOINT_WORDS);
const INITIAL_FIELDS = INITIAL.subarray(0, STATE_LOG);
(function initial(t: Float64Array): void {
  t[W.lastSeenTime] = -1;
  t[W.lastFrame] = -1;
  t[W.window] = -1;
  t[W.lastSegFrame] = -1;
  t[W.lastSegTime] = -1;
  t[W.firstDataFrame] = -1;
  t[W.lastDataTime] = -1;
  t[W.clock] = -1;
  t[W.retransRunStart] = -1;
  t[W.ackAdvanceTime] = -1;
  t[W.lastZeroWindowProbeFrame] = -1;
  t[W.wscaleOffered] = -1;
  t[W.synFrame] = -1;
  t[W.lastSynTime] = -1;
  t[W.lastSynGap] = -1;
  t[W.finFrame] = -1;
  t[W.finTime] = -1;
  t[W.finAckFrame] = -1;
  t[W.finAckTime] = -1;
  t[W.rstFrame] = -1;
  t[W.rstTime] = -1;
  t[W.rstTriggerFrame] = -1;
  t[W.rstTriggerTime] = -1;
  t[W.windowAtRst] = -1;
  t[W.dataAfterPeerFinFrame] = -1;
  t[W.firstRetransFrame] = -1;
  t[W.lastRetransFrame] = -1;
  t[W.lastRetransTime] = -1;
  t[W.lastRetransGap] = -1;
  t[W.lastKeepAliveFrame] = -1;
  t[W.lastKeepAliveTime] = -1;
})(INITIAL);

/**
 * What one end of a connection sent, and how the other end acknowledged it — the per-direction half of the
 * connection, as Zeek's TCP_Endpoint. All times are float seconds since the epoch (toSeconds); frames are the
 * run-wide frame numbers. -1 means "not seen".
 *
 * The fields live in one Float64Array (booleans as bits of one word, states as 4-bit indices into TCP_STATES in
 * another) behind accessors
 * of the same names. As plain object fields the times and the 32-bit sequence numbers (above the small-integer
 * range) were each a separately allocated heap number, and an end took about 1.5 KB scattered over many cache
 * lines; in the array it takes {ENDPOINT_WORDS} × 8 bytes, contiguous, with the fields a packet touches first.
 */
export class EndpointTrack {
  /** The fields' words (W, F, S); Connection's per-packet path uses them directly. */
  readonly f: Float64Array;
  /** State changes past the inline ones (rare: a real connection has fewer than eight). */
  private extraStates: { state: TcpState; time: number; frame: number }[] | null = null;

  /** Whether the state changes are recorded (storage for them was given). */
  private readonly logged: boolean;

  /**
   * An end with its own storage, or over `storage` (e.g. a view of its connection's buffer): ENDPOINT_WORDS
   * words, or ENDPOINT_WORDS_UNLOGGED for an end that records no state changes (states() is then empty).
   */
  constructor(storage?: Float64Array) {
    this.f = storage ?? new Float64Array(ENDPOINT_WORDS);
    this.logged = this.f.length >= ENDPOINT_WORDS;
    this.f.set(INITIAL_FIELDS);
  }

  /** Whether flag bit `bit` (F) of the flags word is set. */
  private flag(bit: number): boolean {
    return (this.f[W.flags]! & bit) !== 0;
  }

  private setFlag(bit: number, v: boolean): void {
    // The bit is cleared, then set again when wanted: every operation runs on every call, so that code optimised
    // before the first clearing has no path without type feedback (which would deoptimise it there).
    this.f[W.flags] = (this.f[W.flags]! & ~bit) | (v ? bit : 0);
  }

  // --- counters
  get packets(): number {
    return this.f[W.packets]!;
  }
  set packets(v: number) {
    this.f[W.packets] = v;
  }
  /** New payload bytes (retransmitted bytes not counted twice). */
  get payloadBytes(): number {
    return this.f[W.payloadBytes]!;
  }
  set payloadBytes(v: number) {
    this.f[W.payloadBytes] = v;
  }
  get retransmissions(): number {
    return this.f[W.retransmissions]!;
  }
  set retransmissions(v: number) {
    this.f[W.retransmissions] = v;
  }
  /** Retransmissions since the peer last acknowledged new data from this end. */
  get retransSinceAck(): number {
    return this.f[W.retransSinceAck]!;
  }
  set retransSinceAck(v: number) {
    this.f[W.retransSinceAck] = v;
  }
  get keepAlives(): number {
    return this.f[W.keepAlives]!;
  }
  set keepAlives(v: number) {
    this.f[W.keepAlives] = v;
  }
  /** Keep-alive probes sent since the peer last sent anything. */
  get keepAlivesUnanswered(): number {
    return this.f[W.keepAlivesUnanswered]!;
  }
  set keepAlivesUnanswered(v: number) {
    this.f[W.keepAlivesUnanswered] = v;
  }
  get zeroWindowProbes(): number {
    return this.f[W.zeroWindowProbes]!;
  }
  set zeroWindowProbes(v: number) {
    this.f[W.zeroWindowProbes] = v;
  }
  get lastZeroWindowProbeFrame(): number {
    return this.f[W.lastZeroWindowProbeFrame]!;
  }
  set lastZeroWindowProbeFrame(v: number) {
    this.f[W.lastZeroWindowProbeFrame] = v;
  }
  /** Times this end advertised a zero window (counted on entry into zero). */
  get zeroWindows(): number {
    return this.f[W.zeroWindows]!;
  }
  set zeroWindows(v: number) {
    this.f[W.zeroWindows] = v;
  }
  /** Sequence gaps: data the capture missed (the vantage point lost packets). */
  get gaps(): number {
    return this.f[W.gaps]!;
  }
  set gaps(v: number) {
    this.f[W.gaps] = v;
  }

  // --- sequence space
  /** Sequence number of the first segment seen from this end (its ISN when the SYN was seen): the base of relative numbers. */
  get hasBase(): boolean {
    return this.flag(F.hasBase);
  }
  set hasBase(v: boolean) {
    this.setFlag(F.hasBase, v);
  }
  get baseSeq(): number {
    return this.f[W.baseSeq]!;
  }
  set baseSeq(v: number) {
    this.f[W.baseSeq] = v;
  }
  get hasIsn(): boolean {
    return this.flag(F.hasIsn);
  }
  set hasIsn(v: boolean) {
    this.setFlag(F.hasIsn, v);
  }
  get isn(): number {
    return this.f[W.isn]!;
  }
  set isn(v: number) {
    this.f[W.isn] = v;
  }
  /** Next sequence number after the highest byte (SYN and FIN count one) this end has sent. */
  get hasNxt(): boolean {
    return this.flag(F.hasNxt);
  }
  set hasNxt(v: boolean) {
    this.setFlag(F.hasNxt, v);
  }
  get nxt(): number {
    return this.f[W.nxt]!;
  }
  set nxt(v: number) {
    this.f[W.nxt] = v;
  }
  /** Highest acknowledgement the peer sent for this end's sequence space. */
  get hasAckedByPeer(): boolean {
    return this.flag(F.hasAckedByPeer);
  }
  set hasAckedByPeer(v: boolean) {
    this.setFlag(F.hasAckedByPeer, v);
  }
  get ackedByPeer(): number {
    return this.f[W.ackedByPeer]!;
  }
  set ackedByPeer(v: number) {
    this.f[W.ackedByPeer] = v;
  }
  /** When the peer's acknowledgement of this end's data last moved forward. */
  get ackAdvanceTime(): number {
    return this.f[W.ackAdvanceTime]!;
  }
  set ackAdvanceTime(v: number) {
    this.f[W.ackAdvanceTime] = v;
  }

  // --- window (this end's advertised receive window)
  /** Window scale this end offered in its SYN (-1: none). Applied only when both ends offered one. */
  get wscaleOffered(): number {
    return this.f[W.wscaleOffered]!;
  }
  set wscaleOffered(v: number) {
    this.f[W.wscaleOffered] = v;
  }
  /** Shift to apply to this end's window fields (0 until the handshake shows scaling is in force). */
  get wscaleShift(): number {
    return this.f[W.wscaleShift]!;
  }
  set wscaleShift(v: number) {
    this.f[W.wscaleShift] = v;
  }
  /** Last advertised window, scaled, in bytes (-1 before any). */
  get window(): number {
    return this.f[W.window]!;
  }
  set window(v: number) {
    this.f[W.window] = v;
  }
  get maxWindow(): number {
    return this.f[W.maxWindow]!;
  }
  set maxWindow(v: number) {
    this.f[W.maxWindow] = v;
  }

  // --- SYN
  get synFrame(): number {
    return this.f[W.synFrame]!;
  }
  set synFrame(v: number) {
    this.f[W.synFrame] = v;
  }
  get synCount(): number {
    return this.f[W.synCount]!;
  }
  set synCount(v: number) {
    this.f[W.synCount] = v;
  }
  get lastSynTime(): number {
    return this.f[W.lastSynTime]!;
  }
  set lastSynTime(v: number) {
    this.f[W.lastSynTime] = v;
  }
  /** Interval between the last two SYN transmissions (for the "gave up" inference of backoff). */
  get lastSynGap(): number {
    return this.f[W.lastSynGap]!;
  }
  set lastSynGap(v: number) {
    this.f[W.lastSynGap] = v;
  }

  // --- FIN
  get hasFin(): boolean {
    return this.flag(F.hasFin);
  }
  set hasFin(v: boolean) {
    this.setFlag(F.hasFin, v);
  }
  /** Sequence number of the FIN itself. */
  get finSeq(): number {
    return this.f[W.finSeq]!;
  }
  set finSeq(v: number) {
    this.f[W.finSeq] = v;
  }
  get finFrame(): number {
    return this.f[W.finFrame]!;
  }
  set finFrame(v: number) {
    this.f[W.finFrame] = v;
  }
  get finTime(): number {
    return this.f[W.finTime]!;
  }
  set finTime(v: number) {
    this.f[W.finTime] = v;
  }
  get finAcked(): boolean {
    return this.flag(F.finAcked);
  }
  set finAcked(v: boolean) {
    this.setFlag(F.finAcked, v);
  }
  get finAckFrame(): number {
    return this.f[W.finAckFrame]!;
  }
  set finAckFrame(v: number) {
    this.f[W.finAckFrame] = v;
  }
  get finAckTime(): number {
    return this.f[W.finAckTime]!;
  }
  set finAckTime(v: number) {
    this.f[W.finAckTime] = v;
  }
  /** The ack number carried by this end's FIN: did it already cover the peer's FIN? (simultaneous close) */
  get finAckValue(): number {
    return this.f[W.finAckValue]!;
  }
  set finAckValue(v: number) {
    this.f[W.finAckValue] = v;
  }
  get finHadAck(): boolean {
    return this.flag(F.finHadAck);
  }
  set finHadAck(v: boolean) {
    this.setFlag(F.finHadAck, v);
  }

  // --- RST (the first accepted one)
  get hasRst(): boolean {
    return this.flag(F.hasRst);
  }
  set hasRst(v: boolean) {
    this.setFlag(F.hasRst, v);
  }
  get rstFrame(): number {
    return this.f[W.rstFrame]!;
  }
  set rstFrame(v: number) {
    this.f[W.rstFrame] = v;
  }
  get rstTime(): number {
    return this.f[W.rstTime]!;
  }
  set rstTime(v: number) {
    this.f[W.rstTime] = v;
  }
  get rstHasAck(): boolean {
    return this.flag(F.rstHasAck);
  }
  set rstHasAck(v: boolean) {
    this.setFlag(F.rstHasAck, v);
  }
  /** True when the RST answers the peer's last segment the way a socket-less Linux reply does. */
  get rstIsReply(): boolean {
    return this.flag(F.rstIsReply);
  }
  set rstIsReply(v: boolean) {
    this.setFlag(F.rstIsReply, v);
  }
  /** The peer's segment the RST answered (frame), or -1. */
  get rstTriggerFrame(): number {
    return this.f[W.rstTriggerFrame]!;
  }
  set rstTriggerFrame(v: number) {
    this.f[W.rstTriggerFrame] = v;
  }
  /** Was that triggering segment a FIN? */
  get rstTriggerWasFin(): boolean {
    return this.flag(F.rstTriggerWasFin);
  }
  set rstTriggerWasFin(v: boolean) {
    this.setFlag(F.rstTriggerWasFin, v);
  }
  get rstTriggerTime(): number {
    return this.f[W.rstTriggerTime]!;
  }
  set rstTriggerTime(v: number) {
    this.f[W.rstTriggerTime] = v;
  }
  /** This end's state and the peer's just before the RST. */
  get stateBeforeRst(): TcpState {
    return TCP_STATES[(this.f[W.states]! >> 4) & 15]!;
  }
  get peerStateAtRst(): TcpState {
    return TCP_STATES[(this.f[W.states]! >> 8) & 15]!;
  }
  /**
   * Both states at the RST, by code (S). By code, not by name: a lookup of the code by name was a keyed load that
   * deoptimised the state machine each time it met another state.
   */
  setStatesAtRst(own: StateCode, peer: StateCode): void {
    this.f[W.states] = (this.f[W.states]! & 15) | (own << 4) | (peer << 8);
  }
  /** Payload bytes received from the peer since this end last sent payload, at the time of the RST. */
  get unansweredBytesAtRst(): number {
    return this.f[W.unansweredBytesAtRst]!;
  }
  set unansweredBytesAtRst(v: number) {
    this.f[W.unansweredBytesAtRst] = v;
  }
  /** Window this end advertised last before the RST (scaled), and its largest. */
  get windowAtRst(): number {
    return this.f[W.windowAtRst]!;
  }
  set windowAtRst(v: number) {
    this.f[W.windowAtRst] = v;
  }
  get outOfWindowRsts(): number {
    return this.f[W.outOfWindowRsts]!;
  }
  set outOfWindowRsts(v: number) {
    this.f[W.outOfWindowRsts] = v;
  }

  // --- data timing
  get firstDataFrame(): number {
    return this.f[W.firstDataFrame]!;
  }
  set firstDataFrame(v: number) {
    this.f[W.firstDataFrame] = v;
  }
  get lastDataTime(): number {
    return this.f[W.lastDataTime]!;
  }
  set lastDataTime(v: number) {
    this.f[W.lastDataTime] = v;
  }
  /** Payload received from the peer since this end last sent payload (a request not yet answered). */
  get receivedSinceOwnSend(): number {
    return this.f[W.receivedSinceOwnSend]!;
  }
  set receivedSinceOwnSend(v: number) {
    this.f[W.receivedSinceOwnSend] = v;
  }
  /** First payload this end sent after the peer's FIN (legitimate half-close data, or data to a closed peer). */
  get dataAfterPeerFinFrame(): number {
    return this.f[W.dataAfterPeerFinFrame]!;
  }
  set dataAfterPeerFinFrame(v: number) {
    this.f[W.dataAfterPeerFinFrame] = v;
  }
  /** Retransmission timing (for "gave up" inference). */
  get firstRetransFrame(): number {
    return this.f[W.firstRetransFrame]!;
  }
  set firstRetransFrame(v: number) {
    this.f[W.firstRetransFrame] = v;
  }
  get lastRetransFrame(): number {
    return this.f[W.lastRetransFrame]!;
  }
  set lastRetransFrame(v: number) {
    this.f[W.lastRetransFrame] = v;
  }
  get lastRetransTime(): number {
    return this.f[W.lastRetransTime]!;
  }
  set lastRetransTime(v: number) {
    this.f[W.lastRetransTime] = v;
  }
  get lastRetransGap(): number {
    return this.f[W.lastRetransGap]!;
  }
  set lastRetransGap(v: number) {
    this.f[W.lastRetransGap] = v;
  }
  /** When the current run of unacknowledged retransmissions began (-1: none running). */
  get retransRunStart(): number {
    return this.f[W.retransRunStart]!;
  }
  set retransRunStart(v: number) {
    this.f[W.retransRunStart] = v;
  }
  get lastKeepAliveFrame(): number {
    return this.f[W.lastKeepAliveFrame]!;
  }
  set lastKeepAliveFrame(v: number) {
    this.f[W.lastKeepAliveFrame] = v;
  }
  get lastKeepAliveTime(): number {
    return this.f[W.lastKeepAliveTime]!;
  }
  set lastKeepAliveTime(v: number) {
    this.f[W.lastKeepAliveTime] = v;
  }

  // --- the last segment this end sent (to match a reply RST from the peer)
  get lastSegFrame(): number {
    return this.f[W.lastSegFrame]!;
  }
  set lastSegFrame(v: number) {
    this.f[W.lastSegFrame] = v;
  }
  get lastSegTime(): number {
    return this.f[W.lastSegTime]!;
  }
  set lastSegTime(v: number) {
    this.f[W.lastSegTime] = v;
  }
  get lastSegHadAck(): boolean {
    return this.flag(F.lastSegHadAck);
  }
  set lastSegHadAck(v: boolean) {
    this.setFlag(F.lastSegHadAck, v);
  }
  get lastSegAck(): number {
    return this.f[W.lastSegAck]!;
  }
  set lastSegAck(v: number) {
    this.f[W.lastSegAck] = v;
  }
  get lastSegEndSeq(): number {
    return this.f[W.lastSegEndSeq]!;
  }
  set lastSegEndSeq(v: number) {
    this.f[W.lastSegEndSeq] = v;
  }
  get lastSegWasFin(): boolean {
    return this.flag(F.lastSegWasFin);
  }
  set lastSegWasFin(v: boolean) {
    this.setFlag(F.lastSegWasFin, v);
  }
  get lastSeenTime(): number {
    return this.f[W.lastSeenTime]!;
  }
  set lastSeenTime(v: number) {
    this.f[W.lastSeenTime] = v;
  }
  get lastFrame(): number {
    return this.f[W.lastFrame]!;
  }
  set lastFrame(v: number) {
    this.f[W.lastFrame] = v;
  }

  // --- inferred state
  get state(): TcpState {
    return TCP_STATES[this.f[W.states]! & 15]!;
  }
  set state(v: TcpState) {
    this.f[W.states] = (this.f[W.states]! & ~15) | STATE_CODE[v];
  }
  /** The state's code (S). */
  get stateCode(): StateCode {
    return (this.f[W.states]! & 15) as StateCode;
  }

  // --- inferred state
  /** The states this end went through (the first `stateCount` of them are kept). */
  get stateCount(): number {
    return this.f[STATE_COUNT]!;
  }

  /** Back to the initial state, for a pooled connection's next life. */
  reset(): void {
    // The log's entries past stateCount are never read: only the fields and the count start over.
    this.f.set(INITIAL_FIELDS);
    if (this.extraStates !== null) this.extraStates.length = 0;
  }

  /** Enters the state with code `code` (S) at the end's clock (W.clock), moved by frame `frame`. */
  setStateCode(code: StateCode, frame: number): void {
    const f = this.f;
    const states = f[W.states]!;
    if (code === (states & 15)) return;
    f[W.states] = (states & ~15) | code;
    if (!this.logged) return;
    const n = f[STATE_COUNT]!;
    if (n >= MAX_STATE_CHANGES) return;
    f[STATE_COUNT] = n + 1;
    const time = f[W.clock]!;
    if (n < INLINE_STATE_CHANGES) {
      f[STATE_LOG + 2 * n] = time;
      f[STATE_LOG + 2 * n + 1] = frame * 16 + code;
      return;
    }
    // Past the inline entries: allocates, but at most MAX_STATE_CHANGES - INLINE_STATE_CHANGES times a connection.
    (this.extraStates ??= []).push({ state: TCP_STATES[code], time, frame });
  }

  /** The recorded state changes, oldest first (a copy: allocates; for building records). */
  states(): { state: TcpState; time: number; frame: number }[] {
    const f = this.f;
    const n = f[STATE_COUNT]!;
    const out: { state: TcpState; time: number; frame: number }[] = [];
    for (let i = 0; i < n && i < INLINE_STATE_CHANGES; i++) {
      const packed = f[STATE_LOG + 2 * i + 1]!;
      const code = ((packed % 16) + 16) % 16; // a negative frame (hand-built tests) leaves a negative remainder
      out.push({ state: TCP_STATES[code]!, time: f[STATE_LOG + 2 * i]!, frame: (packed - code) / 16 });
    }
    if (this.extraStates !== null) for (const e of this.extraStates) out.push({ ...e });
    return out;
  }
}
