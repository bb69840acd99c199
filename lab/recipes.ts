import type { AppView, Cause, Closer, Ending } from '../src/classify/labels.js';
import type { AppProc } from './app-proc.js';
import { connKey, type ClientConnPlan, type Step } from './apps/plan.js';
import { CLIENT_V4, CLIENT_V6, SERVER_V4, SERVER_V6, type NetnsPair } from './netns.js';
import { sleep } from './proc.js';

/**
 * One connection's recipe: what the client and the server do, what the lab does around it (nft rules, go
 * signals), and what we expect the kernel and the applications to show. Scenarios are lists of recipes, so the
 * same recipe is a capture of its own and one of many connections in the mixed capture.
 */

/** How the server's listener for the recipe must behave. */
export type ListenerKind =
  /** Node's default: allowHalfOpen false (EOF makes Node send its own FIN). */
  | 'default'
  /** allowHalfOpen true: the server reads EOF and keeps writing. */
  | 'half-open'
  /** pauseOnConnect: accepted sockets are never read. */
  | 'paused'
  /** No listener: the port is closed. */
  | 'none';

export interface ExpectedConn {
  ending: Ending;
  cause: Cause | null;
  closer: Closer | null;
  appView: { client: AppView; server: AppView };
  /** Ordered event signatures (`end`, `write:EPIPE`, `error:ECONNRESET`, `call:destroy` …) that must appear in this order. */
  clientEvents: string[];
  serverEvents: string[];
}

export interface DriveCtx {
  pair: NetnsPair;
  client: AppProc;
  server: AppProc | null;
  startCapture(): Promise<void>;
}

export interface Recipe {
  key: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  inc: number;
  listener: ListenerKind;
  /** Words for the manifest: what this connection's apps did. */
  does: string;
  client: ClientConnPlan;
  serverSteps: Step[] | null;
  /** Rules in place before anything starts. */
  staticNft: Array<{ side: 'client' | 'server'; chain: 'input' | 'output'; rule: string }>;
  /** Lab-side actions during the run (nft changes, go signals). */
  drive?: (ctx: DriveCtx) => Promise<void>;
  /** Events that mean the connection is finished; the capture stops only after all of them (plus settling). */
  doneWhen: Array<{ app: 'client' | 'server'; event: string }>;
  expect: ExpectedConn;
}

export interface RecipeOpts {
  port: number;
  serverPort?: number;
  v6?: boolean;
  startAtMs?: number;
  inc?: number;
  startAfterClose?: string;
}

/** The one server port every dedicated scenario uses; the mixed capture adds more listeners. */
export const PORT = 9999;
export const REQ = 16;

function base(o: RecipeOpts, listener: ListenerKind, allowHalfOpen: boolean, clientSteps: Step[]): Omit<Recipe, 'does' | 'serverSteps' | 'expect' | 'doneWhen'> {
  const clientIp = o.v6 ? CLIENT_V6 : CLIENT_V4;
  const serverIp = o.v6 ? SERVER_V6 : SERVER_V4;
  const serverPort = o.serverPort ?? PORT;
  const inc = o.inc ?? 1;
  const client: ClientConnPlan = {
    host: serverIp,
    port: serverPort,
    localAddress: clientIp,
    localPort: o.port,
    inc,
    allowHalfOpen,
    steps: clientSteps,
  };
  if (o.startAtMs !== undefined) client.startAtMs = o.startAtMs;
  if (o.startAfterClose !== undefined) client.startAfterClose = o.startAfterClose;
  return { key: connKey(clientIp, o.port, inc), clientIp, clientPort: o.port, serverIp, serverPort, inc, listener, client, staticNft: [] };
}

function expect(
  ending: Ending,
  cause: Cause | null,
  closer: Closer | null,
  client: AppView,
  server: AppView,
  clientEvents: string[],
  serverEvents: string[],
): ExpectedConn {
  return { ending, cause, closer, appView: { client, server }, clientEvents, serverEvents };
}

