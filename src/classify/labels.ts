/**
 * The vocabulary of the classifier. These strings are part of the interface (JSON field `ending`, `cause`,
 * `rstReason`, `appView`): scripts and reports rely on them, so they change only with a version bump.
 */
export const ENDINGS = [
  'graceful-fin',
  'abortive-rst',
  'orphan-timeout-rst',
  'close-wait-stuck',
  'lost-state-rst',
  'refused',
  'unanswered',
  'peer-unresponsive',
  'half-closed',
  'open',
] as const;
export type Ending = (typeof ENDINGS)[number];

/** Endings a reviewer should look at (everything except a clean close and a connection simply still open). */
export const NORMAL_ENDINGS: ReadonlySet<Ending> = new Set<Ending>(['graceful-fin', 'open', 'half-closed']);
export function isAbnormal(e: Ending): boolean {
  return !NORMAL_ENDINGS.has(e);
}

export const CAUSES = [
  /** graceful-fin: the two FINs crossed (both ends in CLOSING, then both in TIME_WAIT). */
  'simultaneous-close',
  /** abortive-rst: RST+ACK from a live socket with nothing unread (SO_LINGER 0, an aborting runtime). */
  'linger-abort',
  /** abortive-rst: RST instead of FIN because received data was never read (RFC 2525 §2.17, Linux tcp_close). */
  'unread-data',
  /** abortive-rst: an end that had closed received data and reset; the peer wrote to a closed connection. */
  'data-after-close',
] as const;
export type Cause = (typeof CAUSES)[number];

/**
 * The nearest Linux reset reason (include/net/rstreason.h, enum sk_rst_reason without the SK_RST_REASON_
 * prefix), so that a verdict can be checked against the kernel's tcp_send_reset tracepoint.
 */
export type RstReason =
  | 'NO_SOCKET'
  | 'TCP_ABORT_ON_CLOSE'
  | 'TCP_ABORT_ON_DATA'
  | 'TCP_ABORT_ON_LINGER'
  | 'TCP_ABORT_ON_MEMORY'
  | 'TCP_KEEPALIVE_TIMEOUT'
  | 'TCP_DISCONNECT_WITH_DATA'
  | 'TCP_STATE'
  | 'TCP_TIMEWAIT_SOCKET'
  | 'TCP_FLAGS'
  | 'INVALID_SYN'
  | 'NOT_SPECIFIED';

/**
 * What an application saw, or will see on its next read or write. One token per side:
 * EOF (read returned 0), ECONNRESET, EPIPE (with SIGPIPE unless ignored), ETIMEDOUT, ECONNREFUSED,
 * or none (nothing yet, or the application had already closed its socket).
 */
export const APP_VIEWS = ['EOF', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'none'] as const;
export type AppView = (typeof APP_VIEWS)[number];

/** Inferred TCP state of one end (RFC 793 names, as Linux `ss` prints them with underscores). */
export const TCP_STATES = [
  'CLOSED',
  'LISTEN',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
] as const;
export type TcpState = (typeof TCP_STATES)[number];

export type Side = 'client' | 'server';
export type Closer = Side | 'both';
export type Handshake = 'complete' | 'syn-only' | 'syn-ack-only' | 'midstream';
export type Confidence = 'high' | 'medium' | 'low';
