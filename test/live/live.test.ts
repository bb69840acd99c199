/**
 * `teardown live` on real interfaces: lab scenarios run in network namespaces while `teardown live` captures in
 * the client namespace. The live records must carry the labels the scenarios stand for (the recipes' expected
 * endings, causes, closers and what the applications saw), and the savefile analysed offline must give the same
 * records. Also: alerts as they happen, -i any (Linux cooked capture), SIGINT, --duration, --count, and the
 * errors (unknown interface, bad filter, no permission). Needs root, the native module teardown-libpcap, ip and nft.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APPS_DIR } from '../../lab/app-proc.js';
import { CLIENT_V4, CLIENT_V6, NetnsPair, SERVER_V4 } from '../../lab/netns.js';
import { allScenarios, type Scenario } from '../../lab/scenarios.js';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { rotatedName } from '../../src/live/savefile.js';
import { compareWithManifest } from '../helpers/manifest-check.js';
import { ENTRY, expectedEntry, liveSkipReason, ndjsonRecords, onPath, runScenarioLive, type LiveRun, type LiveRunOptions } from './live-lab.js';

function whySkip(): string | false {
  const why = liveSkipReason(['ip', 'nft'], 'iproute2 nftables');
  if (why !== false) return why;
  if (!fs.existsSync(path.join(APPS_DIR, 'client.js'))) return `lab apps not built (${APPS_DIR}/client.js)`;
  return false;
}

const skip = whySkip();
const TSHARK = onPath('tshark');
const SCENARIOS = new Map(allScenarios().map((s) => [s.name, s]));
const scenario = (name: string): Scenario => {
  const s = SCENARIOS.get(name);
  if (s === undefined) throw new Error(`no lab scenario ${name}`);
  return s;
};
const byId = (a: ConnectionRecord, b: ConnectionRecord): number => a.id - b.id;
const runBase = `lv${(process.pid % 0xfff).toString(16)}`;

interface JsonAlert {
  alert: string;
  client?: { ip: string; port: number };
  service?: { ip: string; port: number };
  side?: string;
}

function alertsOf(stderr: string): JsonAlert[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonAlert);
}

async function offlineRecords(files: string[]): Promise<{ records: ConnectionRecord[]; frames: number }> {
  const records: ConnectionRecord[] = [];
  const res = await analyzeCaptures(files, DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void records.push(r) });
  assert.deepEqual(res.errors, [], 'the savefile reads back without damage');
  return { records: records.sort(byId), frames: res.summary.packetsRead };
}

/** Files of a (possibly rotated) savefile, in rotation order. */
function savedFiles(base: string): string[] {
  const out: string[] = [];
  for (let i = 0; fs.existsSync(rotatedName(base, i)); i++) out.push(rotatedName(base, i));
  return out;
}

