import { TCP_STATES, type TcpState } from '../classify/labels.js';

/** How many state changes an end keeps (a real connection has fewer than ten; bounded against hostile input). */
const MAX_STATE_CHANGES = 16;

/** State changes kept inline (two words each: time, and frame × 16 + state); later ones go to a small array. */
const INLINE_STATE_CHANGES = 8;

/** Code of each TCP state: its index in TCP_STATES. */
const STATE_CODE: Readonly<Record<TcpState, number>> = Object.fromEntries(TCP_STATES.map((s, i) => [s, i])) as Record<TcpState, number>;

/** Words of the end's fields, then the state-change count and the inline state changes. */
const FIELD_WORDS = 59;
/**
 * The booleans are bits of word FLAGS, and the three states 4-bit fields of word STATES (the current state in
 * the low bits): one word each instead of one per field.
 */
const FLAGS = 0;
const STATES = 1;
const STATE_COUNT = FIELD_WORDS;
const STATE_LOG = FIELD_WORDS + 1;
/** Float64 words one end takes (a connection holds both ends in one buffer: Connection). */
export const ENDPOINT_WORDS = STATE_LOG + 2 * INLINE_STATE_CHANGES;
/** Float64 words of an end that keeps no state log (no record will list its state changes). */
export const ENDPOINT_WORDS_UNLOGGED = STATE_LOG;

