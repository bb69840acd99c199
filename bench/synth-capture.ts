/**
 * A deterministic generator of synthetic captures for the benchmark: Ethernet/IPv4/TCP connections with a
 * handshake, a request and a response, then one of the endings users meet (graceful FIN, an abortive RST, an
 * orphan-timeout RST after a long CLOSE_WAIT, or a CLOSE_WAIT that lasts), many of them interleaved in time.
 *
 *   node dist/bench/synth-capture.js --out FILE [--connections 200000] [--duration 600] [--seed 1]
 *        [--mix graceful=70,rst=10,orphan=10,closewait=10]
 *
 * The same options always give the same bytes (a seeded PRNG, no clock). Connections start at an even rate over
 * the duration; those parked in a long CLOSE_WAIT end minutes later, so a capture ten times longer (ten times the
 * connections over ten times the duration) holds about as many connections open at once.
 */
import * as fs from 'node:fs';
import { PcapWriter } from '../src/capture/pcap-writer.js';

export interface SynthOptions {
  out: string;
  connections: number;
  /** Seconds of capture over which the connections start (the rate is connections / duration). */
  duration: number;
  seed: number;
  mix: Record<Ending, number>;
}

type Ending = 'graceful' | 'rst' | 'orphan' | 'closewait';

export const DEFAULT_SYNTH: Omit<SynthOptions, 'out'> = {
  connections: 200_000,
  duration: 600,
  seed: 1,
  mix: { graceful: 70, rst: 10, orphan: 10, closewait: 10 },
};

/** mulberry32: small, fast, good enough for traffic shapes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;

/** One step of a connection's script: who sends, flags, payload bytes, and the pause before it (seconds). */
interface Step {
  fromServer: boolean;
  flags: number;
  len: number;
  delay: number;
  /** A socket-less reply RST: seq is the ack of the peer's last segment, no ACK flag. */
  bare?: boolean;
}

interface Conn {
  id: number;
  client: number;
  server: number;
  cport: number;
  sport: number;
  cseq: number;
  sseq: number;
  steps: Step[];
  next: number;
  t: number;
}

function script(kind: Ending, rnd: () => number): Step[] {
  const rtt = 0.0002 + rnd() * 0.002;
  const req = 20 + Math.floor(rnd() * 100);
  const resp = 40 + Math.floor(rnd() * 360);
  const s: Step[] = [
    { fromServer: false, flags: SYN, len: 0, delay: 0 },
    { fromServer: true, flags: SYN | ACK, len: 0, delay: rtt },
    { fromServer: false, flags: ACK, len: 0, delay: rtt },
    { fromServer: false, flags: PSH | ACK, len: req, delay: 0.0001 },
    { fromServer: true, flags: ACK, len: 0, delay: rtt },
    { fromServer: true, flags: PSH | ACK, len: resp, delay: 0.001 + rnd() * 0.02 },
    { fromServer: false, flags: ACK, len: 0, delay: rtt },
  ];
  switch (kind) {
    case 'graceful':
      s.push(
        { fromServer: false, flags: FIN | ACK, len: 0, delay: 0.001 + rnd() * 0.05 },
        { fromServer: true, flags: FIN | ACK, len: 0, delay: rtt },
        { fromServer: false, flags: ACK, len: 0, delay: rtt },
      );
      break;
    case 'rst':
      s.push({ fromServer: true, flags: RST | ACK, len: 0, delay: 0.001 + rnd() * 0.05 });
      break;
    case 'orphan':
      // The server closes; the client sits in CLOSE_WAIT past tcp_fin_timeout, then its FIN meets a dead orphan.
      s.push(
        { fromServer: true, flags: FIN | ACK, len: 0, delay: 0.001 },
        { fromServer: false, flags: ACK, len: 0, delay: rtt },
        { fromServer: false, flags: FIN | ACK, len: 0, delay: 65 + rnd() * 60 },
        { fromServer: true, flags: RST, len: 0, delay: rtt, bare: true },
      );
      break;
    case 'closewait':
      // A long CLOSE_WAIT: keep-alive-free silence for minutes; those still waiting at the end stay stuck.
      s.push(
        { fromServer: true, flags: FIN | ACK, len: 0, delay: 0.001 },
        { fromServer: false, flags: ACK, len: 0, delay: rtt },
        { fromServer: false, flags: FIN | ACK, len: 0, delay: 120 + rnd() * 480 },
        { fromServer: true, flags: RST, len: 0, delay: rtt, bare: true },
      );
      break;
  }
  return s;
}

