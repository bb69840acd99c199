import { DUMPCAP_VETH, TCPDUMP_ANY_SLL2, TCPDUMP_VETH, type CaptureSpec } from './capture.js';
import {
  clientCloses,
  closeWait,
  dataAfterClose,
  halfClose,
  halfClosedAtEnd,
  lateClose,
  lingerAbortByClient,
  lingerAbortByServer,
  midstream,
  openAtEnd,
  orphanTimeout,
  peerUnresponsive,
  refused,
  serverCloses,
  simultaneousClose,
  unanswered,
  unreadData,
  lostState,
  type Recipe,
} from './recipes.js';

/**
 * The scenarios: each one capture, made in its own pair of namespaces. Most hold one connection; close-wait
 * adds a short second connection near the end, because a pcap file records no stop time and the silence of the
 * stuck connection is only visible against a later packet; mixed interleaves thirty connections. unanswered and
 * peer-unresponsive end in a silent give-up, so they are captured as pcapng, which records when the capture
 * stopped.
 */

export interface Scenario {
  name: string;
  title: string;
  /** What the server and the client did, in plain words. */
  ran: string;
  capture: CaptureSpec;
  recipes: Recipe[];
  /** The capture is started by a recipe's drive (midstream), not before the apps. */
  captureStartedByDrive?: boolean;
  /** The capture lasts at least this long (seconds after its start). */
  minCaptureSeconds?: number;
  /** Time after the last awaited event before the capture stops (default SETTLE_MS in lab.ts). */
  settleMs?: number;
  /** Bounded run time: the scenario fails instead of hanging. */
  timeoutMs?: number;
  notes?: string[];
}

/** Namespaced sysctls, the same for every scenario. */
export const SERVER_SYSCTLS = {
  // The orphaned FIN_WAIT_2 of a closed server socket expires after this (default 60 s).
  'net.ipv4.tcp_fin_timeout': 3,
};
export const CLIENT_SYSCTLS = {
  // An unanswered connect gives up within seconds (default 6 retries, over two minutes).
  'net.ipv4.tcp_syn_retries': 2,
  // Unacknowledged data gives up within seconds (default 15, about 15 minutes).
  'net.ipv4.tcp_retries2': 3,
};
/** Read back (not set) for the record: they shape what the lowered ones do. */
export const CONTEXT_SYSCTLS = {
  server: ['net.ipv4.tcp_orphan_retries'],
  client: ['net.ipv4.tcp_syn_linear_timeouts', 'net.ipv4.tcp_orphan_retries'],
} as const;
export const FIN_TIMEOUT_S = SERVER_SYSCTLS['net.ipv4.tcp_fin_timeout'];
/** The classifier's default close-wait-stuck threshold. */
export const STUCK_S = 5;

/**
 * Settle time for the scenarios that end in a silent give-up. The kernel gives up on data exactly when the doubled
 * retransmission timeout runs out (the timer that would retransmit gives up instead), and on a SYN shortly after
 * the interval doubled would have run out: only a capture that runs on well past that shows the give-up rather
 * than a retransmission still to come. 1.5 s is ample against timers that fire late.
 */
const GIVE_UP_SETTLE_MS = 1500;

const CLOSED_PORT = 9997;
const DROPPED_PORT = 9996;
const HALF_OPEN_PORT = 9998;
const PAUSED_PORT = 9995;

