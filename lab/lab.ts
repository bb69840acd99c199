import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppView } from '../src/classify/labels.js';
import { AppProc, APPS_DIR } from './app-proc.js';
import type { AppEvent, ClientPlan, ListenerPlan, ServerPlan } from './apps/plan.js';
import { endpointText } from './apps/plan.js';
import { LINKTYPE_NUMBERS, readCaptureHeader, readIsbEndtime, RunningCapture, ticksToSeconds } from './capture.js';
import type { CaptureEntry, ConnectionEntry, Manifest, ObservedEvent } from './manifest.js';
import { CLIENT_V4, CLIENT_V6, NetnsPair } from './netns.js';
import { killAllNow, run, sleep } from './proc.js';
import type { DriveCtx, ListenerKind } from './recipes.js';
import { allScenarios, CLIENT_SYSCTLS, CONTEXT_SYSCTLS, FIN_TIMEOUT_S, SERVER_SYSCTLS, STUCK_S, type Scenario } from './scenarios.js';
import { checkWire, describeWire, groupConnections, readWithTshark, tupleText, type WireConn } from './wire.js';

/**
 * The scenario lab: runs each scenario in its own pair of network namespaces, captures it, checks that the
 * capture and the applications show what the scenario stands for, and writes the captures and
 * samples/manifest.json. Needs root.
 */

export interface RunLabOptions {
  /** Where captures and manifest.json go (default: samples/ under $TEARDOWN_REPO or the current directory). */
  outDir?: string;
  /** Scenario names to run (default: all). With a subset, the other entries of an existing manifest are kept. */
  only?: readonly string[];
  /** Scenarios running at once (default: all). */
  concurrency?: number;
  log?: (line: string) => void;
}

export class LabError extends Error {
  constructor(
    message: string,
    readonly failures: Array<{ scenario: string; problems: string[] }>,
    /** Where the failed run's captures and manifest were left for inspection. */
    readonly keptDir: string | null,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

export const SCENARIO_NAMES: readonly string[] = allScenarios().map((s) => s.name);

/** Time after the last awaited event before the capture stops, so late ACKs (delayed ACK ≤ 200 ms) are in. */
const SETTLE_MS = 700;
const DEFAULT_SCENARIO_TIMEOUT_MS = 45_000;

const activePairs = new Set<NetnsPair>();

export async function runLab(opts: RunLabOptions = {}): Promise<Manifest> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const outDir = path.resolve(opts.outDir ?? path.join(process.env['TEARDOWN_REPO'] ?? process.cwd(), 'samples'));
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('the lab needs root (network namespaces, nftables, packet capture)', [], null);
  }
  if (!fs.existsSync(path.join(APPS_DIR, 'client.js'))) {
    throw new LabError(`lab apps not built: ${APPS_DIR}/client.js missing (run tsc -p . first)`, [], null);
  }
  const scenarios = selectScenarios(opts.only);
  const generated = await versions();
  const runId = (process.pid % 0xffff).toString(16).padStart(4, '0');
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-lab-'));