const BOTH_CLOSE: Recipe['doneWhen'] = [
  { app: 'client', event: 'close' },
  { app: 'server', event: 'close' },
];
const CLIENT_CLOSE: Recipe['doneWhen'] = [{ app: 'client', event: 'close' }];

/** Request, response, the server closes (write then close(2)); the client's Node ends on EOF: FIN at once. */
export function serverCloses(o: RecipeOpts & { respBytes?: number }): Recipe {
  const resp = o.respBytes ?? 26;
  return {
    ...base(o, 'default', false, [{ op: 'write', bytes: REQ }, { op: 'await', event: 'end' }]),
    does: `client writes ${REQ} B; server reads it, writes ${resp} B and closes (destroy); the client's Node ends its side on EOF (allowHalfOpen false)`,
    serverSteps: [{ op: 'await', event: 'data', bytes: REQ }, { op: 'write', bytes: resp }, { op: 'destroy' }],
    doneWhen: BOTH_CLOSE,
    expect: expect('graceful-fin', null, 'server', 'EOF', 'none', ['write:ok', 'end', 'close'], ['call:destroy', 'close']),
  };
}

/** Request, response, the client closes (destroy); the server's Node ends on EOF. */
export function clientCloses(o: RecipeOpts & { respBytes?: number }): Recipe {
  const resp = o.respBytes ?? 64;
  return {
    ...base(o, 'default', false, [
      { op: 'write', bytes: REQ },
      { op: 'await', event: 'data', bytes: resp },
      { op: 'destroy' },
    ]),
    does: `client writes ${REQ} B, reads the ${resp} B answer and closes (destroy); the server's Node ends its side on EOF`,
    serverSteps: [{ op: 'await', event: 'data', bytes: REQ }, { op: 'write', bytes: resp }],
    doneWhen: BOTH_CLOSE,
    expect: expect('graceful-fin', null, 'client', 'none', 'EOF', ['write:ok', 'call:destroy', 'close'], ['write:ok', 'end', 'close']),
  };
}

/** The client half-closes after its request (end = shutdown SHUT_WR); the server answers after EOF, then ends. */
export function halfClose(o: RecipeOpts): Recipe {
  return {
    ...base(o, 'half-open', false, [{ op: 'write', bytes: REQ }, { op: 'end' }, { op: 'await', event: 'end' }]),
    does: `client writes ${REQ} B and half-closes (end = shutdown(SHUT_WR)); server (allowHalfOpen) reads to EOF, answers 64 B 300 ms later, then ends`,
    serverSteps: [{ op: 'await', event: 'end' }, { op: 'sleep', ms: 300 }, { op: 'write', bytes: 64 }, { op: 'end' }],
    doneWhen: BOTH_CLOSE,
    expect: expect('graceful-fin', null, 'client', 'EOF', 'EOF', ['call:end', 'data', 'end', 'close'], ['end', 'write:ok', 'call:end', 'close']),
  };
}

/** The client aborts with SO_LINGER 0 after reading the whole answer: RST+ACK, nothing unread. */
export function lingerAbortByClient(o: RecipeOpts): Recipe {
  return {
    ...base(o, 'default', false, [{ op: 'write', bytes: REQ }, { op: 'await', event: 'data', bytes: 64 }, { op: 'reset' }]),
    does: 'client writes 16 B, reads the 64 B answer, then resetAndDestroy() (SO_LINGER 0); the server keeps reading',
    serverSteps: [{ op: 'await', event: 'data', bytes: REQ }, { op: 'write', bytes: 64 }],
    doneWhen: BOTH_CLOSE,
    expect: expect('abortive-rst', 'linger-abort', 'client', 'none', 'ECONNRESET', ['call:resetAndDestroy', 'close'], ['write:ok', 'error:ECONNRESET', 'close']),
  };
}