function mixedRecipes(): Recipe[] {
  const r: Recipe[] = [];
  let port = 41001;
  const next = (): number => port++;
  for (const at of [0, 150, 300, 450]) r.push(serverCloses({ port: next(), startAtMs: at }));
  for (const at of [100, 250, 400, 550]) r.push(clientCloses({ port: next(), startAtMs: at }));
  for (const at of [200, 600]) r.push(halfClose({ port: next(), startAtMs: at, serverPort: HALF_OPEN_PORT }));
  for (const at of [350, 700]) r.push(lingerAbortByClient({ port: next(), startAtMs: at }));
  r.push(lingerAbortByServer({ port: next(), startAtMs: 500 }));
  for (const at of [650, 800]) r.push(unreadData({ port: next(), startAtMs: at, serverPort: PAUSED_PORT }));
  for (const at of [750, 900]) r.push(dataAfterClose({ port: next(), startAtMs: at }));
  r.push(refused({ port: next(), startAtMs: 850, serverPort: CLOSED_PORT }));
  r.push(unanswered({ port: next(), startAtMs: 950, serverPort: DROPPED_PORT }));
  r.push(peerUnresponsive({ port: next(), startAtMs: 1000 }));
  r.push(lostState({ port: next(), startAtMs: 1100 }));
  r.push(orphanTimeout({ port: next(), startAtMs: 1200, lateMs: 5000 }));
  r.push(lateClose({ port: next(), startAtMs: 1300, lateMs: 1000 }));
  r.push(closeWait({ port: next(), startAtMs: 1400 }));
  r.push(simultaneousClose({ port: next(), startAtMs: 1500 }));
  r.push(clientCloses({ port: next(), startAtMs: 1600, v6: true }));
  r.push(serverCloses({ port: next(), startAtMs: 1700, v6: true }));
  r.push(halfClosedAtEnd({ port: next(), startAtMs: 7000, serverPort: HALF_OPEN_PORT }));
  r.push(openAtEnd({ port: next(), startAtMs: 7500 }));
  r.push(clientCloses({ port: next(), startAtMs: 9500 }));
  return r;
}

