/**
 * The benchmark: generates synthetic captures (bench/synth-capture.ts) and runs, side by side on the same file in
 * the same run, teardown (the whole process, `teardown analyze FILE` with its summary tables), tcptrace -n,
 * tshark -q -z conv,tcp, pcap-parser iterating the file, tcpdump -r FILE -w /dev/null and cat. Prints wall time,
 * packets per second and peak memory (GNU time's maximum resident set size), with teardown's ratios to the peers.
 * Then the memory-flatness check: a capture ten times longer in time (same rate, so the same connections open at
 * once) must peak at most 1.2 × higher.
 *
 *   npm run bench                  # 2 M packets / 200 k connections, and the 10 × capture
 *   node dist/bench/compare.js --connections 50000 --duration 150 --runs 1 --no-long
 *
 * A benchmark, not a test: machines here are noisy, so every number is the median of --runs rounds (default 5;
 * each round runs every program once, tshark too), and only the ratios measured in one run mean anything.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { synthesize, DEFAULT_SYNTH } from './synth-capture.js';

export interface Measure {
  wall: number;
  rssMB: number;
  ok: boolean;
  note?: string;
}

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'bench', 'out');
const TIME = '/usr/bin/time';

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * The environment every program runs in: the Node running the benchmark first on PATH, so that the teardown
 * launcher's `node` is the one pcap-parser's row runs on (not whichever another PATH entry offers).
 */
const ENV = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };

/** Runs a command under GNU time; stdout discarded. */
function timed(cmd: string, args: string[]): Measure {
  const r = spawnSync(TIME, ['-f', '%e %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, env: ENV });
  const last = (r.stderr ?? '').trim().split('\n').pop() ?? '';
  const m = /^([\d.]+) (\d+)$/.exec(last);
  if (!m) return { wall: NaN, rssMB: NaN, ok: false, note: last.slice(0, 120) };
  return { wall: Number(m[1]), rssMB: Number(m[2]) / 1024, ok: r.status === 0, note: r.status === 0 ? undefined : `exit ${r.status}` };
}


/**
 * The median wall time of the runs (of an even count, the mean of the middle two: taking the upper one would
 * favour whichever program is divided by), with the highest peak among them.
 */
export function medianOf(ms: Measure[]): Measure {
  const sorted = [...ms].sort((a, b) => a.wall - b.wall);
  const hi = sorted[Math.floor(sorted.length / 2)]!;
  const lo = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { ...hi, wall: (lo.wall + hi.wall) / 2, rssMB: Math.max(...ms.map((m) => m.rssMB)), ok: ms.every((m) => m.ok) };
}

function capture(connections: number, duration: number): { file: string; packets: number } {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `synth-${connections}-${duration}s.pcap`);
  const meta = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(meta)) return { file, packets: JSON.parse(fs.readFileSync(meta, 'utf8')).packets };
  process.stderr.write(`generating ${file} …\n`);
  const r = synthesize({ ...DEFAULT_SYNTH, out: file, connections, duration });
  fs.writeFileSync(meta, JSON.stringify(r));
  return { file, packets: r.packets };
}

