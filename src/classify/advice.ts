/**
 * Short, plain explanations of every ending, cause and reset reason, for the terminal output, the per-connection
 * explanations and the incident-review reports. docs/taxonomy.md is the long form (wire ladders, kernel functions,
 * sources); these texts must say the same thing in one to three sentences each, so a change to one is a change to
 * both.
 */
import type { Cause, Ending, RstReason } from './labels.js';

export interface EndingAdvice {
  /** A few words for a table cell or a heading. */
  readonly title: string;
  /** What happened between the two ends. */
  readonly meaning: string;
  /** Why the kernel did what the capture shows (function, condition, reset reason). */
  readonly kernel: string;
  /** What each application got back from its system calls. */
  readonly app: string;
  /** What to change or check. */
  readonly fix: string;
}

export interface CauseAdvice {
  readonly meaning: string;
  readonly kernel: string;
  readonly app: string;
  readonly fix: string;
}

export const ADVICE: Record<Ending, EndingAdvice> = {
  'graceful-fin': {
    title: 'Graceful close',
    meaning: 'Both ends sent a FIN and both FINs were acknowledged: the connection ended normally.',
    kernel:
      "close() found nothing unread, so __tcp_close() sent a FIN after any queued data; the peer's tcp_fin() moved " +
      'it to CLOSE_WAIT, and the end that closed first kept TIME_WAIT for 60 s after the last ACK.',
    app:
      'The peer read EOF (read() returned 0), and so did the closer if it was still reading after shutdown(SHUT_WR); ' +
      'no error was reported.',
    fix:
      'Nothing to fix. The end that closed first holds TIME_WAIT; set SO_REUSEADDR on listening sockets so ' +
      'restarts are not blocked.',
  },
  'abortive-rst': {
    title: 'Aborted with RST',
    meaning:
      'An end whose socket was still alive reset the connection instead of closing it with a FIN; unsent data was ' +
      'discarded and there is no TIME_WAIT.',
    kernel:
      'The kernel sent RST+ACK from the live socket (tcp_send_active_reset()) because of unread data or SO_LINGER 0, ' +
      'or answered data that arrived after close() with a bare RST; the cause says which.',
    app:
      'The other end got ECONNRESET on its next read or write, or EPIPE with SIGPIPE if it had already received a ' +
      'FIN; the end that reset saw nothing.',
    fix:
      'See the cause: read to EOF before closing, do not set SO_LINGER 0 unless you mean it, and stop writing ' +
      'once read() returns 0.',
  },
  'orphan-timeout-rst': {
    title: "RST after the closer's orphan expired",
    meaning:
      'The closer sent FIN and the peer acknowledged it but sat in CLOSE_WAIT; when the peer finally closed, the ' +
      "closer's orphaned socket had expired and a socket-less RST answered.",
    kernel:
      'After close() the FIN_WAIT_2 orphan lives for tcp_fin_time() (net.ipv4.tcp_fin_timeout, 60 s by default) and ' +
      "then vanishes without a packet; the peer's late FIN found no socket and got a bare RST (NO_SOCKET).",
    app:
      'The closer saw nothing; the peer had just closed and usually saw nothing either, or EPIPE on its next write ' +
      'if the late segment was data.',
    fix:
      "The bug is the peer's long CLOSE_WAIT: close sockets as soon as read() returns 0. Raising tcp_fin_timeout " +
      'only hides it.',
  },
  'close-wait-stuck': {
    title: 'Peer never closed (CLOSE_WAIT)',
    meaning:
      "One end's FIN was acknowledged, but the other end never closed and stayed silent past the threshold until " +
      'the capture ended.',
    kernel:
      "tcp_fin() put the receiving socket in CLOSE_WAIT and marked EOF; no kernel timer leaves CLOSE_WAIT, only " +
      "the application's close() or shutdown() does.",
    app: 'EOF was waiting for the stuck application (read() would return 0); the end that closed saw nothing.',
    fix:
      'Close the socket when read() returns 0 or fails, on every code path, and drop server-closed connections from ' +
      'pools. Find the leak with `ss -tanp state close-wait`.',
  },
  'lost-state-rst': {
    title: 'RST from an end that lost the connection',
    meaning:
      'An end that never closed answered with a socket-less RST: its host rebooted, or it lost the connection some ' +
      'other way.',
    kernel:
      "No socket matched the segment, so tcp_v4_rcv() answered with a bare RST carrying the segment's ack " +
      '(NO_SOCKET); a restarted listener on the same port answers in the same way.',
    app:
      'The end that still had the connection got ECONNRESET on its next read or write; the end that lost it saw ' +
      'nothing.',
    fix:
      'Validate pooled or idle connections before reuse, drop them before server and NAT idle timeouts, and retry ' +
      'idempotent requests once on a fresh connection. Keep-alives shorter than middlebox timeouts help.',
  },
  refused: {
    title: 'Connection refused',
    meaning: 'The SYN was answered by RST: nothing listened on that address and port, or a firewall rejected it.',
    kernel:
      'With no listening socket, tcp_v4_send_reset() answers the SYN with RST+ACK, sequence 0 and ack = SYN + 1 ' +
      '(NO_SOCKET); tcp_reset() in SYN_SENT then sets ECONNREFUSED.',
    app: 'connect() failed with ECONNREFUSED (WSAECONNREFUSED 10061 on Windows); the server application saw nothing.',
    fix:
      "Check that the service runs and listens on that address and port (`ss -tlnp`), the client's host and port, " +
      'and firewall REJECT rules.',
  },
  unanswered: {
    title: 'SYN never answered',
    meaning:
      'The SYN was retransmitted but nothing came back: the host is down or unreachable, a firewall dropped it, or ' +
      'the listen queue was full.',
    kernel:
      'The client resent the SYN with doubling gaps and gives up after net.ipv4.tcp_syn_retries (6, about 127 s); ' +
      'tcp_write_err() then sets ETIMEDOUT, or EHOSTUNREACH after an ICMP error.',
    app: 'connect() failed with ETIMEDOUT or EHOSTUNREACH, or was still waiting when the capture ended.',
    fix:
      'Check the route, firewall DROP rules and the listen queue (`nstat -az TcpExtListenOverflows`, a larger ' +
      'backlog and somaxconn). Give clients a short connect timeout.',
  },
  'peer-unresponsive': {
    title: 'Peer stopped responding',
    meaning:
      'Data was retransmitted without any acknowledgement until the capture ended or the sender gave up: the peer ' +
      'crashed, lost power or network, or the path failed.',
    kernel:
      'The retransmission timer backs off up to 120 s gaps and gives up after tcp_retries2 (15) or TCP_USER_TIMEOUT ' +
      'without sending an RST; an exhausted keep-alive sends RST+ACK (TCP_KEEPALIVE_TIMEOUT).',
    app:
      "The sender's blocked read or write finally failed with ETIMEDOUT (or EHOSTUNREACH); the silent end saw " +
      'nothing.',
    fix:
      'Use application read and idle timeouts, TCP_USER_TIMEOUT to bound unacknowledged data, and SO_KEEPALIVE with ' +
      'TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT for idle connections. Then check the host and the path.',
  },
  'half-closed': {
    title: 'Half-closed',
    meaning:
      'One end sent a FIN; the other end was still sending, or had been quiet for less than the threshold, when the ' +
      'capture ended.',
    kernel:
      'shutdown(SHUT_WR) sends a FIN but keeps the receive side open, so data from the peer is still accepted; a ' +
      'socket that is not orphaned has no FIN_WAIT_2 timer.',
    app: 'The end that received the FIN reads EOF; the other end can still read.',
    fix:
      'Usually nothing: a half-close is legitimate. It becomes close-wait-stuck if the silence outlasts the ' +
      'threshold.',
  },
  open: {
    title: 'Still open',
    meaning: 'No FIN or RST was seen before the capture ended.',
    kernel:
      'Nothing ended the connection during the capture; a capture cannot tell an idle healthy connection from a ' +
      'dead one.',
    app: 'No error yet on either side.',
    fix: 'Nothing to fix. For long-idle connections, see lost-state-rst and peer-unresponsive.',
  },
};