  const onSignal = (sig: NodeJS.Signals): void => {
    log(`lab: ${sig}: stopping children and removing namespaces`);
    killAllNow();
    for (const p of activePairs) p.destroyNow();
    fs.rmSync(staging, { recursive: true, force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  const results: Array<{ scenario: Scenario; entry: CaptureEntry | null; problems: string[] }> = [];
  try {
    const limit = Math.max(1, opts.concurrency ?? scenarios.length);
    let nextIdx = 0;
    const worker = async (): Promise<void> => {
      while (nextIdx < scenarios.length) {
        const s = scenarios[nextIdx++]!;
        const t0 = Date.now();
        log(`lab: ${s.name}: running`);
        const r = await runScenario(s, runId, staging).catch((err: unknown) => ({
          entry: null,
          problems: [`scenario failed: ${err instanceof Error ? err.message : String(err)}`],
        }));
        results.push({ scenario: s, ...r });
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        log(r.problems.length === 0 ? `lab: ${s.name}: ok (${secs} s)` : `lab: ${s.name}: FAILED (${secs} s)\n  - ${r.problems.join('\n  - ')}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, scenarios.length) }, () => worker()));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  log(`lab: ${scenarios.length} scenario(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const order = new Map(SCENARIO_NAMES.map((n, i) => [n, i]));
  results.sort((a, b) => order.get(a.scenario.name)! - order.get(b.scenario.name)!);
  const entries = results.flatMap((r) => (r.entry ? [r.entry] : []));
  const failures = results.filter((r) => r.problems.length > 0).map((r) => ({ scenario: r.scenario.name, problems: r.problems }));
  if (failures.length > 0) {
    writeManifest(path.join(staging, 'manifest.json'), { generated, captures: entries });
    throw new LabError(
      `lab: ${failures.length} scenario(s) failed: ${failures.map((f) => f.scenario).join(', ')}; nothing written to ${outDir}; this run's captures are in ${staging}\n` +
        failures.map((f) => `${f.scenario}:\n  - ${f.problems.join('\n  - ')}`).join('\n'),
      failures,
      staging,
    );
  }

  fs.mkdirSync(outDir, { recursive: true });
  for (const e of entries) {
    // A scenario whose capture format changed leaves no stale file of the old format behind.
    for (const ext of ['pcap', 'pcapng']) {
      const old = `${e.scenario}.${ext}`;
      if (old !== e.file) fs.rmSync(path.join(outDir, old), { force: true });
    }
    const dest = path.join(outDir, e.file);
    fs.copyFileSync(path.join(staging, e.file), dest);
    // dumpcap creates its files 0600; the samples are for everyone to read.
    fs.chmodSync(dest, 0o644);
  }
  const manifestPath = path.join(outDir, 'manifest.json');
  const manifest = mergeManifest(manifestPath, { generated, captures: entries });
  writeManifest(manifestPath, manifest);
  fs.rmSync(staging, { recursive: true, force: true });
  return manifest;
}

function selectScenarios(only: readonly string[] | undefined): Scenario[] {
  const all = allScenarios();
  if (only === undefined || only.length === 0) return all;
  const unknown = only.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new LabError(`unknown scenario(s): ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`, [], null);
  }
  return all.filter((s) => only.includes(s.name));
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args).catch((err: unknown) => {
    throw new LabError(`${cmd} is needed by the lab: ${err instanceof Error ? err.message : String(err)}`, [], null);
  });
  return (r.stdout + r.stderr).split('\n').find((l) => l.trim() !== '' && !/^Running as user/.test(l))?.trim() ?? '';
}

async function versions(): Promise<Manifest['generated']> {
  for (const tool of ['ip', 'nft']) await firstLine(tool, ['-V']);
  return {
    kernel: os.release(),
    node: process.version,
    tcpdump: await firstLine('tcpdump', ['--version']),
    dumpcap: await firstLine('dumpcap', ['--version']),
    tshark: await firstLine('tshark', ['--version']),
    date: new Date().toISOString(),
  };
}

function listenerFor(kind: ListenerKind, host: string, port: number): ListenerPlan {
  return { host, port, allowHalfOpen: kind === 'half-open', pauseOnConnect: kind === 'paused' };
}

function buildPlans(s: Scenario): { server: ServerPlan; client: ClientPlan } {
  const listeners = new Map<string, { kind: ListenerKind; plan: ListenerPlan }>();
  const server: ServerPlan = { listeners: [], conns: [] };
  for (const r of s.recipes) {
    const where = endpointText(r.serverIp, r.serverPort);
    const seen = listeners.get(where);
    if (seen !== undefined && seen.kind !== r.listener) {
      throw new Error(`${s.name}: ${where} is needed both as ${seen.kind} and as ${r.listener}`);
    }
    if (seen === undefined) listeners.set(where, { kind: r.listener, plan: listenerFor(r.listener, r.serverIp, r.serverPort) });
    if (r.serverSteps !== null) server.conns.push({ peer: endpointText(r.clientIp, r.clientPort), inc: r.inc, steps: r.serverSteps });
  }
  for (const l of listeners.values()) if (l.kind !== 'none') server.listeners.push(l.plan);
  return { server, client: { conns: s.recipes.map((r) => r.client) } };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not finished within ${ms / 1000} s`)), ms);
    }),
  ]);
}

async function runScenario(s: Scenario, runId: string, staging: string): Promise<{ entry: CaptureEntry | null; problems: string[] }> {
  const pair = new NetnsPair(runId, s.name);
  activePairs.add(pair);
  const file = `${s.name}.${s.capture.format}`;
  const filePath = path.join(staging, file);
  let capture: RunningCapture | null = null;
  let client: AppProc | null = null;
  let server: AppProc | null = null;
  let sysctls: CaptureEntry['sysctls'];
  let stats: Awaited<ReturnType<RunningCapture['stop']>>;
  const problems: string[] = [];
  try {
    await pair.create();
    sysctls = {
      server: await pair.sysctls('server', SERVER_SYSCTLS, CONTEXT_SYSCTLS.server),
      client: await pair.sysctls('client', CLIENT_SYSCTLS, CONTEXT_SYSCTLS.client),
    };
    for (const r of s.recipes) for (const n of r.staticNft) await pair.nftAdd(n.side, n.chain, n.rule, 'from the start');
    const startCapture = async (): Promise<void> => {
      if (capture !== null) throw new Error('capture started twice');
      capture = await RunningCapture.start(pair.client, s.capture, filePath);
    };
    if (s.captureStartedByDrive !== true) await startCapture();
    const plans = buildPlans(s);
    if (plans.server.listeners.length > 0) {
      server = new AppProc('server', pair.server, plans.server);
      await server.waitEvent(undefined, 'ready', 15_000);
    }
    client = new AppProc('client', pair.client, plans.client);
    const ctx: DriveCtx = { pair, client, server, startCapture };
    const waits: Array<Promise<unknown>> = [];
    for (const r of s.recipes) {
      if (r.drive) waits.push(r.drive(ctx));
      for (const d of r.doneWhen) {
        const app = d.app === 'client' ? client : server;
        if (app === null) throw new Error(`${s.name}: ${r.key} waits for the server, but there is none`);
        waits.push(app.waitEvent(r.key, d.event, 60_000));
      }
    }
    await withTimeout(Promise.all(waits), s.timeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS, s.name);
    const cap = capture as RunningCapture | null;
    if (cap === null) throw new Error('the capture was never started');
    const minMs = (s.minCaptureSeconds ?? 0) * 1000;
    const elapsed = Date.now() - cap.startedAtMs;
    if (elapsed < minMs) await sleep(minMs - elapsed);
    await sleep(s.settleMs ?? SETTLE_MS);
    stats = await cap.stop();
    for (const app of [client, server]) {
      const f = app?.failed;
      if (f) problems.push(f);
    }
  } finally {
    await Promise.all([client?.stop(), server?.stop()]);
    const cap = capture as RunningCapture | null;
    if (cap !== null && cap.stoppedAtMs === 0) await cap.stop().catch(() => undefined);
    await pair.destroy();
    activePairs.delete(pair);
  }
  const cap = capture as unknown as RunningCapture;
  return verify(s, file, filePath, cap, stats, sysctls, pair.nftLog, client as unknown as AppProc, server, problems);
}

async function verify(
  s: Scenario,
  file: string,
  filePath: string,
  cap: RunningCapture,
  stats: { captured: number | null; dropped: number | null },
  sysctls: CaptureEntry['sysctls'],
  nftLog: string[],
  client: AppProc,
  server: AppProc | null,
  problems: string[],
): Promise<{ entry: CaptureEntry; problems: string[] }> {
  const header = readCaptureHeader(filePath);
  if (header.format !== s.capture.format) problems.push(`file format is ${header.format}, wanted ${s.capture.format}`);
  if (header.linkType !== LINKTYPE_NUMBERS[s.capture.linkType]) problems.push(`link type ${header.linkType}, wanted ${s.capture.linkType}`);
  if (stats.dropped !== null && stats.dropped > 0) problems.push(`${stats.dropped} packets dropped by the kernel during capture`);
  const wire = await readWithTshark(filePath);
  if (stats.captured !== null && stats.captured !== wire.packets.length) {
    problems.push(`the capture tool counted ${stats.captured} packets, the file holds ${wire.packets.length}`);
  }
  const notes = [...(s.notes ?? [])];
  const recordedEnd = header.format === 'pcapng' ? recordedEndOf(filePath, cap, notes, problems) : null;
  if (recordedEnd !== null) wire.endTs = Math.max(wire.lastTs, recordedEnd);
  const conns = groupConnections(wire, new Set([CLIENT_V4, CLIENT_V6]));
  const used = new Set<WireConn>();
  const entries: ConnectionEntry[] = [];
  const t0 = cap.startedAtMs;
  for (const r of s.recipes) {
    const where = `${r.key} (${r.expect.ending})`;
    const conn = conns.find(
      (c) =>
        c.tuple.clientIp === r.clientIp &&
        c.tuple.clientPort === r.clientPort &&
        c.tuple.serverIp === r.serverIp &&
        c.tuple.serverPort === r.serverPort &&
        c.inc === r.inc,
    );
    const observed = {
      client: observedFor(client.events, r.key, t0, cap.stoppedAtMs),
      server: server === null ? [] : observedFor(server.events, r.key, t0, cap.stoppedAtMs),
    };
    const appView = { client: appViewOf(observed.client, problems, `${where} client`), server: appViewOf(observed.server, problems, `${where} server`) };
    for (const side of ['client', 'server'] as const) {
      const app = side === 'client' ? client : server;
      if (r.expect.appView[side] === 'ETIMEDOUT' && app !== null) {
        const gaveUp = app.events.find((e) => e.conn === r.key && e.event === 'error' && e['code'] === 'ETIMEDOUT');
        // A give-up puts nothing on the wire: only a capture that goes on past it (a later packet, or the stop
        // time the file records) shows that the sender stopped trying rather than the capture stopping first.
        if (gaveUp !== undefined && wire.endTs * 1000 < gaveUp.ts) {
          problems.push(
            `${where}: the ${side} app got ETIMEDOUT at ${((gaveUp.ts - t0) / 1000).toFixed(2)} s, but the capture shows nothing after ` +
              `${(wire.endTs - t0 / 1000).toFixed(2)} s (its last packet${recordedEnd === null ? '; the file records no stop time' : ' or recorded end'}): it cannot show the give-up`,
          );
        }
      }
      if (appView[side] !== r.expect.appView[side]) {
        problems.push(`${where}: the ${side} app saw ${appView[side]}, expected ${r.expect.appView[side]} (events: ${signatures(observed[side]).join(' ')})`);
      }
      const missing = subsequenceMissing(signatures(observed[side]), r.expect[side === 'client' ? 'clientEvents' : 'serverEvents']);
      if (missing !== null) problems.push(`${where}: the ${side} app's events lack "${missing}" in order (events: ${signatures(observed[side]).join(' ')})`);
      for (const e of observed[side]) {
        if (e.event === 'await-timeout' || e.event === 'go-timeout') problems.push(`${where}: the ${side} app got stuck: ${JSON.stringify(e)}`);
      }
    }
    const before = problems.length;
    let wireText = '(not in the capture)';
    let frames = { first: 0, last: 0, count: 0 };
    if (conn === undefined) {
      problems.push(`${where}: not found in the capture`);
    } else {
      used.add(conn);
      for (const p of checkWire(conn, { ending: r.expect.ending, cause: r.expect.cause, closer: r.expect.closer, finTimeoutS: FIN_TIMEOUT_S, stuckS: STUCK_S }, wire)) {
        problems.push(`${where}: ${p}`);
      }
      wireText = describeWire(conn, wire);
      if (problems.length > before) problems.push(`${where}: the capture shows: ${wireText}`);
      frames = { first: conn.packets[0]!.frame, last: conn.packets[conn.packets.length - 1]!.frame, count: conn.packets.length };
    }
    entries.push({
      client: { ip: r.clientIp, port: r.clientPort },
      server: { ip: r.serverIp, port: r.serverPort },
      incarnation: r.inc,
      recipe: r.does,
      ending: r.expect.ending,
      cause: r.expect.cause,
      closer: r.expect.closer,
      appView,
      observed,
      wire: wireText,
      frames,
    });
  }
  for (const c of conns) if (!used.has(c)) problems.push(`unexpected connection in the capture: ${tupleText(c.tuple)} #${c.inc}`);
  const bad = wire.packets.filter((p) => p.badChecksum);
  if (bad.length > 0) {
    const good = wire.packets.filter((p) => !p.badChecksum);
    notes.push(
      `${bad.length} of ${wire.packets.length} frames carry a TCP checksum that does not verify: with checksum offload the stack leaves it for the NIC, and a veth never fills it in` +
        (good.length > 0
          ? `; the ${good.length} that verify (${good.map((p) => '#' + p.frame).join(' ')}) were sent without a full socket (a reset, or the answer of a FIN_WAIT_2/TIME_WAIT mini-socket), for which the kernel computes the checksum itself`
          : '') +
        '.',
    );
  }
  if (wire.packets.some((p) => p.frameLen > 1514)) {
    if (!notes.some((n) => /GSO/.test(n))) notes.push('Some frames are GSO super-frames larger than the MTU (segmentation offload on the veth).');
  }
  const entry: CaptureEntry = {
    file,
    format: header.format,
    linkType: s.capture.linkType,
    scenario: s.name,
    title: s.title,
    ran: s.ran,
    capturedWith: cap.command,
    sysctls,
    nft: nftLog,
    startedAt: new Date(t0).toISOString(),
    captureSeconds: Math.round((cap.stoppedAtMs - t0) / 10) / 100,
    recordedEnd: recordedEnd === null ? null : Math.round((recordedEnd - t0 / 1000) * 1e6) / 1e6,
    packets: wire.packets.length,
    connections: entries,
    notes,
  };
  return { entry, problems };
}

/**
 * The stop time a pcapng file records (seconds since 1970), checked against when the lab really stopped the tool:
 * between the SIGINT and the tool's exit. dumpcap 4.0 writes isb_endtime in microseconds whatever if_tsresol its
 * interface declares (nanoseconds on Linux), so both readings are tried and the one that fits is kept, with a note.
 */
function recordedEndOf(filePath: string, cap: RunningCapture, notes: string[], problems: string[]): number | null {
  const isb = readIsbEndtime(filePath);
  if (isb === null) {
    problems.push('the pcapng file records no stop time (no isb_endtime)');
    return null;
  }
  // Clock granularity and rounding: a few milliseconds either side.
  const lo = cap.stoppedAtMs / 1000 - 0.05;
  const hi = cap.exitedAtMs / 1000 + 0.05;
  const fits = (t: number): boolean => t >= lo && t <= hi;
  const declared = ticksToSeconds(isb.ticks, isb.tsresol, isb.tsoffset);
  if (fits(declared)) return declared;
  const micro = ticksToSeconds(isb.ticks, 6, isb.tsoffset);
  const iso = (t: number): string => new Date(t * 1000).toISOString();
  if (fits(micro)) {
    notes.push(
      `The file records when the capture stopped (isb_endtime ${isb.ticks}), but in microseconds, although the interface declares if_tsresol ${isb.tsresol}: ` +
        `read in the declared units it would be ${iso(declared)}, before the first packet; in microseconds it is ${iso(micro)}, when the lab stopped dumpcap. ` +
        'dumpcap 4.0 writes the ISB times in microseconds whatever the interface resolution, so a reader that honours isb_endtime has to allow for that.',
    );
    return micro;
  }
  problems.push(`isb_endtime ${isb.ticks} (if_tsresol ${isb.tsresol}) is neither ${iso(declared)} nor ${iso(micro)} within the stop window ${iso(lo)} - ${iso(hi)}`);
  return null;
}

/** The connection's events from the start of the app up to the end of the capture (what came later, as the apps are stopped, is not part of the scenario). */
function observedFor(events: readonly AppEvent[], key: string, t0: number, tEnd: number): ObservedEvent[] {
  const out: ObservedEvent[] = [];
  for (const e of events) {
    if (e.conn !== key || e.ts > tEnd) continue;
    const { ts, app: _app, conn: _conn, event, ...rest } = e;
    out.push({ t: Math.round(ts - t0) / 1000, event, ...rest });
  }
  return out;
}

const ERROR_VIEWS = new Set<string>(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED']);

/** The first error code the app got if any, else EOF if it saw end of stream, else none. */
export function appViewOf(events: readonly ObservedEvent[], problems: string[], where: string): AppView {
  let sawEnd = false;
  for (const e of events) {
    const code = e.event === 'error' ? e['code'] : e.event === 'write' && e['result'] !== 'ok' ? e['result'] : undefined;
    if (typeof code === 'string') {
      if (ERROR_VIEWS.has(code)) return code as AppView;
      problems.push(`${where}: unexpected error code ${code}`);
    }
    if (e.event === 'end') sawEnd = true;
  }
  return sawEnd ? 'EOF' : 'none';
}

function signatures(events: readonly ObservedEvent[]): string[] {
  return events.map((e) => {
    if (e.event === 'error') return `error:${String(e['code'])}`;
    if (e.event === 'write') return `write:${String(e['result'])}`;
    if (e.event === 'call') return `call:${String(e['fn'])}`;
    return e.event;
  });
}

/** The first wanted signature that does not appear (in order) in `have`, or null when all do. */
function subsequenceMissing(have: readonly string[], want: readonly string[]): string | null {
  let i = 0;
  for (const w of want) {
    while (i < have.length && have[i] !== w) i++;
    if (i >= have.length) return w;
    i++;
  }
  return null;
}

function mergeManifest(manifestPath: string, fresh: Manifest): Manifest {
  let old: Manifest | null = null;
  try {
    old = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch {
    old = null;
  }
  const names = new Set(fresh.captures.map((c) => c.scenario));
  const kept = (old?.captures ?? []).filter((c) => !names.has(c.scenario) && SCENARIO_NAMES.includes(c.scenario));
  const order = new Map(SCENARIO_NAMES.map((n, i) => [n, i]));
  const captures = [...kept, ...fresh.captures].sort((a, b) => order.get(a.scenario)! - order.get(b.scenario)!);
  return { generated: fresh.generated, captures };
}

function writeManifest(file: string, m: Manifest): void {
  fs.writeFileSync(file, toJson(m, '') + '\n');
}

/** JSON with two-space indentation, except that objects and arrays of plain values stay on one line (events, endpoints). */
export function toJson(v: unknown, indent: string): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const flat = (x: unknown): boolean => x === null || typeof x !== 'object';
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every(flat)) return JSON.stringify(v);
    return `[\n${v.map((x) => inner + toJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  if (entries.every(([, x]) => flat(x) || (Array.isArray(x) && x.length === 0))) return JSON.stringify(v);
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${toJson(x, inner)}`).join(',\n')}\n${indent}}`;
}
