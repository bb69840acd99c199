/**
 * Runs a lab scenario (lab/scenarios.ts) in its own pair of network namespaces, as the lab does, but with
 * `teardown live` capturing in the client namespace instead of tcpdump/dumpcap. Needs root.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CaptureEntry, Manifest } from '../../lab/manifest.js';
import { AppProc } from '../../lab/app-proc.js';
import type { ClientPlan, ListenerPlan, ServerPlan } from '../../lab/apps/plan.js';
import { endpointText } from '../../lab/apps/plan.js';
import { CLIENT_IF, NetnsPair } from '../../lab/netns.js';
import { exited, sleep, spawnTracked, stopChild } from '../../lab/proc.js';
import type { DriveCtx, ListenerKind } from '../../lab/recipes.js';
import { CLIENT_SYSCTLS, SERVER_SYSCTLS, type Scenario } from '../../lab/scenarios.js';
import { loadBinding } from '../../src/capture/live-source.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { SAMPLES } from '../helpers/paths.js';

/** As the lab: time after the last awaited event before the capture stops, so late ACKs are in. */
const SETTLE_MS = 700;

/** The small CLI with the live commands (compiled beside this file). */
export const ENTRY = path.join(__dirname, 'live-entry.js');

export function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '').split(path.delimiter).some((d) => d !== '' && fs.existsSync(path.join(d, tool)));
}

/**
 * Why a live test cannot run here (false when it can): it needs root, the native module, and these tools on PATH
 * (`packages` names their Debian packages for the message).
 */
export function liveSkipReason(tools: string[], packages: string): string | false {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'needs root: network namespaces and packet capture (run the tests as root, as CI does)';
  }
  try {
    loadBinding();
  } catch (err) {
    return `the native module teardown-libpcap cannot be loaded (${err instanceof Error ? err.message : String(err)}): apt-get install libpcap0.8 libpcap-dev, then npm rebuild teardown-libpcap`;
  }
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length > 0) return `needs ${missing.join(', ')} on PATH (Debian: ${packages})`;
  return false;
}

export interface LiveRunOptions {
  /** 'veth': the client's veth; 'any': every interface of the client namespace. */
  iface: 'veth' | 'any';
  format: 'ndjson' | 'table';
  /** Savefile path (-w), or null. */
  write: string | null;
  /** More arguments for `teardown live`. */
  extra: string[];
  /** 'sigint': the test stops it once the scenario is done; 'self': --duration or --count must stop it. */
  stop: 'sigint' | 'self';
}

export interface LiveRun {
  scenario: Scenario;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Complete standard output lines received before the SIGINT was sent (all of them for 'self'). */
  linesBeforeStop: number;
  /** Milliseconds from "capturing" to the exit of `teardown live`. */
  ranMs: number;
  /** Problems of the scenario itself (an app failed, a wait timed out), not of teardown. */
  problems: string[];
}

function listenerFor(kind: ListenerKind, host: string, port: number): ListenerPlan {
  return { host, port, allowHalfOpen: kind === 'half-open', pauseOnConnect: kind === 'paused' };
}

/** The applications' plans for a scenario (as the lab's buildPlans). */
function plansOf(s: Scenario): { server: ServerPlan; client: ClientPlan } {
  const listeners = new Map<string, ListenerPlan>();
  const server: ServerPlan = { listeners: [], conns: [] };
  for (const r of s.recipes) {
    const where = endpointText(r.serverIp, r.serverPort);
    if (!listeners.has(where) && r.listener !== 'none') listeners.set(where, listenerFor(r.listener, r.serverIp, r.serverPort));
    if (r.serverSteps !== null) server.conns.push({ peer: endpointText(r.clientIp, r.clientPort), inc: r.inc, steps: r.serverSteps });
  }
  server.listeners = [...listeners.values()];
  return { server, client: { conns: s.recipes.map((r) => r.client) } };
}