/** The server aborts with SO_LINGER 0 once its answer is acknowledged; the client is still reading. */
export function lingerAbortByServer(o: RecipeOpts): Recipe {
  return {
    ...base(o, 'default', false, [{ op: 'write', bytes: REQ }, { op: 'await', event: 'data', bytes: 64 }]),
    does: 'client writes 16 B and keeps reading; server reads it, answers 64 B, 200 ms later resetAndDestroy() (SO_LINGER 0)',
    serverSteps: [{ op: 'await', event: 'data', bytes: REQ }, { op: 'write', bytes: 64 }, { op: 'sleep', ms: 200 }, { op: 'reset' }],
    doneWhen: BOTH_CLOSE,
    expect: expect('abortive-rst', 'linger-abort', 'server', 'ECONNRESET', 'none', ['data', 'error:ECONNRESET', 'close'], ['call:resetAndDestroy', 'close']),
  };
}

/** The server never reads (paused on connect) and closes with the client's bytes still queued: RST+ACK. */
export function unreadData(o: RecipeOpts): Recipe {
  const b = base(o, 'paused', false, [{ op: 'write', bytes: 256 }, { op: 'mark', name: `sent-${o.port}` }]);
  return {
    ...b,
    does: 'server accepts paused (pauseOnConnect, never reads); client writes 256 B; then the server closes (destroy) with them unread',
    serverSteps: [{ op: 'go', name: `close-${o.port}` }, { op: 'destroy' }],
    drive: async (ctx) => {
      await ctx.client.waitMark(`sent-${o.port}`, 20_000);
      // The write callback only says the bytes are in the client's kernel; give them time to cross.
      await sleep(150);
      ctx.server!.go(`close-${o.port}`);
    },
    doneWhen: BOTH_CLOSE,
    expect: expect('abortive-rst', 'unread-data', 'server', 'ECONNRESET', 'none', ['write:ok', 'error:ECONNRESET', 'close'], ['call:destroy', 'close']),
  };
}

/** The server answers and closes; the client (allowHalfOpen) writes twice after EOF: RST, then EPIPE. */
export function dataAfterClose(o: RecipeOpts): Recipe {
  return {
    ...base(o, 'default', true, [
      { op: 'await', event: 'end' },
      { op: 'sleep', ms: 200 },
      { op: 'write', bytes: REQ },
      { op: 'sleep', ms: 300 },
      { op: 'write', bytes: REQ },
    ]),
    does: 'server writes 26 B and closes (destroy); client (allowHalfOpen) reads EOF, writes 16 B 200 ms later and 16 B again 300 ms after that',
    serverSteps: [{ op: 'write', bytes: 26 }, { op: 'destroy' }],
    doneWhen: CLIENT_CLOSE,
    expect: expect('abortive-rst', 'data-after-close', 'server', 'EPIPE', 'none', ['end', 'write:ok', 'write:EPIPE', 'close'], ['call:destroy', 'close']),
  };
}

function lateClient(lateMs: number): Step[] {
  return [{ op: 'await', event: 'end' }, { op: 'sleep', ms: lateMs }, { op: 'destroy' }];
}

/** The server closes; the client closes only after the server's orphan FIN_WAIT_2 expired: bare RST. */
export function orphanTimeout(o: RecipeOpts & { lateMs: number }): Recipe {
  return {
    ...base(o, 'default', true, lateClient(o.lateMs)),
    does: `server writes 26 B and closes (destroy); client (allowHalfOpen) reads EOF and closes ${o.lateMs / 1000} s later, after the server's tcp_fin_timeout`,
    serverSteps: [{ op: 'write', bytes: 26 }, { op: 'destroy' }],
    doneWhen: BOTH_CLOSE,
    expect: expect('orphan-timeout-rst', null, 'server', 'EOF', 'none', ['end', 'call:destroy', 'close'], ['call:destroy', 'close']),
  };
}

