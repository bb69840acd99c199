import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as readline from 'node:readline';
import type { AwaitEvent, Step } from './plan.js';

/**
 * What both lab applications share: one JSON line per event on stdout (pipes are synchronous on Linux, so a
 * line is out before the next syscall), `go <name>` lines from the lab on stdin, and the step runner that drives
 * one socket through its scenario.
 */

let appName: 'client' | 'server' = 'client';

export function setAppName(name: 'client' | 'server'): void {
  appName = name;
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function emit(conn: string | undefined, event: string, extra: Record<string, unknown> = {}): void {
  const line: Record<string, unknown> = { ts: Math.round(nowMs() * 1000) / 1000, app: appName };
  if (conn !== undefined) line['conn'] = conn;
  line['event'] = event;
  Object.assign(line, extra);
  process.stdout.write(JSON.stringify(line) + '\n');
}

const goSeen = new Set<string>();
const goWaiters = new Map<string, Array<() => void>>();

/** Reads `go <name>` lines; stdin closing means the lab went away, so the app leaves too. */
export function listenForGo(): void {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const m = /^go (\S+)$/.exec(line.trim());
    if (m === null) return;
    const name = m[1]!;
    goSeen.add(name);
    const waiters = goWaiters.get(name) ?? [];
    goWaiters.delete(name);
    for (const w of waiters) w();
  });
  rl.on('close', () => process.exit(0));
}

function waitGo(name: string): Promise<void> {
  if (goSeen.has(name)) return Promise.resolve();
  return new Promise((resolve) => {
    const list = goWaiters.get(name) ?? [];
    list.push(resolve);
    goWaiters.set(name, list);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(err);
}

const PATTERN = 'teardown-lab-payload ';

function payload(bytes: number): Buffer {
  return Buffer.from(PATTERN.repeat(Math.ceil(bytes / PATTERN.length)).slice(0, bytes), 'ascii');
}

/** One socket and what has happened to it so far; the step runner waits on these facts. */
export class Conn {
  received = 0;
  connected = false;
  ended = false;
  closed = false;
  errored = false;
  private waiters: Array<() => void> = [];

  constructor(
    readonly key: string,
    readonly socket: net.Socket,
  ) {}

  /** Attach the listeners that record what the application sees. `read` false: no 'data' listener. */
  observe(read: boolean): void {
    const s = this.socket;
    if (read) {
      s.on('data', (chunk: Buffer) => {
        this.received += chunk.length;
        emit(this.key, 'data', { bytes: chunk.length, total: this.received });
        this.notify();
      });
    }
    s.on('end', () => {
      this.ended = true;
      emit(this.key, 'end');
      this.notify();
    });
    s.on('error', (err) => {
      this.errored = true;
      emit(this.key, 'error', { code: errCode(err), message: err.message });
      this.notify();
    });
    s.on('timeout', () => emit(this.key, 'timeout'));
    s.on('close', (hadError: boolean) => {
      this.closed = true;
      emit(this.key, 'close', { hadError });
      this.notify();
    });
  }

  notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve(true);
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  private reached(event: AwaitEvent, bytes: number): boolean {
    switch (event) {
      case 'connect':
        return this.connected;
      case 'data':
        return this.received >= bytes;
      case 'end':
        return this.ended;
      case 'close':
        return this.closed;
      case 'error':
        return this.errored;
    }
  }

  /** Runs the steps in order; stops (and says so) when the socket closed under it or a wait timed out. */
  async run(steps: readonly Step[]): Promise<void> {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const waitsForClose = step.op === 'await' && (step.event === 'close' || step.event === 'error');
      if (this.closed && !waitsForClose && step.op !== 'mark') {
        emit(this.key, 'steps-stopped', { reason: 'socket closed', remaining: steps.length - i });
        return;
      }
      switch (step.op) {
        case 'write': {
          const bytes = step.bytes;
          emit(this.key, 'call', { fn: 'write', bytes });
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              emit(this.key, 'write', { bytes, result: 'pending' });
              resolve();
            }, 10_000);
            this.socket.write(payload(bytes), (err) => {
              clearTimeout(timer);
              emit(this.key, 'write', { bytes, result: err ? errCode(err) : 'ok' });
              resolve();
            });
          });
          break;
        }
        case 'end':
          emit(this.key, 'call', { fn: 'end' });
          this.socket.end();
          break;
        case 'destroy':
          emit(this.key, 'call', { fn: 'destroy' });
          this.socket.destroy();
          break;
        case 'reset':
          emit(this.key, 'call', { fn: 'resetAndDestroy' });
          this.socket.resetAndDestroy();
          break;
        case 'pause':
          emit(this.key, 'call', { fn: 'pause' });
          this.socket.pause();
          break;
        case 'resume':
          emit(this.key, 'call', { fn: 'resume' });
          this.socket.resume();
          break;
        case 'sleep':
          await sleep(step.ms);
          break;
        case 'await': {
          const bytes = step.bytes ?? 1;
          const ok = await this.until(
            () => this.reached(step.event, bytes) || (this.closed && !waitsForClose),
            step.timeoutMs ?? 20_000,
          );
          if (!ok) {
            emit(this.key, 'await-timeout', { what: step.event, bytes });
            return;
          }
          if (!this.reached(step.event, bytes)) {
            emit(this.key, 'steps-stopped', { reason: `closed while awaiting ${step.event}`, remaining: steps.length - i });
            return;
          }
          break;
        }
        case 'go': {
          const timeoutMs = step.timeoutMs ?? 30_000;
          const ok = await Promise.race([waitGo(step.name).then(() => true), sleep(timeoutMs).then(() => false)]);
          if (!ok) {
            emit(this.key, 'go-timeout', { name: step.name });
            return;
          }
          break;
        }
        case 'mark':
          emit(this.key, 'mark', { name: step.name });
          break;
      }
    }
  }
}

export function parsePlanArg<T>(): T {
  const arg = process.argv[2];
  if (arg === undefined) {
    process.stderr.write('usage: node app.js <plan JSON>\n');
    process.exit(2);
  }
  return JSON.parse(arg) as T;
}

export function fatal(err: unknown): never {
  process.stderr.write(`lab app failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
