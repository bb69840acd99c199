import type { TcpState } from '../classify/labels.js';
import { makeResetter } from './resetter.js';

/** How many state changes an end keeps (a real connection has fewer than ten; bounded against hostile input). */
const MAX_STATE_CHANGES = 16;

/**
 * What one end of a connection sent, and how the other end acknowledged it — the per-direction half of the
 * connection, as Zeek's TCP_Endpoint. All times are float seconds since the epoch (toSeconds); frames are the
 * run-wide frame numbers. -1 means "not seen".
 */
export class EndpointTrack {
  // --- counters
  packets = 0;
  /** New payload bytes (retransmitted bytes not counted twice). */
  payloadBytes = 0;
  retransmissions = 0;
  /** Retransmissions since the peer last acknowledged new data from this end. */
  retransSinceAck = 0;
  keepAlives = 0;
  /** Keep-alive probes sent since the peer last sent anything. */
  keepAlivesUnanswered = 0;
  zeroWindowProbes = 0;
  lastZeroWindowProbeFrame = -1;
  /** Times this end advertised a zero window (counted on entry into zero). */
  zeroWindows = 0;
  /** Sequence gaps: data the capture missed (the vantage point lost packets). */
  gaps = 0;

  // --- sequence space
  /** Sequence number of the first segment seen from this end (its ISN when the SYN was seen): the base of relative numbers. */
  hasBase = false;
  baseSeq = 0;
  hasIsn = false;
  isn = 0;
  /** Next sequence number after the highest byte (SYN and FIN count one) this end has sent. */
  hasNxt = false;
  nxt = 0;
  /** Highest acknowledgement the peer sent for this end's sequence space. */
  hasAckedByPeer = false;
  ackedByPeer = 0;
  /** When the peer's acknowledgement of this end's data last moved forward. */
  ackAdvanceTime = -1;

  // --- window (this end's advertised receive window)
  /** Window scale this end offered in its SYN (-1: none). Applied only when both ends offered one. */
  wscaleOffered = -1;
  /** Shift to apply to this end's window fields (0 until the handshake shows scaling is in force). */
  wscaleShift = 0;
  /** Last advertised window, scaled, in bytes (-1 before any). */
  window = -1;
  maxWindow = 0;

  // --- SYN
  synFrame = -1;
  synTime = -1;
  synCount = 0;
  lastSynTime = -1;
  /** Interval between the last two SYN transmissions (for the "gave up" inference of backoff). */
  lastSynGap = -1;

  // --- FIN
  hasFin = false;
  /** Sequence number of the FIN itself. */
  finSeq = 0;
  finFrame = -1;
  finTime = -1;
  finAcked = false;
  finAckFrame = -1;
  finAckTime = -1;
  /** The ack number carried by this end's FIN: did it already cover the peer's FIN? (simultaneous close) */
  finAckValue = 0;
  finHadAck = false;

  // --- RST (the first accepted one)
  hasRst = false;
  rstFrame = -1;
  rstTime = -1;
  rstSeq = 0;
  rstAck = 0;
  rstHasAck = false;
  /** True when the RST answers the peer's last segment the way a socket-less Linux reply does. */
  rstIsReply = false;
  /** The peer's segment the RST answered (frame), or -1. */
  rstTriggerFrame = -1;
  /** Was that triggering segment a FIN? */
  rstTriggerWasFin = false;
  rstTriggerTime = -1;
  /** This end's state and the peer's just before the RST. */
  stateBeforeRst: TcpState = 'CLOSED';
  peerStateAtRst: TcpState = 'CLOSED';
  /** Payload bytes received from the peer since this end last sent payload, at the time of the RST. */
  unansweredBytesAtRst = 0;
  /** Window this end advertised last before the RST (scaled), and its largest. */
  windowAtRst = -1;
  outOfWindowRsts = 0;

  // --- data timing
  firstDataFrame = -1;
  lastDataTime = -1;
  lastDataFrame = -1;
  /** Payload received from the peer since this end last sent payload (a request not yet answered). */
  receivedSinceOwnSend = 0;
  /** First payload this end sent after the peer's FIN (legitimate half-close data, or data to a closed peer). */
  dataAfterPeerFinFrame = -1;
  /** Retransmission timing (for "gave up" inference). */
  firstRetransFrame = -1;
  lastRetransFrame = -1;
  lastRetransTime = -1;
  lastRetransGap = -1;
  /** When the current run of unacknowledged retransmissions began (-1: none running). */
  retransRunStart = -1;
  lastKeepAliveFrame = -1;
  lastKeepAliveTime = -1;

  // --- the last segment this end sent (to match a reply RST from the peer)
  lastSegFrame = -1;
  lastSegTime = -1;
  lastSegHadAck = false;
  lastSegAck = 0;
  lastSegEndSeq = 0;
  lastSegHadData = false;
  lastSegWasFin = false;
  lastSeenTime = -1;
  lastFrame = -1;

  // --- inferred state
  state: TcpState = 'CLOSED';
  /**
   * The states this end went through: the first `stateCount` entries of `stateLog`. The entry objects are kept
   * across a pooled connection's lives and overwritten, so recording a state allocates nothing after warm-up.
   */
  readonly stateLog: { state: TcpState; time: number; frame: number }[] = [];
  stateCount = 0;

  /** Back to the initial state, for a pooled connection's next life. */
  reset(): void {
    resetEndpoint(this);
  }

  setState(state: TcpState, time: number, frame: number): void {
    if (state === this.state) return;
    this.state = state;
    const n = this.stateCount;
    if (n >= MAX_STATE_CHANGES) return;
    const e = this.stateLog[n];
    if (e === undefined) {
      this.stateLog.push({ state, time, frame });
    } else {
      e.state = state;
      e.time = time;
      e.frame = frame;
    }
    this.stateCount = n + 1;
  }

  /** The recorded state changes, oldest first (a copy: allocates; for building records). */
  states(): { state: TcpState; time: number; frame: number }[] {
    return this.stateLog.slice(0, this.stateCount);
  }
}

const resetEndpoint = makeResetter(new EndpointTrack(), ['stateLog']);