/** As orphanTimeout, but the client closes while the orphan still exists: a normal close. */
export function lateClose(o: RecipeOpts & { lateMs: number }): Recipe {
  return {
    ...base(o, 'default', true, lateClient(o.lateMs)),
    does: `server writes 26 B and closes (destroy); client (allowHalfOpen) reads EOF and closes ${o.lateMs / 1000} s later, before the server's tcp_fin_timeout`,
    serverSteps: [{ op: 'write', bytes: 26 }, { op: 'destroy' }],
    doneWhen: BOTH_CLOSE,
    expect: expect('graceful-fin', null, 'server', 'EOF', 'none', ['end', 'call:destroy', 'close'], ['call:destroy', 'close']),
  };
}

/** The server closes; the client reads EOF and never closes (CLOSE_WAIT until the capture ends). */
export function closeWait(o: RecipeOpts): Recipe {
  const r = base(o, 'default', true, [{ op: 'await', event: 'end' }]);
  r.client.idleTimeoutMs = 3000;
  return {
    ...r,
    does: 'server writes 26 B and closes (destroy); client (allowHalfOpen) reads EOF and never closes (an idle timer only logs a timeout)',
    serverSteps: [{ op: 'write', bytes: 26 }, { op: 'destroy' }],
    doneWhen: [{ app: 'server', event: 'close' }],
    expect: expect('close-wait-stuck', null, 'server', 'EOF', 'none', ['end'], ['call:destroy', 'close']),
  };
}

/** Nothing listens on the port: RST+ACK to the SYN. */
export function refused(o: RecipeOpts): Recipe {
  return {
    ...base(o, 'none', false, []),
    does: `client connects to port ${o.serverPort ?? PORT}, where nothing listens`,
    serverSteps: null,
    doneWhen: CLIENT_CLOSE,
    expect: expect('refused', null, null, 'ECONNREFUSED', 'none', ['error:ECONNREFUSED', 'close'], []),
  };
}

/** The server listens, but nft in its namespace drops the SYNs: the client retries, then ETIMEDOUT. */
export function unanswered(o: RecipeOpts): Recipe {
  const b = base(o, 'default', false, []);
  const port = b.serverPort;
  return {
    ...b,
    does: `server listens on ${port} but nft drops SYNs to it in the server namespace; client connects and waits (tcp_syn_retries lowered)`,
    serverSteps: [],
    staticNft: [{ side: 'server', chain: 'input', rule: `tcp dport ${port} tcp flags syn drop` }],
    doneWhen: CLIENT_CLOSE,
    expect: expect('unanswered', null, null, 'ETIMEDOUT', 'none', ['error:ETIMEDOUT', 'close'], []),
  };
}

function ipMatch(ip: string): string {
  return ip.includes(':') ? `ip6 saddr ${ip}` : `ip saddr ${ip}`;
}

/** After one exchange nft silences the client in the server namespace; the client keeps writing until ETIMEDOUT. */
export function peerUnresponsive(o: RecipeOpts): Recipe {
  const writes: Step[] = [];
  for (let i = 0; i < 15; i++) writes.push({ op: 'write', bytes: 64 }, { op: 'sleep', ms: 400 });
  const b = base(o, 'default', false, [
    { op: 'write', bytes: REQ },
    { op: 'await', event: 'data', bytes: REQ },
    { op: 'mark', name: `quiet-${o.port}` },
    { op: 'go', name: `silenced-${o.port}` },
    ...writes,
  ]);
  return {
    ...b,
    does: 'one 16 B exchange; then nft in the server namespace drops everything from the client; the client writes 64 B every 400 ms (tcp_retries2 lowered) until the kernel gives up',
    serverSteps: [{ op: 'await', event: 'data', bytes: REQ }, { op: 'write', bytes: REQ }],
    drive: async (ctx) => {
      await ctx.client.waitMark(`quiet-${o.port}`, 20_000);
      await ctx.pair.nftAdd('server', 'input', `${ipMatch(b.clientIp)} tcp sport ${o.port} drop`, 'after the exchange');
      ctx.client.go(`silenced-${o.port}`);
    },
    doneWhen: CLIENT_CLOSE,
    expect: expect('peer-unresponsive', null, null, 'ETIMEDOUT', 'none', ['write:ok', 'error:ETIMEDOUT', 'close'], ['write:ok']),
  };
}