/** The initial words of an end, copied in on creation and reset. Words 21, 34, 45 and 46 and flag bit 0x100 are free. */
const INITIAL = new Float64Array(ENDPOINT_WORDS);
const INITIAL_FIELDS = INITIAL.subarray(0, STATE_LOG);
(function initial(t: Float64Array): void {
  t[4] = -1; // lastSeenTime
  t[5] = -1; // lastFrame
  t[7] = -1; // window
  t[14] = -1; // lastSegFrame
  t[15] = -1; // lastSegTime
  t[19] = -1; // firstDataFrame
  t[20] = -1; // lastDataTime
  t[24] = -1; // retransRunStart
  t[25] = -1; // ackAdvanceTime
  t[29] = -1; // lastZeroWindowProbeFrame
  t[32] = -1; // wscaleOffered
  t[33] = -1; // synFrame
  t[36] = -1; // lastSynTime
  t[37] = -1; // lastSynGap
  t[38] = -1; // finFrame
  t[39] = -1; // finTime
  t[40] = -1; // finAckFrame
  t[41] = -1; // finAckTime
  t[43] = -1; // rstFrame
  t[44] = -1; // rstTime
  t[47] = -1; // rstTriggerFrame
  t[48] = -1; // rstTriggerTime
  t[50] = -1; // windowAtRst
  t[52] = -1; // dataAfterPeerFinFrame
  t[53] = -1; // firstRetransFrame
  t[54] = -1; // lastRetransFrame
  t[55] = -1; // lastRetransTime
  t[56] = -1; // lastRetransGap
  t[57] = -1; // lastKeepAliveFrame
  t[58] = -1; // lastKeepAliveTime
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
  private readonly f: Float64Array;
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

  // --- counters
  get packets(): number {
    return this.f[2]!;
  }
  set packets(v: number) {
    this.f[2] = v;
  }
  /** New payload bytes (retransmitted bytes not counted twice). */
  get payloadBytes(): number {
    return this.f[18]!;
  }
  set payloadBytes(v: number) {
    this.f[18] = v;
  }
  get retransmissions(): number {
    return this.f[26]!;
  }
  set retransmissions(v: number) {
    this.f[26] = v;
  }
  /** Retransmissions since the peer last acknowledged new data from this end. */
  get retransSinceAck(): number {
    return this.f[23]!;
  }
  set retransSinceAck(v: number) {
    this.f[23] = v;
  }
  get keepAlives(): number {
    return this.f[27]!;
  }
  set keepAlives(v: number) {
    this.f[27] = v;
  }
  /** Keep-alive probes sent since the peer last sent anything. */
  get keepAlivesUnanswered(): number {
    return this.f[6]!;
  }
  set keepAlivesUnanswered(v: number) {
    this.f[6] = v;
  }
  get zeroWindowProbes(): number {
    return this.f[28]!;
  }
  set zeroWindowProbes(v: number) {
    this.f[28] = v;
  }
  get lastZeroWindowProbeFrame(): number {
    return this.f[29]!;
  }
  set lastZeroWindowProbeFrame(v: number) {
    this.f[29] = v;
  }
  /** Times this end advertised a zero window (counted on entry into zero). */
  get zeroWindows(): number {
    return this.f[30]!;
  }
  set zeroWindows(v: number) {
    this.f[30] = v;
  }
  /** Sequence gaps: data the capture missed (the vantage point lost packets). */
  get gaps(): number {
    return this.f[31]!;
  }
  set gaps(v: number) {
    this.f[31] = v;
  }

  // --- sequence space
  /** Sequence number of the first segment seen from this end (its ISN when the SYN was seen): the base of relative numbers. */
  get hasBase(): boolean {
    return (this.f[FLAGS]! & 0x1) !== 0;
  }
  set hasBase(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x1 : x & ~0x1;
  }
  get baseSeq(): number {
    return this.f[3]!;
  }
  set baseSeq(v: number) {
    this.f[3] = v;
  }
  get hasIsn(): boolean {
    return (this.f[FLAGS]! & 0x8) !== 0;
  }
  set hasIsn(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x8 : x & ~0x8;
  }
  get isn(): number {
    return this.f[12]!;
  }
  set isn(v: number) {
    this.f[12] = v;
  }
  /** Next sequence number after the highest byte (SYN and FIN count one) this end has sent. */
  get hasNxt(): boolean {
    return (this.f[FLAGS]! & 0x2) !== 0;
  }
  set hasNxt(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x2 : x & ~0x2;
  }
  get nxt(): number {
    return this.f[10]!;
  }
  set nxt(v: number) {
    this.f[10] = v;
  }
  /** Highest acknowledgement the peer sent for this end's sequence space. */
  get hasAckedByPeer(): boolean {
    return (this.f[FLAGS]! & 0x4) !== 0;
  }
  set hasAckedByPeer(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x4 : x & ~0x4;
  }
  get ackedByPeer(): number {
    return this.f[11]!;
  }
  set ackedByPeer(v: number) {
    this.f[11] = v;
  }
  /** When the peer's acknowledgement of this end's data last moved forward. */
  get ackAdvanceTime(): number {
    return this.f[25]!;
  }
  set ackAdvanceTime(v: number) {
    this.f[25] = v;
  }

  // --- window (this end's advertised receive window)
  /** Window scale this end offered in its SYN (-1: none). Applied only when both ends offered one. */
  get wscaleOffered(): number {
    return this.f[32]!;
  }
  set wscaleOffered(v: number) {
    this.f[32] = v;
  }
  /** Shift to apply to this end's window fields (0 until the handshake shows scaling is in force). */
  get wscaleShift(): number {
    return this.f[9]!;
  }
  set wscaleShift(v: number) {
    this.f[9] = v;
  }
  /** Last advertised window, scaled, in bytes (-1 before any). */
  get window(): number {
    return this.f[7]!;
  }
  set window(v: number) {
    this.f[7] = v;
  }
  get maxWindow(): number {
    return this.f[8]!;
  }
  set maxWindow(v: number) {
    this.f[8] = v;
  }

  // --- SYN
  get synFrame(): number {
    return this.f[33]!;
  }
  set synFrame(v: number) {
    this.f[33] = v;
  }
  get synCount(): number {
    return this.f[35]!;
  }
  set synCount(v: number) {
    this.f[35] = v;
  }
  get lastSynTime(): number {
    return this.f[36]!;
  }
  set lastSynTime(v: number) {
    this.f[36] = v;
  }
  /** Interval between the last two SYN transmissions (for the "gave up" inference of backoff). */
  get lastSynGap(): number {
    return this.f[37]!;
  }
  set lastSynGap(v: number) {
    this.f[37] = v;
  }

  // --- FIN
  get hasFin(): boolean {
    return (this.f[FLAGS]! & 0x10) !== 0;
  }
  set hasFin(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x10 : x & ~0x10;
  }
  /** Sequence number of the FIN itself. */
  get finSeq(): number {
    return this.f[13]!;
  }
  set finSeq(v: number) {
    this.f[13] = v;
  }
  get finFrame(): number {
    return this.f[38]!;
  }
  set finFrame(v: number) {
    this.f[38] = v;
  }
  get finTime(): number {
    return this.f[39]!;
  }
  set finTime(v: number) {
    this.f[39] = v;
  }
  get finAcked(): boolean {
    return (this.f[FLAGS]! & 0x20) !== 0;
  }
  set finAcked(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x20 : x & ~0x20;
  }
  get finAckFrame(): number {
    return this.f[40]!;
  }
  set finAckFrame(v: number) {
    this.f[40] = v;
  }
  get finAckTime(): number {
    return this.f[41]!;
  }
  set finAckTime(v: number) {
    this.f[41] = v;
  }
  /** The ack number carried by this end's FIN: did it already cover the peer's FIN? (simultaneous close) */
  get finAckValue(): number {
    return this.f[42]!;
  }
  set finAckValue(v: number) {
    this.f[42] = v;
  }
  get finHadAck(): boolean {
    return (this.f[FLAGS]! & 0x400) !== 0;
  }
  set finHadAck(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x400 : x & ~0x400;
  }

  // --- RST (the first accepted one)
  get hasRst(): boolean {
    return (this.f[FLAGS]! & 0x200) !== 0;
  }
  set hasRst(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x200 : x & ~0x200;
  }
  get rstFrame(): number {
    return this.f[43]!;
  }
  set rstFrame(v: number) {
    this.f[43] = v;
  }
  get rstTime(): number {
    return this.f[44]!;
  }
  set rstTime(v: number) {
    this.f[44] = v;
  }
  get rstHasAck(): boolean {
    return (this.f[FLAGS]! & 0x800) !== 0;
  }
  set rstHasAck(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x800 : x & ~0x800;
  }
  /** True when the RST answers the peer's last segment the way a socket-less Linux reply does. */
  get rstIsReply(): boolean {
    return (this.f[FLAGS]! & 0x1000) !== 0;
  }
  set rstIsReply(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x1000 : x & ~0x1000;
  }
  /** The peer's segment the RST answered (frame), or -1. */
  get rstTriggerFrame(): number {
    return this.f[47]!;
  }
  set rstTriggerFrame(v: number) {
    this.f[47] = v;
  }
  /** Was that triggering segment a FIN? */
  get rstTriggerWasFin(): boolean {
    return (this.f[FLAGS]! & 0x2000) !== 0;
  }
  set rstTriggerWasFin(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x2000 : x & ~0x2000;
  }
  get rstTriggerTime(): number {
    return this.f[48]!;
  }
  set rstTriggerTime(v: number) {
    this.f[48] = v;
  }
  /** This end's state and the peer's just before the RST. */
  get stateBeforeRst(): TcpState {
    return TCP_STATES[(this.f[STATES]! >> 4) & 15]!;
  }
  set stateBeforeRst(v: TcpState) {
    this.f[STATES] = (this.f[STATES]! & ~(15 << 4)) | (STATE_CODE[v] << 4);
  }
  get peerStateAtRst(): TcpState {
    return TCP_STATES[(this.f[STATES]! >> 8) & 15]!;
  }
  set peerStateAtRst(v: TcpState) {
    this.f[STATES] = (this.f[STATES]! & ~(15 << 8)) | (STATE_CODE[v] << 8);
  }
  /** Payload bytes received from the peer since this end last sent payload, at the time of the RST. */
  get unansweredBytesAtRst(): number {
    return this.f[49]!;
  }
  set unansweredBytesAtRst(v: number) {
    this.f[49] = v;
  }
  /** Window this end advertised last before the RST (scaled), and its largest. */
  get windowAtRst(): number {
    return this.f[50]!;
  }
  set windowAtRst(v: number) {
    this.f[50] = v;
  }
  get outOfWindowRsts(): number {
    return this.f[51]!;
  }
  set outOfWindowRsts(v: number) {
    this.f[51] = v;
  }

  // --- data timing
  get firstDataFrame(): number {
    return this.f[19]!;
  }
  set firstDataFrame(v: number) {
    this.f[19] = v;
  }
  get lastDataTime(): number {
    return this.f[20]!;
  }
  set lastDataTime(v: number) {
    this.f[20] = v;
  }
  /** Payload received from the peer since this end last sent payload (a request not yet answered). */
  get receivedSinceOwnSend(): number {
    return this.f[22]!;
  }
  set receivedSinceOwnSend(v: number) {
    this.f[22] = v;
  }
  /** First payload this end sent after the peer's FIN (legitimate half-close data, or data to a closed peer). */
  get dataAfterPeerFinFrame(): number {
    return this.f[52]!;
  }
  set dataAfterPeerFinFrame(v: number) {
    this.f[52] = v;
  }
  /** Retransmission timing (for "gave up" inference). */
  get firstRetransFrame(): number {
    return this.f[53]!;
  }
  set firstRetransFrame(v: number) {
    this.f[53] = v;
  }
  get lastRetransFrame(): number {
    return this.f[54]!;
  }
  set lastRetransFrame(v: number) {
    this.f[54] = v;
  }
  get lastRetransTime(): number {
    return this.f[55]!;
  }
  set lastRetransTime(v: number) {
    this.f[55] = v;
  }
  get lastRetransGap(): number {
    return this.f[56]!;
  }
  set lastRetransGap(v: number) {
    this.f[56] = v;
  }
  /** When the current run of unacknowledged retransmissions began (-1: none running). */
  get retransRunStart(): number {
    return this.f[24]!;
  }
  set retransRunStart(v: number) {
    this.f[24] = v;
  }
  get lastKeepAliveFrame(): number {
    return this.f[57]!;
  }
  set lastKeepAliveFrame(v: number) {
    this.f[57] = v;
  }
  get lastKeepAliveTime(): number {
    return this.f[58]!;
  }
  set lastKeepAliveTime(v: number) {
    this.f[58] = v;
  }

  // --- the last segment this end sent (to match a reply RST from the peer)
  get lastSegFrame(): number {
    return this.f[14]!;
  }
  set lastSegFrame(v: number) {
    this.f[14] = v;
  }
  get lastSegTime(): number {
    return this.f[15]!;
  }
  set lastSegTime(v: number) {
    this.f[15] = v;
  }
  get lastSegHadAck(): boolean {
    return (this.f[FLAGS]! & 0x40) !== 0;
  }
  set lastSegHadAck(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x40 : x & ~0x40;
  }
  get lastSegAck(): number {
    return this.f[16]!;
  }
  set lastSegAck(v: number) {
    this.f[16] = v;
  }
  get lastSegEndSeq(): number {
    return this.f[17]!;
  }
  set lastSegEndSeq(v: number) {
    this.f[17] = v;
  }
  get lastSegWasFin(): boolean {
    return (this.f[FLAGS]! & 0x80) !== 0;
  }
  set lastSegWasFin(v: boolean) {
    const x = this.f[FLAGS]!;
    this.f[FLAGS] = v ? x | 0x80 : x & ~0x80;
  }
  get lastSeenTime(): number {
    return this.f[4]!;
  }
  set lastSeenTime(v: number) {
    this.f[4] = v;
  }
  get lastFrame(): number {
    return this.f[5]!;
  }
  set lastFrame(v: number) {
    this.f[5] = v;
  }

  // --- inferred state
  get state(): TcpState {
    return TCP_STATES[(this.f[STATES]! >> 0) & 15]!;
  }
  set state(v: TcpState) {
    this.f[STATES] = (this.f[STATES]! & ~(15 << 0)) | (STATE_CODE[v] << 0);
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

  setState(state: TcpState, time: number, frame: number): void {
    const f = this.f;
    const code = STATE_CODE[state];
    const states = f[STATES]!;
    if (code === (states & 15)) return;
    f[STATES] = (states & ~15) | code;
    if (!this.logged) return;
    const n = f[STATE_COUNT]!;
    if (n >= MAX_STATE_CHANGES) return;
    f[STATE_COUNT] = n + 1;
    if (n < INLINE_STATE_CHANGES) {
      f[STATE_LOG + 2 * n] = time;
      f[STATE_LOG + 2 * n + 1] = frame * 16 + code;
      return;
    }
    // Past the inline entries: allocates, but at most MAX_STATE_CHANGES - INLINE_STATE_CHANGES times a connection.
    (this.extraStates ??= []).push({ state, time, frame });
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