function tsharkFrames(file: string): number {
  const r = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `tshark cannot read ${file}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

/** "N packets captured" from the closing line of teardown live. */
function capturedCount(stderr: string): number {
  const m = /teardown: ([\d,]+) packets? captured/.exec(stderr);
  assert.ok(m, `no closing count in: ${stderr}`);
  return Number(m[1]!.replace(/,/g, ''));
}

function runEntry(args: string[], opts: { uid?: number; gid?: number; ns?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const cmd = opts.ns === undefined ? process.execPath : 'ip';
  const full = opts.ns === undefined ? [ENTRY, ...args] : ['netns', 'exec', opts.ns, process.execPath, ENTRY, ...args];
  const r = spawnSync(cmd, full, { encoding: 'utf8', timeout: 30_000, ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}) });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('teardown live on lab scenarios in network namespaces', { skip }, () => {
  const dir = skip ? '' : fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-live-'));
  const runs = new Map<string, LiveRun>();
  const files = {
    mixed: path.join(dir, 'mixed.pcap'),
    orphan: path.join(dir, 'orphan.pcap'),
    linger: path.join(dir, 'linger.pcap'),
    refused: path.join(dir, 'refused.pcap'),
    count: path.join(dir, 'count.pcap'),
  };
  /** Alerts the mixed run should raise: its RSTs on 192.0.2.2:9999 come within a couple of seconds. */
  const RST_BURST = ['--rst-burst', '4', '--rst-window', '5'];

  before(
    async () => {
      const plan: Array<[string, string, Scenario, LiveRunOptions]> = [
        ['mixed', `${runBase}a`, scenario('mixed'), { iface: 'veth', format: 'ndjson', write: files.mixed, extra: ['-C', '5k', ...RST_BURST], stop: 'sigint' }],
        ['orphan', `${runBase}b`, scenario('orphan-timeout'), { iface: 'veth', format: 'ndjson', write: files.orphan, extra: ['-f', 'tcp'], stop: 'sigint' }],
        ['linger', `${runBase}c`, scenario('linger-abort'), { iface: 'any', format: 'ndjson', write: files.linger, extra: ['-f', 'tcp'], stop: 'sigint' }],
        ['refused', `${runBase}d`, scenario('refused'), { iface: 'veth', format: 'ndjson', write: files.refused, extra: ['-f', 'tcp', '--duration', '4'], stop: 'self' }],
        ['count', `${runBase}e`, scenario('refused'), { iface: 'veth', format: 'table', write: files.count, extra: ['-f', 'tcp', '-c', '2'], stop: 'self' }],
      ];
      const done = await Promise.all(plan.map(async ([key, id, s, o]) => [key, await runScenarioLive(s, id, o)] as const));
      for (const [key, r] of done) runs.set(key, r);
    },
    { timeout: 90_000 },
  );

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (key: string): LiveRun => {
    const r = runs.get(key);
    assert.ok(r, `no run ${key}`);
    assert.deepEqual(r.problems, [], `the scenario itself failed:\n${r.stderr}`);
    return r;
  };

  for (const [key, name] of [
    ['mixed', 'mixed'],
    ['orphan', 'orphan-timeout'],
    ['linger', 'linger-abort'],
    ['refused', 'refused'],
  ] as const) {
    it(`${name}: the live records carry the scenario's expected labels, and the savefile gives the same records`, async (t) => {
      const r = get(key);
      t.diagnostic(`teardown live ran ${(r.ranMs / 1000).toFixed(1)} s`);
      assert.equal(r.signal, null, r.stderr);
      assert.equal(r.code, 0, r.stderr);
      const live = ndjsonRecords(r.stdout).sort(byId);
      assert.deepEqual(compareWithManifest(expectedEntry(r.scenario), live), []);
      const saved = savedFiles(files[key]);
      assert.ok(saved.length >= 1);
      const offline = await offlineRecords(saved);
      assert.equal(offline.frames, capturedCount(r.stderr), 'every captured frame was saved');
      assert.deepEqual(offline.records, live);
      if (TSHARK) assert.equal(saved.reduce((n, f) => n + tsharkFrames(f), 0), offline.frames);
      // The closing tables (standard error with ndjson).
      assert.match(r.stderr, /│ ending +│ client/);
    });
  }

  it('mixed: records stream out while capturing; alerts for the stuck CLOSE_WAIT and the RST burst; rotation', (t) => {
    const r = get('mixed');
    t.diagnostic(`${r.linesBeforeStop} records printed before the SIGINT`);
    assert.ok(r.linesBeforeStop > 0, 'no record was printed before the stop');
    const alerts = alertsOf(r.stderr);
    const stuck = r.scenario.recipes.find((x) => x.expect.ending === 'close-wait-stuck');
    assert.ok(stuck);
    assert.ok(
      alerts.some((a) => a.alert === 'close-wait' && a.client?.port === stuck.clientPort && a.side === 'client'),
      `no close-wait alert for port ${stuck.clientPort}:\n${r.stderr}`,
    );
    assert.ok(
      alerts.some((a) => a.alert === 'rst-burst' && a.service?.ip === SERVER_V4 && a.service.port === 9999),
      `no RST burst alert for ${SERVER_V4}:9999:\n${r.stderr}`,
    );
    assert.ok(savedFiles(files.mixed).length >= 3, `-C 5k made ${savedFiles(files.mixed).length} files`);
  });

  it('-i any captures in Linux cooked mode', () => {
    get('linger');
    const head = fs.readFileSync(files.linger).subarray(0, 24);
    assert.equal(head.readUInt32LE(0), 0xa1b2c3d4, 'a little-endian microsecond pcap');
    assert.equal(head.readUInt32LE(20), 113, 'LINKTYPE_LINUX_SLL');
  });

  it('--duration stops it by itself with status 0', () => {
    const r = get('refused');
    assert.equal(r.code, 0);
    // From the moment the test saw "capturing on" (a little after the timer started) to the exit: not before the
    // duration. That it stopped by itself is the status 0 above (the harness would have killed it otherwise).
    assert.ok(r.ranMs >= 3000, `ran ${r.ranMs} ms for --duration 4`);
  });

  it('--count stops it after N packets; the table format prints a line per connection and the closing tables', async () => {
    const r = get('count');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(capturedCount(r.stderr), 2);
    const offline = await offlineRecords([files.count]);
    assert.equal(offline.frames, 2);
    assert.equal(offline.records.length, 1);
    assert.equal(offline.records[0]!.ending, 'refused');
    const refusedLine = r.stdout.split('\n').find((l) => /#1  .* refused/.test(l));
    assert.ok(refusedLine, r.stdout);
    assert.ok(refusedLine.includes(CLIENT_V4));
    assert.match(r.stdout, /│ ending +│ client/);
    assert.match(r.stdout, /│ refused +│/);
  });
});