export function allScenarios(): Scenario[] {
  const first = serverCloses({ port: 40001 });
  return [
    {
      name: 'graceful',
      title: 'Server closes, client closes at once',
      ran: 'The client sends a 16 B request; the server reads it, sends a 16 KiB response and closes its socket (write, then close). The client reads to EOF and, since Node ends its own side on EOF (allowHalfOpen false), closes at once.',
      capture: TCPDUMP_VETH,
      recipes: [serverCloses({ port: 40001, respBytes: 16384 })],
      notes: ['The 16 KiB response leaves the server as GSO super-frames larger than the MTU, as in a capture on a real host with segmentation offload.'],
    },
    {
      name: 'half-close',
      title: 'Client half-closes (shutdown), the server answers after it',
      ran: 'The client sends a 16 B request and calls end() (shutdown SHUT_WR). The server (allowHalfOpen) reads the request to EOF, answers 64 B 300 ms later and ends its side; the client reads the answer and EOF.',
      capture: DUMPCAP_VETH,
      recipes: [halfClose({ port: 40001 })],
    },
    {
      name: 'close-wait',
      title: 'Client never closes: CLOSE_WAIT until the capture ends',
      ran: 'The server writes 26 B and closes. The client (allowHalfOpen) reads the data and EOF and then does nothing: its socket stays in CLOSE_WAIT. About 9.5 s later a second, ordinary connection (client closes) marks how long the capture lasted, since a pcap file records no stop time.',
      capture: TCPDUMP_VETH,
      recipes: [closeWait({ port: 40001 }), clientCloses({ port: 40002, startAtMs: 9500 })],
      notes: ["The server's orphan expires silently after tcp_fin_timeout (no packet), so from then on only the client holds state: CLOSE_WAIT with nothing on the wire. The idle timer's timeout event changes nothing."],
      minCaptureSeconds: 10,
    },
    {
      name: 'orphan-timeout',
      title: "Client closes only after the server's orphan timed out",
      ran: `The server writes 26 B and closes; its orphaned socket waits in FIN_WAIT_2 for tcp_fin_timeout (${FIN_TIMEOUT_S} s in its namespace). The client reads EOF and closes only 5 s later: its FIN reaches a server that no longer has the socket.`,
      capture: TCPDUMP_VETH,
      recipes: [orphanTimeout({ port: 40001, lateMs: 5000 })],
      notes: ["Once its FIN is acknowledged the server's orphan lives on as a FIN_WAIT_2 mini-socket for tcp_fin_timeout and then vanishes without a packet. The client's late FIN finds no socket, and the kernel answers with a bare RST (no ACK flag, seq = the FIN's ack). The client had already closed, so its app saw only EOF."],
    },
    {
      name: 'late-close',
      title: 'Client closes late, but before the orphan timeout',
      ran: `The server writes 26 B and closes. The client reads EOF and closes 1 s later, while the server's orphan still waits in FIN_WAIT_2 (tcp_fin_timeout ${FIN_TIMEOUT_S} s): a normal close.`,
      capture: TCPDUMP_VETH,
      recipes: [lateClose({ port: 40001, lateMs: 1000 })],
      notes: ["The client's FIN reaches the server's FIN_WAIT_2 mini-socket, which answers with the last ACK and moves to TIME_WAIT."],
    },
    {
      name: 'linger-abort',
      title: 'SO_LINGER 0 abort with nothing unread',
      ran: 'The client sends 16 B, reads the whole 64 B answer and calls resetAndDestroy() (SO_LINGER {1, 0} then close). The server is still reading.',
      capture: TCPDUMP_VETH,
      recipes: [lingerAbortByClient({ port: 40001 })],
      notes: ['SO_LINGER {1, 0} makes close() send RST+ACK and drop the socket at once (no TIME_WAIT). The server was reading, so its read fails with ECONNRESET.'],
    },
    {
      name: 'unread-data',
      title: 'Close with unread data',
      ran: 'The server accepts the connection paused (pauseOnConnect: nothing is ever read). The client sends 256 B; the server then closes its socket with those bytes still in its receive queue (RFC 2525 §2.17).',
      capture: TCPDUMP_VETH,
      recipes: [unreadData({ port: 40001 })],
      notes: ["tcp_close() finds bytes the application never read and sends RST+ACK instead of FIN (RFC 2525 §2.17). The RST's ack covers the 256 B: the kernel had acknowledged them even though the application never read them."],
    },
    {
      name: 'data-after-close',
      title: 'The client writes after the server closed (twice)',
      ran: 'The server writes 26 B and closes. The client (allowHalfOpen) reads EOF, writes 16 B 200 ms later and 16 B again 300 ms after that.',
      capture: TCPDUMP_VETH,
      recipes: [dataAfterClose({ port: 40001 })],
      notes: ["The server closed with close(), so its socket accepts no more data: the client's first write draws a bare RST (seq = the write's ack). The client app learns nothing from that RST: after EOF Node no longer reads. The RST finds the client in CLOSE_WAIT, where Linux records EPIPE instead of ECONNRESET, so the second write fails with EPIPE (Node ignores SIGPIPE)."],
    },
    {
      name: 'refused',
      title: 'Connection refused',
      ran: `The client connects to port ${CLOSED_PORT} of the server namespace, where nothing listens.`,
      capture: TCPDUMP_VETH,
      recipes: [refused({ port: 40001, serverPort: CLOSED_PORT })],
      notes: ["The server kernel answers the SYN with RST+ACK (ack = the SYN's seq + 1), and connect() fails with ECONNREFUSED."],
    },
    {
      name: 'unanswered',
      title: 'SYN dropped by nftables (unanswered)',
      ran: 'The server listens, but an nft rule in the server namespace drops the SYNs. The client connects and waits; with tcp_syn_retries 2 in its namespace the kernel gives up within seconds. The capture (pcapng) stops 1.5 s after the app got ETIMEDOUT and records that stop time.',
      capture: DUMPCAP_VETH,
      recipes: [unanswered({ port: 40001 })],
      settleMs: GIVE_UP_SETTLE_MS,
      notes: ['The kernel gives up without sending anything: only the stop time the file records (isb_endtime), well after the last SYN, shows that the client stopped trying. It sends more SYNs than tcp_syn_retries suggests: in SYN_SENT the first tcp_syn_linear_timeouts retries (read back in sysctls) come at a fixed 1 s interval, and the kernel gives up once the count tcp_syn_retries + tcp_syn_linear_timeouts is reached or the time that tcp_syn_retries exponential retries would take (1 + 2 + 4 s for 2) has passed, whichever comes first.'],
    },
    {
      name: 'peer-unresponsive',
      title: 'Peer silenced by nftables mid-connection',
      ran: 'After one 16 B exchange an nft rule in the server namespace drops everything from the client. The client keeps writing 64 B every 400 ms; with tcp_retries2 3 in its namespace the kernel gives up after a few seconds of retransmissions. The capture (pcapng) stops 1.5 s after the app got ETIMEDOUT and records that stop time.',
      capture: DUMPCAP_VETH,
      recipes: [peerUnresponsive({ port: 40001 })],
      settleMs: GIVE_UP_SETTLE_MS,
      notes: ["Only the first unacknowledged segment is retransmitted (a tail-loss probe, then RTO backoff); the later writes stay queued in the client. When tcp_retries2 is used up the kernel drops the connection without a packet, and the app's pending read fails with ETIMEDOUT: only the stop time the file records (isb_endtime), later than the next retransmission would have come, shows the give-up."],
    },
    {
      name: 'lost-state',
      title: 'Server loses state without a trace',
      ran: "After one 16 B exchange the server aborts (resetAndDestroy) while an nft rule in its namespace drops its RST, so the client never hears of it. The rule is removed and the client writes 16 B to a server that no longer knows the connection.",
      capture: TCPDUMP_ANY_SLL2,
      recipes: [lostState({ port: 40001 })],
      notes: ["The server's RST+ACK never leaves its namespace (nft output drop), so the client still believes in the connection. Its next write finds no socket on the server: bare RST (seq = the write's ack), and the client's read fails with ECONNRESET."],
    },
    {
      name: 'simultaneous-close',
      title: 'Simultaneous close (FINs cross)',
      ran: 'After one 16 B exchange, nft rules drop incoming FINs in both namespaces and both apps call end() at once. Both FINs are on the wire, each sent before its sender saw the other; once both were dropped the rules go and the retransmitted FINs complete the close.',
      capture: TCPDUMP_VETH,
      recipes: [simultaneousClose({ port: 40001 })],
      notes: ["The first two FINs are both on the wire and neither acknowledges the other. Each was dropped on arrival (nft input), so both ends sit in FIN_WAIT_1 until the retransmitted FINs get through; each end then gets the other's FIN before its own is acknowledged (CLOSING), and both end in TIME_WAIT."],
    },
    {
      name: 'port-reuse',
      title: 'Port reuse on the same 4-tuple',
      ran: "A first connection from client port 40001 ends with the server closing first (the server keeps TIME_WAIT, the client's port is free). 300 ms after it closed, the client connects again from the same port to the same server port; the server's TIME_WAIT accepts the new SYN. The second connection ends with the client closing.",
      capture: TCPDUMP_VETH,
      recipes: [first, clientCloses({ port: 40001, inc: 2, startAfterClose: first.key, startAtMs: 300 })],
      notes: ['The server holds TIME_WAIT for the first connection. The new SYN on the same 4-tuple carries a higher sequence number and timestamp, so Linux lets it replace the TIME_WAIT socket with a new connection.'],
    },
    {
      name: 'midstream',
      title: 'Capture begun mid-connection',
      ran: 'The connection is set up and one 16 B exchange happens before the capture starts; then a second exchange, and the client closes.',
      capture: TCPDUMP_VETH,
      recipes: [midstream({ port: 40001 })],
      notes: ['The handshake and the first exchange happened before the capture started.'],
      captureStartedByDrive: true,
    },
    {
      name: 'ipv6',
      title: 'IPv6: a graceful close and an abort',
      ran: 'Over 2001:db8::/64: one connection where the client closes after the answer, and one where the server aborts with SO_LINGER 0 after answering.',
      capture: DUMPCAP_VETH,
      recipes: [clientCloses({ port: 40001, v6: true }), lingerAbortByServer({ port: 40002, v6: true, startAtMs: 300 })],
    },
    {
      name: 'mixed',
      title: 'Thirty connections of mixed endings, interleaved',
      ran: 'Thirty connections from distinct client ports, started 50-150 ms apart and overlapping: servers closing, clients closing, half-closes, aborts by either side, unread data, data after close, a refused and an unanswered connect, a peer silenced by nftables, lost state, an orphan timeout, a late close, a CLOSE_WAIT that never ends, a simultaneous close, two over IPv6, a half-closed and an open connection still running when the capture stops, and a last ordinary connection near the end.',
      capture: TCPDUMP_VETH,
      recipes: mixedRecipes(),
      minCaptureSeconds: 10,
    },
  ];
}
