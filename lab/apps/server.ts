import * as net from 'node:net';
import { connKey, endpointText, type ServerPlan } from './plan.js';
import { Conn, emit, fatal, listenForGo, parsePlanArg, setAppName } from './runtime.js';

/**
 * The lab's server: listens as planned, finds each accepted connection's steps by the client's address, port
 * and incarnation, runs them and prints what the application saw. Prints `ready` once every listener is bound.
 */

setAppName('server');
const plan = parsePlanArg<ServerPlan>();
listenForGo();

const incarnations = new Map<string, number>();

function onConnection(socket: net.Socket, paused: boolean): void {
  const ip = socket.remoteAddress ?? '?';
  const port = socket.remotePort ?? 0;
  const peer = endpointText(ip, port);
  const inc = (incarnations.get(peer) ?? 0) + 1;
  incarnations.set(peer, inc);
  const key = connKey(ip, port, inc);
  emit(key, 'accept', { local: endpointText(socket.localAddress ?? '?', socket.localPort ?? 0), paused });
  const conn = new Conn(key, socket);
  conn.connected = true;
  // A paused-on-connect socket gets no 'data' listener either: its bytes stay in the kernel's receive queue.
  conn.observe(!paused);
  const connPlan = plan.conns.find((c) => c.peer === peer && c.inc === inc);
  if (connPlan?.idleTimeoutMs !== undefined) socket.setTimeout(connPlan.idleTimeoutMs);
  conn.run(connPlan?.steps ?? []).catch(fatal);
}

let listening = 0;
for (const l of plan.listeners) {
  const server = net.createServer({ allowHalfOpen: l.allowHalfOpen, pauseOnConnect: l.pauseOnConnect }, (s) =>
    onConnection(s, l.pauseOnConnect),
  );
  server.on('error', fatal);
  server.listen({ host: l.host, port: l.port, backlog: 64 }, () => {
    emit(undefined, 'listening', { on: endpointText(l.host, l.port) });
    listening += 1;
    if (listening === plan.listeners.length) emit(undefined, 'ready');
  });
}
if (plan.listeners.length === 0) emit(undefined, 'ready');