/** A binary min-heap of connections by their next event time. */
class Heap {
  private a: Conn[] = [];
  get size(): number {
    return this.a.length;
  }
  push(c: Conn): void {
    const a = this.a;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.t <= c.t) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = c;
  }
  pop(): Conn | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const m = r < a.length && a[r]!.t < a[l]!.t ? r : l;
        if (a[m]!.t >= last.t) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
  peekTime(): number {
    return this.a.length > 0 ? this.a[0]!.t : Infinity;
  }
}

function ipChecksum(b: Buffer, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Writes the capture; returns packets and connections written. */
export function synthesize(o: SynthOptions): { packets: number; connections: number; bytes: number } {
  const rnd = prng(o.seed);
  const kinds = Object.keys(o.mix) as Ending[];
  const total = kinds.reduce((s, k) => s + o.mix[k], 0);
  const pick = (): Ending => {
    let x = rnd() * total;
    for (const k of kinds) {
      x -= o.mix[k];
      if (x < 0) return k;
    }
    return kinds[kinds.length - 1]!;
  };
  const fd = fs.openSync(o.out, 'w');
  const w = new PcapWriter({ sink: (chunk) => fs.writeSync(fd, chunk) });
  const frame = Buffer.alloc(14 + 20 + 20 + 1500);
  // Ethernet: fixed MACs, IPv4.
  Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]).copy(frame, 0);
  const heap = new Heap();
  const t0 = 1_700_000_000;
  // Starts are spread evenly (with jitter) over the duration: the rate, and so the number of connections open at
  // once, is the same for a capture ten times longer with ten times the connections.
  const startGap = o.duration / o.connections;
  let started = 0;
  let nextStart = 0;
  let packets = 0;
  let bytes = 0;
  const servers = 64;
  while (started < o.connections || heap.size > 0) {
    if (started < o.connections && nextStart <= heap.peekTime()) {
      const id = started++;
      const kind = pick();
      const c: Conn = {
        id,
        // 192.0.2.0/24 clients, 198.51.100.0/24 servers (documentation ranges).
        // A 4-tuple is never reused (250 clients × 64000 ports), so connections stay apart however long they last.
        client: ((192 << 24) | (0 << 16) | (2 << 8) | (1 + (Math.floor(id / 64000) % 250))) >>> 0,
        server: ((198 << 24) | (51 << 16) | (100 << 8) | (1 + (id % servers))) >>> 0,
        cport: 1024 + (id % 64000),
        sport: [80, 443, 5432, 6379][id % 4]!,
        cseq: Math.floor(rnd() * 0xffffffff) >>> 0,
        sseq: Math.floor(rnd() * 0xffffffff) >>> 0,
        steps: script(kind, rnd),
        next: 0,
        t: nextStart,
      };
      heap.push(c);
      nextStart += startGap * (0.5 + rnd());
      continue;
    }
    const c = heap.pop()!;
    // The capture stops shortly after the last connection starts: whoever is still in CLOSE_WAIT then is stuck.
    if (c.t > o.duration + 10) continue;
    const st = c.steps[c.next++]!;
    bytes += emit(w, frame, c, st, t0 + c.t);
    packets++;
    if (c.next < c.steps.length) {
      c.t += c.steps[c.next]!.delay;
      heap.push(c);
    }
  }
  w.end();
  fs.closeSync(fd);
  return { packets, connections: started, bytes };
}

