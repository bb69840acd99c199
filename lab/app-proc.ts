import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { AppEvent, ClientPlan, ServerPlan } from './apps/plan.js';
import { exited, spawnTracked, stopChild } from './proc.js';

/**
 * One lab application (client or server) running inside its namespace: its JSON-line events as they arrive,
 * waits on them with time limits, and `go` lines for lab-driven synchronisation.
 */

export const APPS_DIR = path.join(__dirname, 'apps');

export class AppProc {
  readonly events: AppEvent[] = [];
  private stderr = '';
  private waiters: Array<() => void> = [];
  private buffered = '';
  private readonly child: ChildProcess;

  constructor(
    readonly app: 'client' | 'server',
    ns: string,
    plan: ClientPlan | ServerPlan,
  ) {
    const script = path.join(APPS_DIR, `${app}.js`);
    this.child = spawnTracked('ip', ['netns', 'exec', ns, process.execPath, script, JSON.stringify(plan)]);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.onStdout(d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.child.on('exit', () => this.notify());
  }

  private onStdout(d: string): void {
    this.buffered += d;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.trim() === '') continue;
      try {
        this.events.push(JSON.parse(line) as AppEvent);
      } catch {
        this.stderr += `unparsable output line: ${line}\n`;
      }
    }
    this.notify();
  }

  private notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Resolves with the first event (past or future) matching `pred`; rejects on timeout or if the app died. */
  waitFor(pred: (e: AppEvent) => boolean, timeoutMs: number, what: string): Promise<AppEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.app}: no ${what} within ${timeoutMs} ms${this.diag()}`)), timeoutMs);
      const check = (): void => {
        const hit = this.events.find(pred);
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit);
        } else if (exited(this.child)) {
          clearTimeout(timer);
          reject(new Error(`${this.app} exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}${this.diag()}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  waitEvent(conn: string | undefined, event: string, timeoutMs: number, extra?: (e: AppEvent) => boolean): Promise<AppEvent> {
    return this.waitFor(
      (e) => e.conn === conn && e.event === event && (extra === undefined || extra(e)),
      timeoutMs,
      `${event}${conn !== undefined ? ` on ${conn}` : ''}`,
    );
  }

  waitMark(name: string, timeoutMs: number): Promise<AppEvent> {
    return this.waitFor((e) => e.event === 'mark' && e['name'] === name, timeoutMs, `mark ${name}`);
  }

  go(name: string): void {
    this.child.stdin!.write(`go ${name}\n`);
  }

  /** The app's own complaints (stderr) and its last events, for failure messages. */
  diag(): string {
    const tail = this.events.slice(-5).map((e) => JSON.stringify(e)).join('\n  ');
    return (this.stderr.trim() ? `\n  stderr: ${this.stderr.trim()}` : '') + (tail ? `\n  last events:\n  ${tail}` : '');
  }

  get failed(): string | null {
    if (!exited(this.child)) return null;
    return this.child.exitCode === 0 ? null : `${this.app} exited with ${this.child.exitCode ?? this.child.signalCode}${this.diag()}`;
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 'SIGTERM', 3_000);
  }
}
