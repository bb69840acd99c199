import type { Connection } from '../conn/connection.js';
import type { EndpointTrack } from '../conn/endpoint.js';
import { seqAdd, seqAtOrAfter } from '../conn/seq.js';
import type { AppView, Cause, Closer, Confidence, Ending, Handshake, RstReason, Side, TcpState } from './labels.js';

export interface ClassifierOptions {
  /** A CLOSE_WAIT end silent this long up to the end of the capture is stuck (seconds). */
  closeWaitThresholdS: number;
  /** Linux tcp_fin_timeout: how long an orphaned FIN_WAIT_2 socket lives (seconds). */
  finTimeoutS: number;
}

export const DEFAULT_CLASSIFIER_OPTIONS: ClassifierOptions = {
  closeWaitThresholdS: 5,
  finTimeoutS: 60,
};

/** What the classifier needs to know about the run besides the connection. */
export interface ClassifyContext {
  /** End of the capture (float seconds): its last packet of any kind, or a later pcapng isb_endtime. */
  captureEnd: number;
  /** Why the connection is being classified now. */
  reason: 'finished' | 'evicted' | 'superseded' | 'end-of-capture';
}

/** The classifier's verdict: the labels and the facts behind them. */
export interface Verdict {
  ending: Ending;
  cause: Cause | null;
  closer: Closer | null;
  handshake: Handshake;
  closeWaitMs: number | null;
  finWait2Ms: number | null;
  rstReason: RstReason | null;
  confidence: Confidence;
  confidenceReasons: string[];
  appView: { client: AppView; server: AppView };
  evidence: number[];
  /** The end whose kernel or application acted (sent the deciding RST, sat in CLOSE_WAIT, went silent…). */
  actor: Side | null;
  /** Facts for the explanation: seconds and counts, by name. */
  facts: Record<string, number>;
}

/** Retransmissions without an acknowledgement before an end counts as talking to an unresponsive peer. */
const UNRESPONSIVE_RETRANSMISSIONS = 3;
/** Unanswered keep-alive probes before the peer counts as unresponsive. */
const UNRESPONSIVE_KEEPALIVES = 2;
/** Linux's initial SYN retransmission timeout (TCP_TIMEOUT_INIT), for the "gave up" inference. */
const SYN_RTO_INIT_S = 1;
/** Slack for timer inference: timers fire late and captures add delay. */
const TIMER_SLACK_S = 0.5;

/**
 * The evidence frames ascending, each once, without the "none" (≤ 0) entries. In place, by insertion: a handful
 * of frames per connection, for every connection of a run (a Set and a sorted copy each took a tenth of the
 * classifier's time).
 */
function framesInOrder(frames: number[]): number[] {
  let n = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (!(f > 0)) continue;
    let j = n;
    while (j > 0 && frames[j - 1]! > f) j--;
    if (j > 0 && frames[j - 1] === f) continue;
    for (let k = n; k > j; k--) frames[k] = frames[k - 1]!;
    frames[j] = f;
    n++;
  }
  // pop(), not `length = n`: setting the length to 0 drops the array's backing store, and the next push then
  // allocates a new one, for every connection of a run (half of the reading thread's allocation).
  while (frames.length > n) frames.pop();
  return frames;
}

/** Seconds to milliseconds (µs precision). Never negative: with a capture clock stepping back, an interval is 0. */
function ms(seconds: number): number {
  return seconds > 0 ? Math.round(seconds * 1e6) / 1e3 : 0;
}

function sideOf(conn: Connection, e: EndpointTrack): Side {
  return e === conn.client ? 'client' : 'server';
}

function peerOf(conn: Connection, e: EndpointTrack): EndpointTrack {
  return e === conn.client ? conn.server : conn.client;
}

/** What an application learns from a RST that reaches its socket in `state` (Linux tcp_reset → sk_err). */
function viewOfReset(state: TcpState, sawEof: boolean): AppView {
  switch (state) {
    case 'SYN_SENT':
      return 'ECONNREFUSED';
    case 'CLOSE_WAIT':
      // The application has read EOF and is still writing: tcp_reset reports EPIPE in CLOSE_WAIT.
      return 'EPIPE';
    case 'ESTABLISHED':
    case 'SYN_RECV':
      return 'ECONNRESET';
    default:
      // FIN_WAIT_*, CLOSING, LAST_ACK, TIME_WAIT: the application has closed its socket; it sees nothing more.
      return sawEof ? 'EOF' : 'none';
  }
}

