/**
 * Capture reading benchmark: how fast packets come out of a capture file, next to `cat`, the pcap-parser npm
 * package, tcpdump, and (when the decoder is built) our reader feeding the decoder.
 *
 *   npx tsc -p . && node dist/bench/decode-bench.js [FILE] [--runs N] [--packets N] [--only a,b] [--variants]
 *   (npm run bench does the same without FILE)
 *
 * Without FILE a synthetic classic pcap of ~2 M Ethernet/IPv4/TCP packets (~200 MB, valid checksums, whole
 * connections) is written once into bench/out/ (gitignored) with our PcapWriter and reused.
 *
 * Every contender runs in a child process of its own, so that each peak RSS (process.resourceUsage().maxRSS,
 * or /usr/bin/time for the native tools) is that contender's alone; the page cache is warmed first, and the
 * median of --runs runs (default 3) is shown. --variants also times our reader on the same packets as pcapng
 * (made with editcap) and as gzip-compressed pcap.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openCapture } from '../src/capture/open-capture.js';
import { PcapFileWriter } from '../src/capture/pcap-writer.js';
import { NEED_MORE } from '../src/capture/reader.js';
import { Decoder } from '../src/decode/decoder.js';
import { DecodeOutcome, newTcpSegment } from '../src/decode/segment.js';

/** The repository root: npm run bench runs from it, wherever the compiled files are. */
const REPO = process.env.TEARDOWN_REPO ?? process.cwd();
const OUT_DIR = path.join(REPO, 'bench', 'out');
const SYNTH_PACKETS = 2_000_000;
/** Bump when the generator changes, so that an old file is not reused. */
const SYNTH_VERSION = 1;

interface ChildResult {
  packets: number;
  bytes: number;
  /** Time to read all packets, measured inside the contender (node) or around the process (native tools). */
  wallMs: number;
  /** Whole child process, start-up included, measured by the parent. */
  processMs: number;
  maxRssKb: number | null;
  extra?: string | undefined;
}

interface Row {
  name: string;
  result: ChildResult | null;
  note: string;
}

// ---------------------------------------------------------------------------------------------------------
// Contenders, each run as `node decode-bench.js --child NAME FILE`.

async function childReader(file: string, withDecoder: boolean): Promise<ChildResult> {
  const t0 = performance.now();
  const reader = await openCapture(file, 0);
  const decoder = withDecoder ? new Decoder() : null;
  const seg = newTcpSegment();
  let packets = 0;
  let bytes = 0;
  let tcp = 0;
  for (;;) {
    const p = reader.next();
    if (p === NEED_MORE) {
      await reader.fill();
      continue;
    }
    if (p === null) break;
    packets++;
    bytes += p.capLen;
    if (decoder !== null && decoder.decode(p, seg) === DecodeOutcome.Tcp) tcp++;
  }
  const wallMs = performance.now() - t0;
  if (reader.error !== null) throw reader.error;
  const extra = withDecoder ? `${tcp} TCP` : reader.info.format;
  return { packets, bytes, wallMs, processMs: NaN, maxRssKb: process.resourceUsage().maxRSS, extra };
}

// The pcap-parser package ships no types; only its event interface is used.
interface PcapParser {
  on(event: 'packet', fn: (p: { header: { capturedLength: number }; data: Buffer }) => void): void;
  on(event: 'end', fn: () => void): void;
  on(event: 'error', fn: (e: Error) => void): void;
}

function childPcapParser(file: string): Promise<ChildResult> {
  const t0 = performance.now();
  const { parse } = createRequire(path.join(REPO, 'package.json'))('pcap-parser') as { parse: (f: string) => PcapParser };
  return new Promise((resolve, reject) => {
    let packets = 0;
    let bytes = 0;
    const parser = parse(file);
    parser.on('packet', (p) => {
      packets++;
      bytes += p.data.length;
    });
    parser.on('error', reject);
    parser.on('end', () =>
      resolve({ packets, bytes, wallMs: performance.now() - t0, processMs: NaN, maxRssKb: process.resourceUsage().maxRSS }),
    );
  });
}

async function runChildMode(name: string, file: string): Promise<void> {
  let r: ChildResult;
  if (name === 'reader') r = await childReader(file, false);
  else if (name === 'reader+decoder') r = await childReader(file, true);
  else if (name === 'pcap-parser') r = await childPcapParser(file);
  else throw new Error(`unknown contender ${name}`);
  process.stdout.write(JSON.stringify(r));
}