/**
 * The server aborts (SO_LINGER 0) while nft drops its RST, so the client never learns; the rule goes, the client
 * writes, and the socket-less server answers with a bare RST.
 */
export function lostState(o: RecipeOpts): Recipe {
  const b = base(o, 'default', false, [
    { op: 'write', bytes: REQ },
    { op: 'await', event: 'data', bytes: REQ },
    { op: 'mark', name: `idle-${o.port}` },
    { op: 'go', name: `write-${o.port}` },
    { op: 'write', bytes: REQ },
  ]);
  return {
    ...b,
    does: "one 16 B exchange; the server then aborts (resetAndDestroy) while nft drops its RST; the rule is removed and the client writes 16 B",
    serverSteps: [{ op: 'await', event: 'data', bytes: REQ }, { op: 'write', bytes: REQ }, { op: 'go', name: `abort-${o.port}` }, { op: 'reset' }],
    drive: async (ctx) => {
      await ctx.client.waitMark(`idle-${o.port}`, 20_000);
      const rule = `tcp sport ${b.serverPort} tcp dport ${o.port} tcp flags rst drop`;
      const h = await ctx.pair.nftAdd('server', 'output', rule, 'before the server aborts');
      ctx.server!.go(`abort-${o.port}`);
      await waitCounter(ctx.pair, 'server', 'output', h, 1, 10_000);
      await ctx.pair.nftDelete('server', 'output', h, 'once the RST was dropped');
      await sleep(300);
      ctx.client.go(`write-${o.port}`);
    },
    doneWhen: BOTH_CLOSE,
    expect: expect('lost-state-rst', null, 'server', 'ECONNRESET', 'none', ['write:ok', 'write:ok', 'error:ECONNRESET', 'close'], ['call:resetAndDestroy', 'close']),
  };
}

/** Both ends end() at once while nft drops FINs arriving in both namespaces; the rules go and the FINs are retransmitted. */
export function simultaneousClose(o: RecipeOpts): Recipe {
  const b = base(o, 'default', false, [
    { op: 'write', bytes: REQ },
    { op: 'await', event: 'data', bytes: REQ },
    { op: 'mark', name: `ready-c-${o.port}` },
    { op: 'go', name: `close-${o.port}` },
    { op: 'end' },
    { op: 'await', event: 'end' },
  ]);
  return {
    ...b,
    does: 'one 16 B exchange; nft drops incoming FINs in both namespaces; both apps end() at once; once both FINs were dropped the rules go and the retransmitted FINs get through',
    serverSteps: [
      { op: 'await', event: 'data', bytes: REQ },
      { op: 'write', bytes: REQ },
      { op: 'mark', name: `ready-s-${o.port}` },
      { op: 'go', name: `close-${o.port}` },
      { op: 'end' },
      { op: 'await', event: 'end' },
    ],
    drive: async (ctx) => {
      await ctx.client.waitMark(`ready-c-${o.port}`, 20_000);
      await ctx.server!.waitMark(`ready-s-${o.port}`, 20_000);
      const hc = await ctx.pair.nftAdd('client', 'input', `tcp sport ${b.serverPort} tcp dport ${o.port} tcp flags fin drop`, 'before both ends close');
      const hs = await ctx.pair.nftAdd('server', 'input', `tcp sport ${o.port} tcp dport ${b.serverPort} tcp flags fin drop`, 'before both ends close');
      ctx.client.go(`close-${o.port}`);
      ctx.server!.go(`close-${o.port}`);
      // Both at once: the sooner the rules go, the fewer retransmission rounds are dropped too (first RTO ≈ 200 ms).
      await Promise.all([
        waitCounter(ctx.pair, 'client', 'input', hc, 1, 10_000),
        waitCounter(ctx.pair, 'server', 'input', hs, 1, 10_000),
      ]);
      await Promise.all([
        ctx.pair.nftDelete('client', 'input', hc, 'once both FINs were dropped'),
        ctx.pair.nftDelete('server', 'input', hs, 'once both FINs were dropped'),
      ]);
    },
    doneWhen: BOTH_CLOSE,
    expect: expect('graceful-fin', 'simultaneous-close', 'both', 'EOF', 'EOF', ['call:end', 'end', 'close'], ['call:end', 'end', 'close']),
  };
}