export const CAUSE_ADVICE: Record<Cause, CauseAdvice> = {
  'simultaneous-close': {
    meaning: 'Both ends closed at about the same time, so the two FINs crossed on the wire.',
    kernel:
      "tcp_fin() in FIN_WAIT_1 acknowledged the peer's FIN and entered CLOSING; the ACK of its own FIN then moved " +
      'each end to TIME_WAIT.',
    app: 'No error on either side; a read still pending on either end returned EOF.',
    fix: 'Nothing to fix; both hosts keep a TIME_WAIT socket for the connection.',
  },
  'unread-data': {
    meaning:
      'The end that closed had received data its application never read, so it sent RST instead of FIN ' +
      '(RFC 2525 §2.17).',
    kernel:
      '__tcp_close() found unread bytes in the receive queue and sent RST+ACK with reason TCP_ABORT_ON_CLOSE ' +
      '(TcpExtTCPAbortOnClose); this check comes before SO_LINGER.',
    app:
      "The peer's next recv or send failed with ECONNRESET (WSAECONNRESET 10054 on Windows), and data the closer " +
      'had not yet sent was lost.',
    fix:
      'Read until EOF or drain the buffer before close(), or do a lingering close as nginx and Squid do: ' +
      'shutdown(SHUT_WR), read and discard for a bounded time, then close().',
  },
  'linger-abort': {
    meaning:
      'A live socket with nothing unread sent RST+ACK: the application closed with SO_LINGER 0, or a runtime or ' +
      'proxy aborted the connection.',
    kernel:
      'close() with SO_LINGER on and a zero timeout calls tcp_disconnect(), which resets with reason TCP_STATE ' +
      "(TCP_DISCONNECT_WITH_DATA in CLOSING or LAST_ACK) and skips TIME_WAIT; the kernel's TCP_ABORT_ON_LINGER is " +
      'the different TCP_LINGER2 < 0 case.',
    app:
      'The peer got ECONNRESET on its next read or write (EPIPE if it was in CLOSE_WAIT); the aborting end saw ' +
      'nothing.',
    fix:
      'Do not set SO_LINGER 0 unless you mean to discard data; to avoid TIME_WAIT let the client close first, or use ' +
      "SO_REUSEADDR and tcp_tw_reuse. Check proxy and pool settings such as HAProxy's option nolinger.",
  },
  'data-after-close': {
    meaning: 'An end that had closed received more data and reset: the peer wrote to a closed connection.',
    kernel:
      'With its receive side shut down, the closed socket answers new data with a bare RST, from ' +
      "tcp_rcv_state_process() (TCP_ABORT_ON_DATA) or from the orphan's FIN_WAIT_2 mini-socket (TCP_TIMEWAIT_SOCKET).",
    app:
      "The writer's first write succeeded and drew the RST; its next write failed with EPIPE and SIGPIPE " +
      '(WSAECONNABORTED 10053 on Windows), while reads on Linux returned the remaining data and then EOF.',
    fix:
      'Close when read() returns 0 and watch the socket with poll or epoll; ignore SIGPIPE or send with MSG_NOSIGNAL ' +
      "so a broken connection is an error, not a crash. Keep a client's idle timeout below the server's.",
  },
};