// ---------------------------------------------------------------------------------------------------------
// Parent: generate, warm, run each contender, print the table.

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function runNodeChild(name: string, file: string): ChildResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--no-deprecation', __filename, '--child', name, file], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const processMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as ChildResult), processMs };
}

/** Runs a shell command under /usr/bin/time (when present) for its peak RSS; wall time measured here. */
function runNative(cmd: string, args: string[]): ChildResult {
  const timed = fs.existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = timed
    ? spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
    : spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const lines = (r.stderr ?? '').trim().split('\n');
  const rss = timed ? Number(lines[lines.length - 1]) : NaN;
  return { packets: NaN, bytes: NaN, wallMs, processMs: wallMs, maxRssKb: Number.isFinite(rss) ? rss : null };
}

function measure(runs: number, once: () => ChildResult): ChildResult {
  const results: ChildResult[] = [];
  for (let i = 0; i < runs; i++) results.push(once());
  const wallMs = median(results.map((r) => r.wallMs));
  const processMs = median(results.map((r) => r.processMs));
  const rss = results.map((r) => r.maxRssKb).filter((x): x is number => x !== null);
  return { ...results[0]!, wallMs, processMs, maxRssKb: rss.length > 0 ? median(rss) : null };
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const runs = Number(opt('--runs') ?? 3);
  const synthPackets = Number(opt('--packets') ?? SYNTH_PACKETS);
  const only = opt('--only')?.split(',');
  const variants = args.includes('--variants');
  if (variants) args.splice(args.indexOf('--variants'), 1);
  let file = args[0];
  if (file === undefined) {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    file = path.join(OUT_DIR, `synthetic-v${SYNTH_VERSION}-${synthPackets}.pcap`);
    if (!fs.existsSync(file)) {
      const t0 = performance.now();
      process.stderr.write(`writing ${synthPackets} synthetic packets to ${file} …\n`);
      writeSynthetic(file, synthPackets);
      process.stderr.write(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  }
  const size = fs.statSync(file).size;
  const want = (n: string) => only === undefined || only.includes(n);

  // Warm the page cache so that every contender reads from memory, as cat does on its second run.
  spawnSync('sh', ['-c', 'cat "$0" > /dev/null', file]);

  const rows: Row[] = [];
  const attempt = (name: string, note: string, fn: () => ChildResult) => {
    if (!want(name)) return;
    process.stderr.write(`running ${name} …\n`);
    try {
      rows.push({ name, result: measure(runs, fn), note });
    } catch (err) {
      rows.push({ name, result: null, note: `failed: ${String((err as Error).message).split('\n')[0]}` });
    }
  };
  attempt('cat', 'cat FILE > /dev/null (the floor: reading the bytes)', () => runNative('sh', ['-c', 'cat "$0" > /dev/null', file]));
  attempt('reader', 'openCapture + next()/fill(), no decoding', () => runNodeChild('reader', file));
  // The decoder row: src/decode/decoder.ts, one reused TcpSegment, every frame decoded.
  attempt('reader+decoder', 'reader feeding Decoder.decode()', () => runNodeChild('reader+decoder', file));
  attempt('pcap-parser', 'npm pcap-parser 0.2.1, packet events', () => runNodeChild('pcap-parser', file));
  if (hasCommand('tcpdump')) attempt('tcpdump', 'tcpdump -r FILE -w /dev/null', () => runNative('tcpdump', ['-r', file, '-w', '/dev/null']));
  else rows.push({ name: 'tcpdump', result: null, note: 'not installed' });

  if (variants) {
    // The same packets as pcapng (editcap) and gzip-compressed pcap: what the other formats cost.
    const ng = `${file}.pcapng`;
    if (!fs.existsSync(ng) && hasCommand('editcap')) spawnSync('editcap', ['-F', 'pcapng', file, ng], { stdio: 'ignore' });
    const gz = `${file}.gz`;
    if (!fs.existsSync(gz)) spawnSync('sh', ['-c', 'gzip -1 -c "$0" > "$1"', file, gz], { stdio: 'ignore' });
    if (fs.existsSync(ng)) attempt('reader pcapng', `${(fs.statSync(ng).size / 1e6).toFixed(0)} MB pcapng (editcap), µs`, () => runNodeChild('reader', ng));
    if (fs.existsSync(gz)) attempt('reader gzip', `${(fs.statSync(gz).size / 1e6).toFixed(0)} MB gzip -1 of the pcap`, () => runNodeChild('reader', gz));
  }

  printTable(file, size, runs, rows);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, 'last-run.json'), JSON.stringify({ file, size, runs, rows, node: process.version }, null, 2));
}