/** As clientCloses, but the capture starts only after the first exchange (no handshake in the file). */
export function midstream(o: RecipeOpts): Recipe {
  const b = base(o, 'default', false, [
    { op: 'write', bytes: REQ },
    { op: 'await', event: 'data', bytes: REQ },
    { op: 'mark', name: `up-${o.port}` },
    { op: 'go', name: `continue-${o.port}` },
    { op: 'write', bytes: REQ },
    { op: 'await', event: 'data', bytes: 2 * REQ },
    { op: 'destroy' },
  ]);
  return {
    ...b,
    does: 'one 16 B exchange before the capture starts, a second one after; then the client closes (destroy) and the server\'s Node ends on EOF',
    serverSteps: [
      { op: 'await', event: 'data', bytes: REQ },
      { op: 'write', bytes: REQ },
      { op: 'await', event: 'data', bytes: 2 * REQ },
      { op: 'write', bytes: REQ },
    ],
    drive: async (ctx) => {
      await ctx.client.waitMark(`up-${o.port}`, 20_000);
      await ctx.startCapture();
      ctx.client.go(`continue-${o.port}`);
    },
    doneWhen: BOTH_CLOSE,
    expect: expect('graceful-fin', null, 'client', 'none', 'EOF', ['call:destroy', 'close'], ['end', 'close']),
  };
}

/** The client half-closes, the server keeps streaming until the capture stops. */
export function halfClosedAtEnd(o: RecipeOpts): Recipe {
  const writes: Step[] = [];
  for (let i = 0; i < 60; i++) writes.push({ op: 'write', bytes: 32 }, { op: 'sleep', ms: 300 });
  return {
    ...base(o, 'half-open', false, [{ op: 'write', bytes: REQ }, { op: 'end' }]),
    does: 'client writes 16 B and half-closes (end); server (allowHalfOpen) reads to EOF and streams 32 B every 300 ms until the capture stops',
    serverSteps: [{ op: 'await', event: 'end' }, ...writes],
    doneWhen: [{ app: 'server', event: 'end' }],
    expect: expect('half-closed', null, 'client', 'none', 'EOF', ['call:end', 'data'], ['end', 'write:ok']),
  };
}

/** One exchange, then both sides just sit there until the capture stops. */
export function openAtEnd(o: RecipeOpts): Recipe {
  return {
    ...base(o, 'default', false, [{ op: 'write', bytes: REQ }, { op: 'await', event: 'data', bytes: REQ }]),
    does: 'one 16 B exchange, then both apps keep the connection open past the end of the capture',
    serverSteps: [{ op: 'await', event: 'data', bytes: REQ }, { op: 'write', bytes: REQ }],
    doneWhen: [{ app: 'client', event: 'data' }],
    expect: expect('open', null, null, 'none', 'none', ['write:ok', 'data'], ['data', 'write:ok']),
  };
}

async function waitCounter(pair: NetnsPair, side: 'client' | 'server', chain: 'input' | 'output', handle: number, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await pair.nftRulePackets(side, chain, handle)) >= n) return;
    if (Date.now() > deadline) throw new Error(`nft rule ${handle} in the ${side} namespace (${chain}) never matched`);
    await sleep(10);
  }
}
