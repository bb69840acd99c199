/**
 * The scenario description the lab hands to the two applications as command-line JSON. The apps interpret it
 * step by step, so a scenario says what each socket does and when, and the apps only report what they saw.
 */

/** Connection events an app waits for. `data` waits until the connection has received at least `bytes` in all. */
export type AwaitEvent = 'connect' | 'data' | 'end' | 'close' | 'error';

export type Step =
  /** Write `bytes` bytes of ASCII and wait for the write callback (the data is in the kernel, or the write failed). */
  | { op: 'write'; bytes: number }
  /** socket.end(): shutdown(SHUT_WR) once the queued data is written. */
  | { op: 'end' }
  /** socket.destroy(): close(2) on the descriptor. */
  | { op: 'destroy' }
  /** socket.resetAndDestroy(): SO_LINGER {on, 0} then close(2), so the kernel sends RST instead of FIN. */
  | { op: 'reset' }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'sleep'; ms: number }
  | { op: 'await'; event: AwaitEvent; bytes?: number; timeoutMs?: number }
  /** Wait until the lab writes `go <name>` on standard input (lab-driven synchronisation, e.g. around nft rules). */
  | { op: 'go'; name: string; timeoutMs?: number }
  /** Print a `mark` event the lab waits for. */
  | { op: 'mark'; name: string };

export interface ClientConnPlan {
  host: string;
  port: number;
  localAddress: string;
  localPort: number;
  /** Incarnation of this 4-tuple (port reuse makes 2); part of the connection key in the events. */
  inc: number;
  /** Node's default is false: on EOF Node ends the writable side itself (sends FIN). */
  allowHalfOpen: boolean;
  /** socket.setTimeout(): only logs a `timeout` event, the app does nothing else about it. */
  idleTimeoutMs?: number;
  /** Start this connection so many ms after the app started … */
  startAtMs?: number;
  /** … or after the connection with this key closed (plus startAtMs as a delay). */
  startAfterClose?: string;
  steps: Step[];
}

export interface ClientPlan {
  conns: ClientConnPlan[];
}

export interface ListenerPlan {
  host: string;
  port: number;
  allowHalfOpen: boolean;
  /** Accepted sockets are not read at all (nothing leaves the kernel's receive queue). */
  pauseOnConnect: boolean;
}

export interface ServerConnPlan {
  /** The client's address and port (connection key without the incarnation). */
  peer: string;
  inc: number;
  idleTimeoutMs?: number;
  steps: Step[];
}

export interface ServerPlan {
  listeners: ListenerPlan[];
  conns: ServerConnPlan[];
}

/** The key both apps use for one connection: "192.0.2.1:40001#1", "[2001:db8::1]:40001#1". */
export function connKey(ip: string, port: number, inc: number): string {
  return `${endpointText(ip, port)}#${inc}`;
}

export function endpointText(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** One line an app prints. `ts` is wall-clock milliseconds (fractional) so the lab can align it with the capture. */
export interface AppEvent {
  ts: number;
  app: 'client' | 'server';
  /** Connection key; absent for app-wide events (ready, listening, all-closed, mark without a connection). */
  conn?: string;
  event: string;
  [extra: string]: unknown;
}