function printTable(file: string, size: number, runs: number, rows: Row[]): void {
  const byName = new Map(rows.map((r) => [r.name, r.result]));
  const packets = rows.find((r) => r.result !== null && Number.isFinite(r.result.packets))?.result?.packets ?? NaN;
  const cat = byName.get('cat')?.wallMs;
  const reader = byName.get('reader')?.wallMs;
  const head = ['contender', 'wall s', 'process s', 'packets', 'Mpkt/s', 'MB/s', 'peak RSS MB', '× cat', '× reader', 'note'];
  const lines: string[][] = [head];
  for (const r of rows) {
    const x = r.result;
    if (x === null) {
      lines.push([r.name, '-', '-', '-', '-', '-', '-', '-', '-', r.note]);
      continue;
    }
    const n = Number.isFinite(x.packets) ? x.packets : packets;
    lines.push([
      r.name,
      (x.wallMs / 1000).toFixed(3),
      (x.processMs / 1000).toFixed(3),
      Number.isFinite(x.packets) ? String(x.packets) : '(n/a)',
      (n / x.wallMs / 1000).toFixed(2),
      (size / 1e6 / (x.wallMs / 1000)).toFixed(0),
      x.maxRssKb === null ? '-' : (x.maxRssKb / 1024).toFixed(0),
      cat === undefined ? '-' : (x.wallMs / cat).toFixed(1),
      reader === undefined ? '-' : (x.wallMs / reader).toFixed(2),
      x.extra === undefined ? r.note : `${r.note} (${x.extra})`,
    ]);
  }
  const widths = head.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  process.stdout.write(`\n${file}: ${(size / 1e6).toFixed(1)} MB, ${packets} packets; median of ${runs} runs; node ${process.version}\n\n`);
  for (const l of lines) process.stdout.write(`${l.map((c, i) => (i === 0 || i === l.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`);
  process.stdout.write(
    '\nwall s: reading time (inside the process for node contenders, the whole process for native tools);\n' +
      'process s: the whole child process, node start-up included. Rates use wall s; for cat and tcpdump the\n' +
      'packet count is the one the readers found. × = ratio of wall times.\n',
  );
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic capture: whole TCP connections (handshake, small requests and answers, FIN or RST), 256 of them
// interleaved at a time, 192.0.2.0/24 clients to 198.51.100.0/24 servers, valid IPv4 and TCP checksums.

const PAYLOADS = [0, 24, 0, 96, 8, 0, 0, 16, 0, 40];
const ROUNDS = 34; // data packets per connection: with 3 handshake and 3 closing packets, 40 per connection

interface Conn {
  id: number;
  step: number;
  cSeq: number;
  sSeq: number;
}

function writeSynthetic(file: string, packets: number): void {
  const w = new PcapFileWriter(file, { linkType: 1, snapLen: 262_144, bufferSize: 4 << 20 });
  const frame = Buffer.alloc(1600);
  const slots: Conn[] = [];
  let nextId = 0;
  const newConn = (): Conn => {
    const id = nextId++;
    return { id, step: 0, cSeq: (Math.imul(id, 2654435761) >>> 0) % 4294967296, sSeq: (Math.imul(id + 7, 40503) >>> 0) * 3 };
  };
  for (let i = 0; i < 256; i++) slots.push(newConn());
  let sec = 1_700_000_000;
  let ns = 0;
  for (let n = 0; n < packets; n++) {
    const slot = n % slots.length;
    const c = slots[slot]!;
    const len = buildPacket(frame, c);
    ns += 17_000 + ((n * 7919) % 9000);
    if (ns >= 1_000_000_000) {
      sec++;
      ns -= 1_000_000_000;
    }
    w.writePacket(sec, ns, frame.subarray(0, len));
    c.step++;
    if (c.step >= ROUNDS + 6) slots[slot] = newConn();
  }
  w.end();
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/** Writes the connection's next packet into `f`; returns its length. */
function buildPacket(f: Buffer, c: Conn): number {
  const step = c.step;
  const last = ROUNDS + 5;
  const abort = c.id % 10 === 9; // every tenth connection ends with a server RST instead of FINs
  let fromClient: boolean;
  let flags: number;
  let payload = 0;
  let syn = false;
  if (step === 0) [fromClient, flags, syn] = [true, SYN, true];
  else if (step === 1) [fromClient, flags, syn] = [false, SYN | ACK, true];
  else if (step === 2) [fromClient, flags] = [true, ACK];
  else if (step < 3 + ROUNDS) {
    fromClient = step % 2 === 1;
    payload = PAYLOADS[(step + c.id) % PAYLOADS.length]!;
    flags = payload > 0 ? PSH | ACK : ACK;
  } else if (step === 3 + ROUNDS) [fromClient, flags] = abort ? [false, RST | ACK] : [true, FIN | ACK];
  else if (step === 4 + ROUNDS) [fromClient, flags] = abort ? [false, RST] : [false, FIN | ACK];
  else {
    void last;
    [fromClient, flags] = [true, ACK];
  }

  const client = 0xc0000200 | (1 + (c.id % 250)); // 192.0.2.x
  const server = 0xc6336400 | (1 + (c.id % 8)); // 198.51.100.x
  const cPort = 32768 + (c.id % 28000);
  const sPort = 443;
  const optLen = syn ? 20 : 12;
  const tcpLen = 20 + optLen;
  const ipLen = 20 + tcpLen + payload;

  // Ethernet
  f.writeUInt32BE(0x02000000, 0);
  f.writeUInt16BE(fromClient ? 0x0001 : 0x0002, 4);
  f.writeUInt32BE(0x02000000, 6);
  f.writeUInt16BE(fromClient ? 0x0002 : 0x0001, 10);
  f.writeUInt16BE(0x0800, 12);
  // IPv4
  const ip = 14;
  f[ip] = 0x45;
  f[ip + 1] = 0;
  f.writeUInt16BE(ipLen, ip + 2);
  f.writeUInt16BE((c.id * 131 + step) & 0xffff, ip + 4);
  f.writeUInt16BE(0x4000, ip + 6);
  f[ip + 8] = 64;
  f[ip + 9] = 6;
  f.writeUInt16BE(0, ip + 10);
  f.writeUInt32BE((fromClient ? client : server) >>> 0, ip + 12);
  f.writeUInt32BE((fromClient ? server : client) >>> 0, ip + 16);
  f.writeUInt16BE(checksum(f, ip, ip + 20, 0), ip + 10);
  // TCP
  const t = ip + 20;
  f.writeUInt16BE(fromClient ? cPort : sPort, t);
  f.writeUInt16BE(fromClient ? sPort : cPort, t + 2);
  const seq = fromClient ? c.cSeq : c.sSeq;
  const ackNo = fromClient ? c.sSeq : c.cSeq;
  f.writeUInt32BE(seq >>> 0, t + 4);
  f.writeUInt32BE((flags & ACK) !== 0 ? ackNo >>> 0 : 0, t + 8);
  f[t + 12] = (tcpLen / 4) << 4;
  f[t + 13] = flags;
  f.writeUInt16BE(502, t + 14);
  f.writeUInt16BE(0, t + 16);
  f.writeUInt16BE(0, t + 18);
  let o = t + 20;
  if (syn) {
    f.set([2, 4, 0x05, 0xb4, 4, 2], o); // MSS 1460, SACK permitted
    o += 6;
  } else {
    f.set([1, 1], o);
    o += 2;
  }
  f.set([8, 10], o);
  f.writeUInt32BE((c.id * 1000 + step) >>> 0, o + 2);
  f.writeUInt32BE((c.id * 1000 + step - 1) >>> 0, o + 6);
  o += 10;
  if (syn) {
    f.set([1, 3, 3, 7], o); // NOP, window scale 7
    o += 4;
  }
  for (let k = 0; k < payload; k++) f[o + k] = 0x41 + ((k + step) % 26);
  // TCP checksum over the pseudo-header and the segment.
  let pseudo = 0;
  pseudo += f.readUInt16BE(ip + 12) + f.readUInt16BE(ip + 14) + f.readUInt16BE(ip + 16) + f.readUInt16BE(ip + 18);
  pseudo += 6 + tcpLen + payload;
  f.writeUInt16BE(checksum(f, t, t + tcpLen + payload, pseudo), t + 16);

  const adv = payload + (syn ? 1 : 0) + ((flags & FIN) !== 0 ? 1 : 0);
  if (fromClient) c.cSeq = (c.cSeq + adv) >>> 0;
  else c.sSeq = (c.sSeq + adv) >>> 0;
  return 14 + ipLen;
}

/** Internet checksum of b[start, end) plus an initial 16-bit-word sum. */
function checksum(b: Buffer, start: number, end: number, initial: number): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

if (process.argv[2] === '--child') {
  runChildMode(process.argv[3] ?? '', process.argv[4] ?? '').catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
} else {
  main();
}