function main(): void {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const connections = opt('--connections', DEFAULT_SYNTH.connections);
  const duration = opt('--duration', DEFAULT_SYNTH.duration);
  const runs = opt('--runs', 5);
  const long = !argv.includes('--no-long');
  if (!fs.existsSync(TIME)) {
    process.stderr.write('bench: GNU time (/usr/bin/time) is needed for peak memory: apt-get install time\n');
    process.exit(2);
  }
  const node = process.execPath;
  // The installed command (package.json "bin"), as a user runs `teardown analyze FILE`: the launcher, then Node.
  const cli = path.join(ROOT, 'bin', 'teardown');
  const iterate = path.join(ROOT, 'dist', 'bench', 'pcap-parser-iterate.js');

  const { file, packets } = capture(connections, duration);
  const size = fs.statSync(file).size;
  // Every program once per round, the rounds one after another: the host's load drifts over a minute, and
  // interleaving gives each program the same share of quiet and busy moments (measured one after the other, a
  // drift showed as a 0.43 to 0.58 swing in one ratio).
  const programs: { name: string; cmd: string; args: string[]; runs: number }[] = [
    { name: 'cat', cmd: 'cat', args: [file], runs },
    ...(have('tcpdump') ? [{ name: 'tcpdump -r -w /dev/null', cmd: 'tcpdump', args: ['-r', file, '-w', '/dev/null'], runs }] : []),
    { name: 'pcap-parser (iterate)', cmd: node, args: [iterate, file], runs },
    { name: 'teardown analyze', cmd: cli, args: ['analyze', file], runs },
    // The same run on one thread: what the worker thread brings.
    { name: 'teardown analyze --jobs 1', cmd: cli, args: ['analyze', '--jobs', '1', file], runs },
    ...(have('tcptrace') ? [{ name: 'tcptrace -n', cmd: 'tcptrace', args: ['-n', file], runs }] : []),
    ...(have('tshark') ? [{ name: 'tshark -q -z conv,tcp', cmd: 'tshark', args: ['-q', '-z', 'conv,tcp', '-r', file], runs }] : []),
  ];
  const measured = new Map<string, Measure[]>(programs.map((p) => [p.name, []]));
  for (let round = 0; round < runs; round++) {
    for (const p of programs) if (round < p.runs) measured.get(p.name)!.push(timed(p.cmd, p.args));
  }
  const rows: [string, Measure][] = programs.map((p) => [p.name, medianOf(measured.get(p.name)!)]);
  const td = medianOf(measured.get('teardown analyze')!);
  const tcptrace = measured.has('tcptrace -n') ? medianOf(measured.get('tcptrace -n')!) : null;
  const tshark = measured.has('tshark -q -z conv,tcp') ? medianOf(measured.get('tshark -q -z conv,tcp')!) : null;
  /** teardown's time over a peer's, round by round (the spread says how much the host moved). */
  const paired = (peer: string, digits: number): string => {
    const a = measured.get('teardown analyze')!;
    const b = measured.get(peer) ?? [];
    return b.map((m, i) => (a[i]!.wall / m.wall).toFixed(digits)).join(', ');
  };

  const lines: string[] = [];
  lines.push(`capture: ${path.relative(ROOT, file)}: ${packets.toLocaleString('en')} packets, ${connections.toLocaleString('en')} connections, ${(size / 1e6).toFixed(0)} MB, ${duration} s; median of ${runs} interleaved round(s)`);
  lines.push('');
  lines.push('| program | wall s | packets/s | peak MB | teardown ÷ it (time) |');
  lines.push('|---|---:|---:|---:|---:|');
  for (const [name, m] of rows) {
    const pps = m.wall > 0 ? Math.round(packets / m.wall).toLocaleString('en') : '—';
    const ratio = name === 'teardown analyze' ? '' : (td.wall / m.wall).toFixed(2);
    lines.push(`| ${name} | ${m.wall.toFixed(2)} | ${pps} | ${m.rssMB.toFixed(0)} | ${ratio}${m.ok ? '' : ` (${m.note ?? 'failed'})`} |`);
  }
  lines.push('');
  const goals: string[] = [];
  if (tcptrace) goals.push(`teardown/tcptrace time ${(td.wall / tcptrace.wall).toFixed(2)} (goal ≤ 0.5; by round ${paired('tcptrace -n', 2)})`);
  if (tshark) goals.push(`teardown/tshark time ${(td.wall / tshark.wall).toFixed(3)} (goal ≤ 0.1; by round ${paired('tshark -q -z conv,tcp', 3)})`);
  goals.push(`teardown peak ${td.rssMB.toFixed(0)} MB (goal ≤ 150)`);
  if (long) {
    const l = capture(connections * 10, duration * 10);
    const longRuns: Measure[] = [];
    for (let i = 0; i < Math.max(1, Math.min(runs, 2)); i++) longRuns.push(timed(cli, ['analyze', l.file]));
    const tdLong = medianOf(longRuns);
    lines.push(`10 × longer: ${path.relative(ROOT, l.file)}: ${l.packets.toLocaleString('en')} packets: teardown ${tdLong.wall.toFixed(2)} s, peak ${tdLong.rssMB.toFixed(0)} MB`);
    goals.push(`peak 10 × / 1 × ${(tdLong.rssMB / td.rssMB).toFixed(2)} (goal ≤ 1.2)`);
  }
  lines.push(goals.join('; '));
  process.stdout.write(`${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(OUT, 'compare-last.md'), `${lines.join('\n')}\n`);
}

// Run as a script only: the tests import medianOf.
if (require.main === module) main();