describe('teardown live: errors', { skip }, () => {
  it('an unknown interface: status 2, and the message lists the interfaces', () => {
    const r = runEntry(['live', '-i', 'td-no-such0']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /no interface named "td-no-such0"/);
    assert.match(r.stderr, /Available: .*\blo \(127\.0\.0\.1/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it("a bad filter: status 2, with libpcap's own message", () => {
    const r = runEntry(['live', '-i', 'lo', '-f', 'tcp port', '--duration', '1']);
    assert.equal(r.status, 2, r.stderr);
    // libpcap's words: "can't parse filter expression: syntax error" (older versions: "syntax error").
    assert.match(r.stderr, /bad capture filter "tcp port": .*syntax error/);
  });

  it('no permission: status 3, and the message says how to get it (root or CAP_NET_RAW)', (t) => {
    // As an unprivileged user; the compiled files and node_modules must be readable by it.
    const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'capture', 'live-source.js'))}).loadBinding()`], {
      encoding: 'utf8',
      uid: 65534,
      gid: 65534,
      timeout: 15_000,
    });
    if (probe.status !== 0) {
      t.skip(`an unprivileged user cannot load the compiled files here: ${probe.stderr.split('\n')[0]}`);
      return;
    }
    const r = runEntry(['live', '-i', 'lo', '--duration', '1'], { uid: 65534 });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /no permission to capture on lo/);
    assert.match(r.stderr, /CAP_NET_RAW/);
    assert.match(r.stderr, /setcap/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('interfaces: lists the devices of a namespace with their addresses', async () => {
    const pair = new NetnsPair(`${runBase}f`, 'ifaces');
    try {
      await pair.create();
      const r = runEntry(['interfaces', '-F', 'json'], { ns: pair.client });
      assert.equal(r.status, 0, r.stderr);
      const list = JSON.parse(r.stdout) as Array<{ name: string; addresses: Array<{ addr: string; prefix: number | null }> }>;
      const veth = list.find((i) => i.name === 'veth-c');
      assert.ok(veth, r.stdout);
      assert.ok(veth.addresses.some((a) => a.addr === CLIENT_V4 && a.prefix === 24), r.stdout);
      assert.ok(veth.addresses.some((a) => a.addr === CLIENT_V6 && a.prefix === 64), r.stdout);
      assert.ok(list.some((i) => i.name === 'any'));
      const table = runEntry(['interfaces'], { ns: pair.client });
      assert.match(table.stdout, new RegExp(`veth-c +│ ${CLIENT_V4.replace(/\./g, '\\.')}/24`));
    } finally {
      await pair.destroy();
    }
  });
});