function handshakeOf(conn: Connection): Handshake {
  if (conn.sawSyn && conn.sawSynAck) return 'complete';
  if (conn.sawSyn) return 'syn-only';
  if (conn.sawSynAck) return 'syn-ack-only';
  return 'midstream';
}

/**
 * Did `e` give up retransmitting by the end of the capture? Linux doubles its timeout after each retransmission
 * and reports ETIMEDOUT one (doubled) timeout after the last one; if the capture runs past that without another
 * retransmission, the sender has given up.
 */
function gaveUp(lastTime: number, lastGap: number, captureEnd: number, initial: number): boolean {
  if (lastTime < 0) return false;
  const next = Math.max(lastGap > 0 ? lastGap * 2 : initial, initial);
  return captureEnd - lastTime > next + TIMER_SLACK_S;
}

/**
 * Did the RST sender throw away data it had received but not read (RFC 2525 §2.17: Linux tcp_close sends RST
 * instead of FIN then)? The wire cannot show reads; two signs do:
 *  - a server that received bytes it never answered (a request, or the rest of an upload) and reset;
 *  - an end whose advertised window had shrunk by a large backlog (at least half its largest window, or zero).
 * A client that reset after the last bytes of a response is taken to have read them (an abort, not unread data),
 * since Linux acknowledges a small response before the application reads it either way.
 */
function unreadDataEvidence(conn: Connection, r: EndpointTrack): boolean {
  if (r.unansweredBytesAtRst <= 0) return false;
  if (r.windowAtRst === 0 || r.zeroWindows > 0) return true;
  if (r.maxWindow > 0 && r.windowAtRst >= 0 && r.maxWindow - r.windowAtRst >= r.maxWindow / 2) return true;
  return r === conn.server;
}

/** A verdict to reuse (classify's `into`): one per analyzer, instead of five objects per connection. */
export function newVerdict(): Verdict {
  return {
    ending: 'open',
    cause: null,
    closer: null,
    handshake: 'midstream',
    closeWaitMs: null,
    finWait2Ms: null,
    rstReason: null,
    confidence: 'high',
    confidenceReasons: [],
    appView: { client: 'none', server: 'none' },
    evidence: [],
    actor: null,
    facts: {},
  };
}

/**
 * Classifies a connection. With `into`, the verdict is written there (reset first) and is valid until the next
 * call with it: what an analyzer does for every connection of a run, to spare the collector five objects each.
 * A record built from it (recordOf) copies what it keeps.
 */
export function classify(conn: Connection, opts: ClassifierOptions, ctx: ClassifyContext, into?: Verdict): Verdict {
  const c = conn.client;
  const s = conn.server;
  const v = into ?? newVerdict();
  v.ending = 'open';
  v.cause = null;
  v.closer = conn.closer;
  v.handshake = handshakeOf(conn);
  v.closeWaitMs = null;
  v.finWait2Ms = null;
  v.rstReason = null;
  v.confidence = 'high';
  // Emptied by pop(): `length = 0` is a runtime call and drops the backing store (see framesInOrder).
  while (v.confidenceReasons.length !== 0) v.confidenceReasons.pop();
  v.appView.client = 'none';
  v.appView.server = 'none';
  while (v.evidence.length !== 0) v.evidence.pop();
  v.actor = null;
  // Facts are named by the ending: a fresh object once there is one (setFact), so that no name lingers from the
  // last connection; most connections (graceful closes) have none.
  if (into !== undefined) v.facts = NO_FACTS;
  if (conn.midstream) lower(v, 'medium', 'the capture began mid-connection: the handshake was not seen');
  if (c.gaps + s.gaps > 0) lower(v, 'medium', 'the capture missed some segments of this connection');
  if (ctx.reason === 'evicted') lower(v, 'low', 'evicted under memory pressure (--max-connections) before it ended');

  // The RST that ended the connection: the first accepted one.
  let r: EndpointTrack | null = null;
  if (c.hasRst && (!s.hasRst || c.rstFrame < s.rstFrame)) r = c;
  else if (s.hasRst) r = s;

  if (r !== null) classifyReset(conn, r, opts, v);
  else classifyWithoutReset(conn, opts, ctx, v);

  if (c.outOfWindowRsts + s.outOfWindowRsts > 0) setFact(v, 'outOfWindowRsts', c.outOfWindowRsts + s.outOfWindowRsts);
  v.evidence = framesInOrder(v.evidence);
  return v;
}