/**
 * The labels the scenario's connections must get: those of its capture in samples/manifest.json, which the lab
 * recorded from a run of the same scenario on the real kernel (the wire pattern checked with tshark, the errors
 * the applications saw checked against the app views), not the recipe's expectations.
 */
export function expectedEntry(s: Scenario): CaptureEntry {
  const manifest = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'manifest.json'), 'utf8')) as Manifest;
  const entry = manifest.captures.find((c) => c.scenario === s.name);
  if (entry === undefined) throw new Error(`samples/manifest.json has no capture of the scenario ${s.name}`);
  return { ...entry, file: `${s.name} (live)` };
}

export function ndjsonRecords(stdout: string): ConnectionRecord[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ConnectionRecord);
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`teardown live did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function runScenarioLive(s: Scenario, runId: string, o: LiveRunOptions): Promise<LiveRun> {
  const pair = new NetnsPair(runId, s.name);
  let live: ChildProcess | null = null;
  let client: AppProc | null = null;
  let server: AppProc | null = null;
  const problems: string[] = [];
  let stdout = '';
  let stderr = '';
  let linesBeforeStop = 0;
  let startedAt = 0;
  let exitedAt = 0;
  try {
    await pair.create();
    await pair.sysctls('server', SERVER_SYSCTLS);
    await pair.sysctls('client', CLIENT_SYSCTLS);
    for (const r of s.recipes) for (const n of r.staticNft) await pair.nftAdd(n.side, n.chain, n.rule, 'from the start');

    const args = ['live', '-i', o.iface === 'any' ? 'any' : CLIENT_IF, '-F', o.format, ...(o.write !== null ? ['-w', o.write] : []), ...o.extra];
    const child = spawnTracked('ip', ['netns', 'exec', pair.client, process.execPath, ENTRY, ...args]);
    live = child;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', () => (exitedAt = Date.now()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`teardown live did not start capturing: ${stderr}`)), 15_000);
      const check = (): void => {
        if (/capturing on /.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stderr!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`teardown live exited (${code}) before capturing: ${stderr}`));
      });
      check();
    });
    startedAt = Date.now();

    const plans = plansOf(s);
    if (plans.server.listeners.length > 0) {
      server = new AppProc('server', pair.server, plans.server);
      await server.waitEvent(undefined, 'ready', 15_000);
    }
    client = new AppProc('client', pair.client, plans.client);
    const ctx: DriveCtx = { pair, client, server, startCapture: () => Promise.reject(new Error('the capture runs already')) };
    const waits: Array<Promise<unknown>> = [];
    for (const r of s.recipes) {
      if (r.drive) waits.push(r.drive(ctx));
      for (const d of r.doneWhen) {
        const app = d.app === 'client' ? client : server;
        if (app === null) throw new Error(`${s.name}: ${r.key} waits for the server, but there is none`);
        waits.push(app.waitEvent(r.key, d.event, 40_000));
      }
    }
    await Promise.all(waits);
    const minMs = (s.minCaptureSeconds ?? 0) * 1000;
    if (Date.now() - startedAt < minMs) await sleep(minMs - (Date.now() - startedAt));
    await sleep(s.settleMs ?? SETTLE_MS);
    for (const app of [client, server]) if (app?.failed) problems.push(app.failed);

    if (o.stop === 'sigint') {
      // The records printed so far: ndjson lines are flushed one by one, so a reader sees them at once.
      linesBeforeStop = stdout.split('\n').length - 1;
      child.kill('SIGINT');
    }
    await waitExit(child, 30_000);
    if (o.stop === 'self') linesBeforeStop = stdout.split('\n').length - 1;
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  } finally {
    await Promise.all([client?.stop(), server?.stop()]);
    if (live !== null && !exited(live)) await stopChild(live, 'SIGKILL', 1000);
    await pair.destroy();
  }
  return {
    scenario: s,
    code: live?.exitCode ?? null,
    signal: live?.signalCode ?? null,
    stdout,
    stderr,
    linesBeforeStop,
    ranMs: exitedAt > 0 && startedAt > 0 ? exitedAt - startedAt : -1,
    problems,
  };
}