function emit(w: PcapWriter, f: Buffer, c: Conn, st: Step, t: number): number {
  const ipLen = 20 + 20 + st.len;
  const o = 14;
  f[o] = 0x45;
  f[o + 1] = 0;
  f.writeUInt16BE(ipLen, o + 2);
  f.writeUInt16BE(c.next & 0xffff, o + 4);
  f.writeUInt16BE(0x4000, o + 6);
  f[o + 8] = 64;
  f[o + 9] = 6;
  f.writeUInt16BE(0, o + 10);
  const src = st.fromServer ? c.server : c.client;
  const dst = st.fromServer ? c.client : c.server;
  f.writeUInt32BE(src, o + 12);
  f.writeUInt32BE(dst, o + 16);
  f.writeUInt16BE(ipChecksum(f, o, o + 20), o + 10);
  const tcp = o + 20;
  const sport = st.fromServer ? c.sport : c.cport;
  const dport = st.fromServer ? c.cport : c.sport;
  // A socket-less reply RST carries as seq the ack the peer last sent, which is this side's next seq here.
  const seq = st.fromServer ? c.sseq : c.cseq;
  const ack = st.fromServer ? c.cseq : c.sseq;
  const flags = st.bare ? RST : st.flags;
  f.writeUInt16BE(sport, tcp);
  f.writeUInt16BE(dport, tcp + 2);
  f.writeUInt32BE(seq >>> 0, tcp + 4);
  f.writeUInt32BE((flags & ACK) !== 0 ? ack >>> 0 : 0, tcp + 8);
  f[tcp + 12] = 5 << 4;
  f[tcp + 13] = flags;
  f.writeUInt16BE((flags & RST) !== 0 && (flags & ACK) === 0 ? 0 : 64240, tcp + 14);
  f.writeUInt32BE(0, tcp + 16);
  f.fill(0x61, tcp + 20, tcp + 20 + st.len);
  // TCP checksum over the pseudo-header and segment, so decoders see valid checksums.
  let sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + 20 + st.len;
  for (let i = tcp; i < tcp + 20 + st.len; i += 2) sum += (f[i]! << 8) | (i + 1 < tcp + 20 + st.len ? f[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f.writeUInt16BE(~sum & 0xffff, tcp + 16);
  const advance = st.len + ((flags & (SYN | FIN)) !== 0 ? 1 : 0);
  if ((flags & RST) === 0) {
    if (st.fromServer) c.sseq = (c.sseq + advance) >>> 0;
    else c.cseq = (c.cseq + advance) >>> 0;
  }
  const sec = Math.floor(t);
  const ns = Math.round((t - sec) * 1e6) * 1000;
  const len = 14 + ipLen;
  w.writePacket(sec, ns, f.subarray(0, len));
  return len + 16;
}

function parseArgs(argv: string[]): SynthOptions {
  const o: SynthOptions = { out: '', ...DEFAULT_SYNTH, mix: { ...DEFAULT_SYNTH.mix } };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--out' && v) (o.out = v), i++;
    else if (a === '--connections' && v) (o.connections = Number(v)), i++;
    else if (a === '--duration' && v) (o.duration = Number(v)), i++;
    else if (a === '--seed' && v) (o.seed = Number(v)), i++;
    else if (a === '--mix' && v) {
      for (const part of v.split(',')) {
        const [k, n] = part.split('=');
        if (k && k in o.mix) o.mix[k as Ending] = Number(n);
        else throw new Error(`unknown ending in --mix: ${k} (graceful, rst, orphan, closewait)`);
      }
      i++;
    } else throw new Error(`unknown option ${a}`);
  }
  if (!o.out) throw new Error('--out FILE is required');
  return o;
}

if (require.main === module) {
  try {
    const o = parseArgs(process.argv.slice(2));
    const r = synthesize(o);
    process.stdout.write(`${o.out}: ${r.packets} packets, ${r.connections} connections, ${(r.bytes / 1e6).toFixed(1)} MB\n`);
  } catch (err) {
    process.stderr.write(`synth-capture: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