/** The facts of a verdict that has none yet: setFact replaces it with a fresh object at the first. */
const NO_FACTS: Record<string, number> = Object.freeze({});

function setFact(v: Verdict, name: string, value: number): void {
  if (v.facts === NO_FACTS) v.facts = {};
  v.facts[name] = value;
}

const CONFIDENCE_RANK = { high: 2, medium: 1, low: 0 } as const;

function lower(v: Verdict, to: Confidence, reason: string): void {
  if (CONFIDENCE_RANK[to] < CONFIDENCE_RANK[v.confidence]) v.confidence = to;
  v.confidenceReasons.push(reason);
}

function setView(conn: Connection, v: Verdict, e: EndpointTrack, view: AppView): void {
  if (e === conn.client) v.appView.client = view;
  else v.appView.server = view;
}

/** EOF for an end that received (and acknowledged) the peer's FIN. */
function baseView(conn: Connection, e: EndpointTrack): AppView {
  const peer = peerOf(conn, e);
  return peer.hasFin && (peer.finAcked || e.hasFin || e.hasRst) ? 'EOF' : 'none';
}

function classifyReset(conn: Connection, r: EndpointTrack, opts: ClassifierOptions, v: Verdict): void {
  const p = peerOf(conn, r);
  const rSide = sideOf(conn, r);
  v.actor = rSide;
  v.evidence.push(r.rstFrame, r.rstTriggerFrame);
  const rClosedBefore = r.hasFin && r.finFrame < r.rstFrame;
  const pClosedBefore = p.hasFin && p.finFrame < r.rstFrame;
  const bareReply = r.rstIsReply && !r.rstHasAck;
  setView(conn, v, r, baseView(conn, r));
  setView(conn, v, p, baseView(conn, p));

  // Refused: the SYN answered by RST (RST+ACK from a port with no listener, or a firewall's reject).
  if (r === conn.server && conn.sawSyn && !conn.sawSynAck && p.state !== 'ESTABLISHED' && r.stateBeforeRst !== 'ESTABLISHED') {
    v.ending = 'refused';
    v.closer = null;
    v.rstReason = 'NO_SOCKET';
    v.evidence.push(p.synFrame);
    v.appView.client = 'ECONNREFUSED';
    v.appView.server = 'none';
    setFact(v, 'synCount', p.synCount);
    return;
  }

  // A RST from the client during the handshake: it gave up, never asked for this SYN-ACK (a SYN scan), or
  // answered a segment that did not fit its SYN.
  const sentDataBefore = r.firstDataFrame > 0 && r.firstDataFrame < r.rstFrame;
  if (r === conn.client && conn.sawSyn && !conn.sawHandshakeAck && !sentDataBefore && (r.stateBeforeRst === 'SYN_SENT' || r.stateBeforeRst === 'ESTABLISHED')) {
    v.ending = 'abortive-rst';
    v.cause = null;
    v.rstReason = bareReply ? 'NO_SOCKET' : 'NOT_SPECIFIED';
    v.evidence.push(conn.server.synFrame);
    lower(v, 'medium', 'the client reset during the handshake: a connect timeout or a SYN-ACK it did not expect');
    return;
  }

  if (rClosedBefore) {
    v.evidence.push(r.finFrame, r.finAckFrame);
    const sinceFin = (r.rstTriggerTime >= 0 ? r.rstTriggerTime : r.rstTime) - r.finTime;
    if (bareReply) {
      v.rstReason = 'NO_SOCKET';
      // Data from the peer after the closer's FIN (perhaps in the segment before its own FIN) is what a closed
      // socket resets; a bare FIN is only reset once the orphan is gone.
      const dataAfterFin = p.dataAfterPeerFinFrame > r.finFrame && p.dataAfterPeerFinFrame <= r.rstFrame;
      const triggerIsFin = r.rstTriggerWasFin || (pClosedBefore && p.finFrame === r.rstTriggerFrame);
      if (!dataAfterFin && (triggerIsFin || pClosedBefore)) {
        // A FIN never draws a RST from a live FIN_WAIT_2 socket: the closer's orphan was gone.
        orphanTimeout(conn, r, p, opts, v);
        if (p.finTime - r.finTime < opts.finTimeoutS) {
          lower(
            v,
            'medium',
            `the peer's FIN came ${(p.finTime - r.finTime).toFixed(1)} s after the closer's, sooner than --fin-timeout (${opts.finTimeoutS} s): the closer's tcp_fin_timeout is lower, or its orphan was reaped early (tcp_max_orphans)`,
          );
        }
        return;
      }
      // Data reaching an end that had closed: a live FIN_WAIT socket resets it (TCP_ABORT_ON_DATA); once the
      // orphan has expired, the socket-less reply looks the same, so the time since the FIN decides.
      if (dataAfterFin) v.evidence.push(p.dataAfterPeerFinFrame);
      if (sinceFin > opts.finTimeoutS) {
        orphanTimeout(conn, r, p, opts, v);
        lower(v, 'medium', 'the orphan timeout is inferred from the time since the FIN (a data segment, not a FIN, drew the RST)');
        return;
      }
      v.ending = 'abortive-rst';
      v.cause = 'data-after-close';
      // Once its FIN was acknowledged, a closed (orphaned) socket lives on as a FIN_WAIT_2 timewait mini-socket,
      // which resets data (tcp_timewait_state_process); before that the full socket does (tcp_rcv_state_process).
      v.rstReason = r.finAcked && r.finAckTime <= r.rstTriggerTime ? 'TCP_TIMEWAIT_SOCKET' : 'TCP_ABORT_ON_DATA';
      setFact(v, 'sinceFinS', sinceFin);
      setView(conn, v, p, viewOfReset(r.peerStateAtRst, baseView(conn, p) === 'EOF'));
      setView(conn, v, r, 'none');
      return;
    }
    // A live socket that had sent its FIN and then aborted (shutdown then an abortive close, or unread data).
    v.ending = 'abortive-rst';
    const unread = unreadDataEvidence(conn, r);
    v.cause = unread ? 'unread-data' : 'linger-abort';
    v.rstReason = unread ? 'TCP_ABORT_ON_CLOSE' : 'TCP_STATE';
    setView(conn, v, p, viewOfReset(r.peerStateAtRst, baseView(conn, p) === 'EOF'));
    setView(conn, v, r, 'none');
    lower(v, 'medium', 'whether the resetting end had unread data is inferred from what it received and its window');
    return;
  }

  // The RST sender never closed.
  if (bareReply) {
    // A socket-less reply from an end that never closed: it lost the connection (reboot, crash, state dropped).
    v.ending = 'lost-state-rst';
    v.rstReason = 'NO_SOCKET';
    if (pClosedBefore) v.evidence.push(p.finFrame);
    setView(conn, v, p, viewOfReset(r.peerStateAtRst, baseView(conn, p) === 'EOF'));
    setView(conn, v, r, 'none');
    setFact(v, 'silentBeforeS', r.lastSeenTime >= 0 ? r.rstTime - lastBefore(r) : 0);
    return;
  }

  // A live socket's reset after its keep-alive probes went unanswered (tcp_keepalive_timer).
  if (r.keepAlivesUnanswered >= UNRESPONSIVE_KEEPALIVES || (r.keepAlives > 0 && r.lastKeepAliveTime >= p.lastSeenTime)) {
    v.ending = 'peer-unresponsive';
    v.rstReason = 'TCP_KEEPALIVE_TIMEOUT';
    v.evidence.push(r.lastKeepAliveFrame);
    setView(conn, v, r, 'ETIMEDOUT');
    setView(conn, v, p, 'none');
    setFact(v, 'keepAlives', r.keepAlives);
    return;
  }
  // Some stacks (Windows) reset when they give up retransmitting.
  if (r.retransSinceAck >= UNRESPONSIVE_RETRANSMISSIONS) {
    v.ending = 'peer-unresponsive';
    v.rstReason = 'NOT_SPECIFIED';
    v.evidence.push(r.firstRetransFrame, r.lastRetransFrame);
    setView(conn, v, r, 'ETIMEDOUT');
    setView(conn, v, p, 'none');
    setFact(v, 'retransmissions', r.retransSinceAck);
    return;
  }

  v.ending = 'abortive-rst';
  if (!r.rstHasAck && !r.rstIsReply) {
    lower(v, 'medium', 'a RST without ACK that answers nothing: not the shape of a Linux abort (another stack, or a middlebox)');
  }
  const unread = unreadDataEvidence(conn, r);
  v.cause = unread ? 'unread-data' : 'linger-abort';
  v.rstReason = unread ? 'TCP_ABORT_ON_CLOSE' : 'TCP_STATE';
  if (pClosedBefore) v.evidence.push(p.finFrame, p.finAckFrame);
  setFact(v, 'unreadBytes', unread ? r.unansweredBytesAtRst : 0);
  setView(conn, v, p, viewOfReset(r.peerStateAtRst, baseView(conn, p) === 'EOF'));
  setView(conn, v, r, pClosedBefore ? 'EOF' : 'none');
}

