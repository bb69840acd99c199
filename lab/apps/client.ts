import * as net from 'node:net';
import { connKey, type ClientConnPlan, type ClientPlan } from './plan.js';
import { Conn, emit, fatal, listenForGo, parsePlanArg, setAppName, sleep } from './runtime.js';

/**
 * The lab's client: opens the planned connections (fixed local ports, so 4-tuples are stable), runs each one's
 * steps and prints what the application saw. Prints `all-closed` once every connection is closed and finished.
 */

setAppName('client');
const plan = parsePlanArg<ClientPlan>();
listenForGo();

const closedKeys = new Set<string>();
const closeWaiters = new Map<string, Array<() => void>>();

function whenClosed(key: string): Promise<void> {
  if (closedKeys.has(key)) return Promise.resolve();
  return new Promise((resolve) => {
    const list = closeWaiters.get(key) ?? [];
    list.push(resolve);
    closeWaiters.set(key, list);
  });
}

function markClosed(key: string): void {
  closedKeys.add(key);
  for (const w of closeWaiters.get(key) ?? []) w();
  closeWaiters.delete(key);
}

async function runConn(p: ClientConnPlan): Promise<void> {
  const key = connKey(p.localAddress, p.localPort, p.inc);
  if (p.startAfterClose !== undefined) await whenClosed(p.startAfterClose);
  if (p.startAtMs !== undefined && p.startAtMs > 0) await sleep(p.startAtMs);
  emit(key, 'call', { fn: 'connect', to: `${p.host}:${p.port}` });
  const socket = net.connect({
    host: p.host,
    port: p.port,
    localAddress: p.localAddress,
    localPort: p.localPort,
    allowHalfOpen: p.allowHalfOpen,
  });
  const conn = new Conn(key, socket);
  socket.on('connect', () => {
    conn.connected = true;
    emit(key, 'connect', { local: `${socket.localAddress}:${socket.localPort}` });
    conn.notify();
  });
  conn.observe(true);
  if (p.idleTimeoutMs !== undefined) socket.setTimeout(p.idleTimeoutMs);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // Steps start once connected; a failed connect closes the socket and the steps never run.
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  if (conn.connected) await conn.run(p.steps);
  await closed;
  markClosed(key);
}

Promise.all(plan.conns.map((c) => runConn(c)))
  .then(() => emit(undefined, 'all-closed'))
  .catch(fatal);