export const RST_REASON_TEXT: Record<RstReason, string> = {
  NO_SOCKET:
    "No socket matched the segment: nothing listened on the port, or the connection's state was gone (orphan " +
    "expired, host rebooted). Linux answers from tcp_v4_rcv() with a bare RST carrying the segment's ack, or RST+ACK " +
    'with sequence 0 for a SYN.',
  TCP_ABORT_ON_CLOSE:
    'close() found unread data in the receive queue, so __tcp_close() sent RST+ACK instead of FIN ' +
    '(RFC 2525 §2.17, TcpExtTCPAbortOnClose).',
  TCP_ABORT_ON_DATA:
    "Data arrived after the socket's receive side was shut down (closed in FIN_WAIT_1 or FIN_WAIT_2), and " +
    'tcp_rcv_state_process() answered it with a bare RST (TcpExtTCPAbortOnData).',
  TCP_ABORT_ON_LINGER:
    'A socket with TCP_LINGER2 below zero was closed in FIN_WAIT_2, so __tcp_close() reset instead of waiting for ' +
    "the peer's FIN (TcpExtTCPAbortOnLinger). This is not SO_LINGER 0, which resets with TCP_STATE.",
  TCP_ABORT_ON_MEMORY:
    'An orphaned socket was killed because there were too many orphans or TCP memory ran short ' +
    '(tcp_check_oom(), TcpExtTCPAbortOnMemory).',
  TCP_KEEPALIVE_TIMEOUT:
    'Keep-alive probes (or TCP_USER_TIMEOUT) ran out without an answer; tcp_keepalive_timer() sent RST+ACK and the ' +
    'application got ETIMEDOUT.',
  TCP_DISCONNECT_WITH_DATA:
    'tcp_disconnect() (close with SO_LINGER 0, or connect() with AF_UNSPEC) ran in CLOSING or LAST_ACK with data ' +
    'still unsent, so it reset.',
  TCP_STATE:
    'An abort from a state where RFC 9293 requires a reset: tcp_disconnect() for close with SO_LINGER 0 or connect() ' +
    'with AF_UNSPEC, or tcp_abort() (ss -K).',
  TCP_TIMEWAIT_SOCKET:
    "A TIME_WAIT socket, or an orphan's FIN_WAIT_2 mini-socket, refused a segment (new data after close, or a SYN) " +
    'and tcp_v4_rcv() answered with RST.',
  TCP_FLAGS:
    'A listening socket received a segment that is not a SYN (an ACK or data for a connection it does not know, as ' +
    'after a service restart) and tcp_rcv_state_process() answered with a bare RST.',
  INVALID_SYN:
    'tcp_check_req() reset a half-open connection: a bad segment during the handshake, or a full accept queue with ' +
    'net.ipv4.tcp_abort_on_overflow set.',
  NOT_SPECIFIED:
    'No reason recorded: a kernel older than the reset reasons (active resets before 6.12), or a path that sets none.',
};
