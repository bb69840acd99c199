/**
 * Builds hand-made TCP conversations between a client and a server as TcpSegments, with each side's sequence
 * numbers kept the way a real stack keeps them, and runs them through the connection table and the classifier.
 * Every packet is explicit in the test, so the expected label follows from the sequence the test wrote.
 */
import { buildRecord } from '../../src/classify/build-record.js';
import { DEFAULT_CLASSIFIER_OPTIONS, type ClassifierOptions } from '../../src/classify/classifier.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { ConnectionTable } from '../../src/conn/connection-table.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, newTcpSegment, type TcpSegment } from '../../src/decode/segment.js';

export type Who = 'c' | 's';

interface Side {
  addr: number[];
  port: number;
  isn: number;
  /** Next sequence number this side sends. */
  nxt: number;
  /** Next sequence number this side expects (what it acknowledges). */
  rcvNxt: number;
  window: number;
  lastData: { seq: number; len: number } | null;
}

export interface SegOpts {
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  len?: number;
  /** Do not advance the sender's sequence space (retransmissions, probes). */
  noAdvance?: boolean;
  /** Do not let the receiver's rcvNxt move (a segment lost after the vantage point). */
  lost?: boolean;
  wscale?: number;
  mss?: number;
}

function v4(text: string): number[] {
  const p = text.split('.').map(Number);
  return [((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0, 0, 0, 0];
}

function v6(text: string): number[] {
  // Enough for the documentation prefix forms used in tests (e.g. 2001:db8::1).
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((groups[i]! << 16) | groups[i + 1]!) >>> 0);
  return words;
}

export class Conversation {
  readonly segments: TcpSegment[] = [];
  private readonly c: Side;
  private readonly s: Side;
  private readonly version: 4 | 6;
  /** Current time in nanoseconds since the epoch (kept as a bigint-free pair below). */
  private sec: number;
  private ns = 0;
  private frame = 0;
  step = 0.001;

  constructor(opts: { client?: string; server?: string; clientIsn?: number; serverIsn?: number; t0?: number } = {}) {
    const client = opts.client ?? '192.0.2.1:40000';
    const server = opts.server ?? '192.0.2.2:80';
    const parse = (ep: string) => {
      const i = ep.lastIndexOf(':');
      const host = ep.slice(0, i).replace(/^\[|\]$/g, '');
      return { host, port: Number(ep.slice(i + 1)) };
    };
    const ce = parse(client);
    const se = parse(server);
    this.version = ce.host.includes(':') ? 6 : 4;
    const addr = this.version === 4 ? v4 : v6;
    const cIsn = opts.clientIsn ?? 1_000_000;
    const sIsn = opts.serverIsn ?? 5_000_000;
    this.c = { addr: addr(ce.host), port: ce.port, isn: cIsn, nxt: cIsn, rcvNxt: 0, window: 64240, lastData: null };
    this.s = { addr: addr(se.host), port: se.port, isn: sIsn, nxt: sIsn, rcvNxt: 0, window: 65160, lastData: null };
    this.sec = opts.t0 ?? 1_700_000_000;
  }

  private side(w: Who): Side {
    return w === 'c' ? this.c : this.s;
  }

  /** Lets time pass (seconds). */
  wait(seconds: number): this {
    const total = this.ns + Math.round(seconds * 1e9);
    this.sec += Math.floor(total / 1e9);
    this.ns = total % 1e9;
    return this;
  }

  /** Frame number the next segment will get. */
  get nextFrame(): number {
    return this.frame + 1;
  }

  /** Emits one segment from `w` with the given flags and payload length; returns its frame number. */
  send(w: Who, flags: number, o: SegOpts = {}): number {
    this.wait(this.step);
    const snd = this.side(w);
    const rcv = this.side(w === 'c' ? 's' : 'c');
    const len = o.len ?? 0;
    const seg = newTcpSegment();
    seg.frame = ++this.frame;
    seg.tsSec = this.sec;
    seg.tsNs = this.ns;
    seg.tsDigits = 9;
    seg.ipVersion = this.version;
    seg.srcAddr.set(snd.addr);
    seg.dstAddr.set(rcv.addr);
    seg.srcPort = snd.port;
    seg.dstPort = rcv.port;
    seg.seq = (o.seq ?? snd.nxt) >>> 0;
    seg.ack = (o.ack ?? ((flags & TCP_ACK) !== 0 ? snd.rcvNxt : 0)) >>> 0;
    seg.flags = o.flags ?? flags;
    seg.window = o.window ?? ((flags & TCP_RST) !== 0 && (flags & TCP_ACK) === 0 ? 0 : snd.window);
    seg.payloadLen = len;
    seg.payloadCaptured = len;
    seg.windowScale = o.wscale ?? -1;
    seg.mss = o.mss ?? -1;
    seg.checksumOk = 1;
    this.segments.push(seg);
    const segLen = len + ((seg.flags & TCP_SYN) !== 0 ? 1 : 0) + ((seg.flags & TCP_FIN) !== 0 ? 1 : 0);
    if (!o.noAdvance && (seg.flags & TCP_RST) === 0) {
      const end = (seg.seq + segLen) >>> 0;
      if (((end - snd.nxt) | 0) > 0) snd.nxt = end;
      if (len > 0) snd.lastData = { seq: seg.seq, len };
      if (!o.lost && ((end - rcv.rcvNxt) | 0) > 0 || (seg.flags & TCP_SYN) !== 0) rcv.rcvNxt = end;
    }
    return seg.frame;
  }

  syn(o: SegOpts = {}): number {
    return this.send('c', TCP_SYN, o);
  }
  /** The client's SYN again, with the same ISN (a retransmission). */
  synAgain(o: SegOpts = {}): number {
    return this.send('c', TCP_SYN, { seq: this.c.isn, noAdvance: true, ...o });
  }
  /** The current time as float seconds (to give a capture end later than the last packet). */
  get now(): number {
    return this.sec + this.ns * 1e-9;
  }
  synAck(o: SegOpts = {}): number {
    return this.send('s', TCP_SYN | TCP_ACK, o);
  }
  ack(w: Who, o: SegOpts = {}): number {
    return this.send(w, TCP_ACK, o);
  }
  data(w: Who, len: number, o: SegOpts = {}): number {
    return this.send(w, TCP_PSH | TCP_ACK, { ...o, len });
  }
  fin(w: Who, o: SegOpts = {}): number {
    return this.send(w, TCP_FIN | TCP_ACK, o);
  }
  /** A live socket's abort: RST+ACK with its own next sequence number. */
  rstAck(w: Who, o: SegOpts = {}): number {
    return this.send(w, TCP_RST | TCP_ACK, o);
  }
  /** A socket-less Linux reply: RST without ACK, seq = the ack of the segment it answers. */
  bareRst(w: Who, o: SegOpts = {}): number {
    const peer = this.side(w === 'c' ? 's' : 'c');
    // The peer's last segment acknowledged up to peer.rcvNxt of w's space.
    return this.send(w, TCP_RST, { seq: o.seq ?? peer.rcvNxt, ...o });
  }
  /** The same bytes again. */
  retransmit(w: Who, o: SegOpts = {}): number {
    const snd = this.side(w);
    const d = snd.lastData;
    if (d === null) throw new Error('nothing to retransmit');
    return this.send(w, TCP_PSH | TCP_ACK, { seq: d.seq, len: d.len, noAdvance: true, ...o });
  }
  /** A Linux keep-alive: empty, at snd.una - 1. */
  keepAlive(w: Who, o: SegOpts = {}): number {
    const snd = this.side(w);
    return this.send(w, TCP_ACK, { seq: (snd.nxt - 1) >>> 0, noAdvance: true, ...o });
  }

  /** The three-way handshake; returns the frames. */
  handshake(o: { wscale?: boolean } = {}): number[] {
    const ws = o.wscale ? { wscale: 7 } : {};
    return [this.syn(ws), this.synAck(ws), this.ack('c')];
  }

  /** Runs the segments through a connection table and the classifier; returns the records in emission order. */
  run(opts: Partial<ClassifierOptions> & { maxConnections?: number; graceSeconds?: number; captureEnd?: number } = {}): ConnectionRecord[] {
    return runSegments(this.segments, opts);
  }

  /** Runs and expects exactly one record. */
  one(opts: Parameters<Conversation['run']>[0] = {}): ConnectionRecord {
    const recs = this.run(opts);
    if (recs.length !== 1) throw new Error(`expected one connection, got ${recs.length}`);
    return recs[0]!;
  }
}

export function runSegments(
  segments: TcpSegment[],
  opts: Partial<ClassifierOptions> & { maxConnections?: number; graceSeconds?: number; captureEnd?: number } = {},
): ConnectionRecord[] {
  const cls: ClassifierOptions = { ...DEFAULT_CLASSIFIER_OPTIONS, ...opts };
  const out: ConnectionRecord[] = [];
  let last = 0;
  const table = new ConnectionTable(
    { maxConnections: opts.maxConnections ?? 1000, graceSeconds: opts.graceSeconds ?? 10, maxTombstones: 1000 },
    (conn, reason, now) => {
      const end = reason === 'end-of-capture' || reason === 'finished' ? Math.max(last, opts.captureEnd ?? 0) : now;
      out.push(buildRecord(conn, cls, { captureEnd: end, reason }));
    },
  );
  for (const seg of segments) {
    const t = seg.tsSec + seg.tsNs * 1e-9;
    if (t > last) last = t;
    table.onSegment(seg);
  }
  table.now = Math.max(table.now, opts.captureEnd ?? 0);
  table.flush();
  return out;
}