/** The time of the last thing an end sent before its RST (for "silent for N s before the reset"). */
function lastBefore(e: EndpointTrack): number {
  return e.lastDataTime >= 0 && e.lastDataTime < e.rstTime ? e.lastDataTime : e.rstTime;
}

function orphanTimeout(conn: Connection, r: EndpointTrack, p: EndpointTrack, opts: ClassifierOptions, v: Verdict): void {
  v.ending = 'orphan-timeout-rst';
  v.cause = null;
  v.rstReason = 'NO_SOCKET';
  const pEnd = p.hasFin ? p.finTime : r.rstTriggerTime >= 0 ? r.rstTriggerTime : r.rstTime;
  v.closeWaitMs = ms(pEnd - r.finTime);
  if (r.finAcked) v.finWait2Ms = ms(Math.min(pEnd - r.finAckTime, opts.finTimeoutS));
  if (p.hasFin) v.evidence.push(p.finFrame);
  setView(conn, v, r, 'none');
  setView(conn, v, p, viewOfReset(r.peerStateAtRst, true));
  v.actor = sideOf(conn, p);
  setFact(v, 'closeWaitS', pEnd - r.finTime);
}

function classifyWithoutReset(conn: Connection, opts: ClassifierOptions, ctx: ClassifyContext, v: Verdict): void {
  const c = conn.client;
  const s = conn.server;
  const end = ctx.captureEnd;

  // Handshake endings.
  if (conn.sawSyn && !conn.sawSynAck && s.packets === 0) {
    v.ending = 'unanswered';
    v.closer = null;
    v.actor = 'server';
    v.evidence.push(c.synFrame, c.lastSynTime >= 0 ? c.lastFrame : -1);
    setFact(v, 'synCount', c.synCount);
    if (gaveUp(c.lastSynTime, c.lastSynGap, end, SYN_RTO_INIT_S)) v.appView.client = 'ETIMEDOUT';
    else lower(v, 'medium', 'the capture ended while the client was still retrying its SYN');
    return;
  }

  // Both FINs: a graceful close (a retransmitted FIN or a late RST after it does not change that).
  if (c.hasFin && s.hasFin) {
    v.ending = 'graceful-fin';
    const first = c.finFrame <= s.finFrame ? c : s;
    const second = peerOf(conn, first);
    const crossed =
      c.finHadAck && s.finHadAck &&
      !seqAtOrAfter(c.finAckValue, seqAdd(s.finSeq, 1)) &&
      !seqAtOrAfter(s.finAckValue, seqAdd(c.finSeq, 1));
    if (crossed) {
      v.cause = 'simultaneous-close';
      v.closer = 'both';
    }
    v.evidence.push(first.finFrame, second.finFrame, first.finAckFrame, second.finAckFrame);
    if (!crossed) v.closeWaitMs = ms(second.finTime - first.finTime);
    if (!crossed && first.finAcked) v.finWait2Ms = ms(Math.max(0, second.finTime - first.finAckTime));
    if (!c.finAcked || !s.finAcked) lower(v, 'medium', 'the acknowledgement of the last FIN was not captured');
    // The end that closed second read EOF first. The first closer sees the peer's FIN only if it merely shut down
    // its sending side (shutdown(SHUT_WR)) and kept reading: the wire shows that when it went on taking data
    // after its FIN. After close() the socket is an orphan and the application sees nothing more. Crossed FINs
    // mean both were still reading when the other's FIN came.
    v.appView.client = 'EOF';
    v.appView.server = 'EOF';
    if (!crossed && !(second.dataAfterPeerFinFrame > first.finFrame)) setView(conn, v, first, 'none');
    return;
  }

  // Data (or a FIN) retransmitted with no acknowledgement until the capture ends or the sender gives up.
  const u = unresponsiveSender(conn);
  if (u !== null) {
    v.ending = 'peer-unresponsive';
    v.actor = sideOf(conn, peerOf(conn, u));
    v.evidence.push(u.firstRetransFrame, u.lastRetransFrame, u.lastKeepAliveFrame);
    setFact(v, 'retransmissions', u.retransSinceAck);
    setFact(v, 'keepAlives', u.keepAlivesUnanswered);
    const lastTry = Math.max(u.lastRetransTime, u.lastKeepAliveTime);
    setFact(v, 'unansweredForS', end - (u.ackAdvanceTime >= 0 ? u.ackAdvanceTime : lastTry));
    const gave = u.retransSinceAck > 0 ? gaveUp(u.lastRetransTime, u.lastRetransGap, end, 0.2) : false;
    setView(conn, v, u, gave ? 'ETIMEDOUT' : baseView(conn, u));
    setView(conn, v, peerOf(conn, u), baseView(conn, peerOf(conn, u)));
    if (!gave) lower(v, 'medium', 'the capture ended while the sender was still retransmitting');
    return;
  }

  // One FIN: the other end is in CLOSE_WAIT (or still sending, a legitimate half-close).
  if (c.hasFin || s.hasFin) {
    const f = c.hasFin ? c : s;
    const w = peerOf(conn, f);
    v.evidence.push(f.finFrame, f.finAckFrame);
    setView(conn, v, w, 'EOF');
    setView(conn, v, f, 'none');
    const cwStart = f.finAcked ? f.finAckTime : f.finTime;
    // Keep-alives and zero-window probes are not activity: only data counts as the end still working.
    const lastWork = Math.max(cwStart, w.lastDataTime);
    const silence = end - lastWork;
    v.closeWaitMs = ms(end - f.finTime);
    if (f.finAcked) v.finWait2Ms = ms(end - f.finAckTime);
    if ((f.finAcked || w.packets > 0) && silence > opts.closeWaitThresholdS) {
      v.ending = 'close-wait-stuck';
      v.actor = sideOf(conn, w);
      setFact(v, 'silentS', silence);
      // Probes during the wait are evidence that the end was alive but silent, not activity.
      if (w.lastKeepAliveFrame > 0) v.evidence.push(w.lastKeepAliveFrame);
      if (w.lastZeroWindowProbeFrame > 0) v.evidence.push(w.lastZeroWindowProbeFrame);
      if (w.dataAfterPeerFinFrame > 0) v.evidence.push(w.dataAfterPeerFinFrame);
      // Said, without lowering the confidence: the wait was long enough to judge.
      v.confidenceReasons.push('the connection was still in CLOSE_WAIT when the capture ended');
      return;
    }
    v.ending = 'half-closed';
    v.actor = sideOf(conn, w);
    lower(v, 'medium', `the capture ended ${silence.toFixed(1)} s after the last sign of work, within --close-wait-threshold`);
    return;
  }

  v.ending = 'open';
  v.closer = null;
  if (ctx.reason === 'end-of-capture') v.confidenceReasons.push('still open when the capture ended');
}

/** An end retransmitting data or a FIN (or probing with keep-alives) that the peer never acknowledged. */
function unresponsiveSender(conn: Connection): EndpointTrack | null {
  for (const e of [conn.client, conn.server]) {
    const p = peerOf(conn, e);
    const outstanding = e.hasNxt && e.hasAckedByPeer ? !seqAtOrAfter(e.ackedByPeer, e.nxt) : e.retransSinceAck > 0;
    if (outstanding && e.retransSinceAck >= UNRESPONSIVE_RETRANSMISSIONS && e.retransRunStart >= 0 && p.lastSeenTime <= e.retransRunStart) return e;
    if (e.keepAlivesUnanswered >= UNRESPONSIVE_KEEPALIVES) return e;
  }
  return null;
}
