import type { Cause, Closer, Ending } from '../src/classify/labels.js';
import { runOk } from './proc.js';

/**
 * What a capture really shows, read with tshark (an independent dissector, not the project's own decoder):
 * packets grouped by 4-tuple and incarnation, a few facts per connection, a plain-words description with
 * Wireshark frame numbers, and the checks that each expected label's wire pattern really occurred.
 */

export type WireSide = 'client' | 'server';

export interface WirePacket {
  frame: number;
  /** Seconds since 1970 (float; microsecond precision is plenty for the checks). */
  ts: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
  seq: number;
  ack: number;
  len: number;
  frameLen: number;
  retrans: boolean;
  /** The TCP checksum does not verify (tshark's tcp.checksum.status 0), as with checksum offload. */
  badChecksum: boolean;
}

export const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export interface WireCapture {
  packets: WirePacket[];
  firstTs: number;
  lastTs: number;
  /**
   * When the capture ended: the last packet, or the later stop time the file records (pcapng isb_endtime; the
   * lab sets it after reading the file's blocks). Silence is only visible up to here.
   */
  endTs: number;
}

const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.len',
  'frame.len',
  'tcp.analysis.retransmission',
  'tcp.checksum.status',
] as const;

export async function readWithTshark(file: string): Promise<WireCapture> {
  const args = ['-r', file, '-n', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f'];
  for (const f of FIELDS) args.push('-e', f);
  const out = await runOk('tshark', args, { timeoutMs: 60_000 });
  const packets: WirePacket[] = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const c = line.split('\t');
    const num = (i: number): number => Number(c[i] ?? '');
    const p: WirePacket = {
      frame: num(0),
      ts: num(1),
      src: c[2] || c[4] || '',
      dst: c[3] || c[5] || '',
      sport: num(6),
      dport: num(7),
      flags: parseInt(c[8] ?? '0', 16),
      seq: num(9),
      ack: num(10),
      len: num(11),
      frameLen: num(12),
      retrans: (c[13] ?? '') !== '',
      badChecksum: c[14] === '0',
    };
    if (!Number.isFinite(p.frame) || p.src === '' || !Number.isFinite(p.sport)) {
      throw new Error(`${file}: tshark line not understood: ${line}`);
    }
    packets.push(p);
  }
  const lastTs = packets.length > 0 ? packets[packets.length - 1]!.ts : 0;
  return { packets, firstTs: packets.length > 0 ? packets[0]!.ts : 0, lastTs, endTs: lastTs };
}

function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export interface ConnTuple {
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
}

export interface SidedPacket extends WirePacket {
  from: WireSide;
}

export interface WireConn {
  tuple: ConnTuple;
  inc: number;
  packets: SidedPacket[];
}

export function tupleText(t: ConnTuple): string {
  const ep = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  return `${ep(t.clientIp, t.clientPort)} → ${ep(t.serverIp, t.serverPort)}`;
}

/**
 * Splits the capture into connections: by 4-tuple (client = the lab's client address), then by incarnation
 * (a client SYN with a new initial sequence number after packets of an earlier one starts the next).
 */
export function groupConnections(cap: WireCapture, clientIps: ReadonlySet<string>): WireConn[] {
  const byKey = new Map<string, { conn: WireConn; synSeq: number | null }>();
  const result: WireConn[] = [];
  for (const p of cap.packets) {
    const fromClient = clientIps.has(p.src);
    const tuple: ConnTuple = fromClient
      ? { clientIp: p.src, clientPort: p.sport, serverIp: p.dst, serverPort: p.dport }
      : { clientIp: p.dst, clientPort: p.dport, serverIp: p.src, serverPort: p.sport };
    const key = tupleText(tuple);
    const isClientSyn = fromClient && (p.flags & F.SYN) !== 0 && (p.flags & F.ACK) === 0;
    let cur = byKey.get(key);
    if (cur === undefined || (isClientSyn && cur.synSeq !== p.seq && cur.conn.packets.length > 0 && cur.synSeq !== null)) {
      const inc = cur === undefined ? 1 : cur.conn.inc + 1;
      cur = { conn: { tuple, inc, packets: [] }, synSeq: null };
      byKey.set(key, cur);
      result.push(cur.conn);
    }
    if (isClientSyn) cur.synSeq = p.seq;
    cur.conn.packets.push({ ...p, from: fromClient ? 'client' : 'server' });
  }
  return result;
}

const other = (s: WireSide): WireSide => (s === 'client' ? 'server' : 'client');
const has = (p: WirePacket, f: number): boolean => (p.flags & f) !== 0;

/** The sequence number a FIN occupies (after the segment's payload). */
function finSeq(p: WirePacket): number {
  return (p.seq + p.len) >>> 0;
}

/** Does p acknowledge the FIN carried by fin? */
function acksFin(p: WirePacket, fin: WirePacket): boolean {
  return has(p, F.ACK) && seqGe(p.ack, (finSeq(fin) + 1) >>> 0);
}

export interface ConnFacts {
  handshake: 'complete' | 'syn-only' | 'rejected' | 'midstream' | 'partial';
  firstFin: Partial<Record<WireSide, SidedPacket>>;
  rsts: SidedPacket[];
  /** The first FIN or RST after the handshake: who began the teardown. */
  firstTeardown: SidedPacket | null;
  /** Both FINs were sent before either was acknowledged (each first FIN's ack misses the other FIN). */
  finsCrossed: boolean;
  dataBytes: Record<WireSide, number>;
  retrans: Record<WireSide, number>;
}

export function connFacts(c: WireConn): ConnFacts {
  const ps = c.packets;
  const synIdx = ps.findIndex((p) => p.from === 'client' && has(p, F.SYN) && !has(p, F.ACK));
  const synAck = ps.find((p) => p.from === 'server' && has(p, F.SYN) && has(p, F.ACK));
  let handshake: ConnFacts['handshake'];
  if (synIdx < 0) handshake = 'midstream';
  else if (synAck !== undefined) {
    handshake = ps.some((p) => p.from === 'client' && has(p, F.ACK) && !has(p, F.SYN) && p.frame > synAck.frame) ? 'complete' : 'partial';
  } else if (ps.some((p) => p.from === 'server' && has(p, F.RST))) handshake = 'rejected';
  else handshake = 'syn-only';
  const firstFin: ConnFacts['firstFin'] = {};
  const rsts: SidedPacket[] = [];
  const dataBytes = { client: 0, server: 0 };
  const retrans = { client: 0, server: 0 };
  let firstTeardown: SidedPacket | null = null;
  for (const p of ps) {
    if (has(p, F.FIN) && firstFin[p.from] === undefined) firstFin[p.from] = p;
    if (has(p, F.RST)) rsts.push(p);
    if (p.retrans) retrans[p.from] += 1;
    else dataBytes[p.from] += p.len;
    const established = handshake === 'complete' || handshake === 'midstream';
    if (firstTeardown === null && established && (has(p, F.FIN) || has(p, F.RST))) firstTeardown = p;
  }
  const cf = firstFin.client;
  const sf = firstFin.server;
  const finsCrossed = cf !== undefined && sf !== undefined && !acksFin(cf, sf) && !acksFin(sf, cf);
  return { handshake, firstFin, rsts, firstTeardown, finsCrossed, dataBytes, retrans };
}

/** The closer as the wire shows it: who sent the first FIN or RST of an established connection. */
export function wireCloser(f: ConnFacts): Closer | null {
  if (f.finsCrossed) return 'both';
  return f.firstTeardown?.from ?? null;
}

export interface WireExpectation {
  ending: Ending;
  cause: Cause | null;
  closer: Closer | null;
  /** tcp_fin_timeout of the server namespace (orphan-timeout checks the gap against it). */
  finTimeoutS: number;
  /** The close-wait-stuck threshold: the silent end must stay silent longer than this until the capture ends. */
  stuckS: number;
}

function rstText(p: SidedPacket): string {
  return has(p, F.ACK) ? 'RST+ACK' : 'bare RST';
}

/** Checks that the capture shows the pattern the expected labels stand for. Returns problems (empty = holds). */
export function checkWire(c: WireConn, exp: WireExpectation, cap: WireCapture): string[] {
  const f = connFacts(c);
  const ps = c.packets;
  const problems: string[] = [];
  const need = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what);
  };
  const closerOnWire = wireCloser(f);
  need(closerOnWire === exp.closer, `closer on the wire is ${closerOnWire}, expected ${exp.closer}`);
  const after = (p: SidedPacket): SidedPacket[] => ps.filter((q) => q.frame > p.frame);
  const closer: WireSide = exp.closer === 'server' ? 'server' : 'client';
  const peer = other(closer);
  const cfin = f.firstFin[closer];
  const pfin = f.firstFin[peer];

  switch (exp.ending) {
    case 'graceful-fin': {
      need(f.rsts.length === 0, `graceful close expected, but ${f.rsts.length} RST(s) seen`);
      const cl = f.firstFin.client;
      const sv = f.firstFin.server;
      need(cl !== undefined && sv !== undefined, 'both ends should send a FIN');
      if (cl === undefined || sv === undefined) break;
      if (exp.cause === 'simultaneous-close') {
        need(f.finsCrossed, 'the two FINs should cross (neither FIN acknowledges the other)');
      } else {
        need(!f.finsCrossed, 'the FINs crossed, but a sequential close was expected');
        const [first, second] = cl.frame < sv.frame ? [cl, sv] : [sv, cl];
        need(acksFin(second, first), `the second FIN (#${second.frame}) should acknowledge the first (#${first.frame})`);
      }
      need(ps.some((p) => p.from === 'server' && acksFin(p, cl)), 'the client FIN should be acknowledged');
      need(ps.some((p) => p.from === 'client' && acksFin(p, sv)), 'the server FIN should be acknowledged');
      break;
    }
    case 'abortive-rst': {
      const rst = f.rsts.find((p) => p.from === closer);
      need(rst !== undefined, `an RST from the ${closer} was expected`);
      if (rst === undefined) break;
      if (exp.cause === 'linger-abort' || exp.cause === 'unread-data') {
        need(has(rst, F.ACK), `the ${closer}'s abort should be RST+ACK (socket still there), saw ${rstText(rst)}`);
        need(cfin === undefined || cfin.frame > rst.frame, `the ${closer} should reset without sending a FIN first`);
        if (exp.cause === 'unread-data') {
          const peerData = ps.filter((p) => p.from === peer && p.len > 0 && p.frame < rst.frame);
          need(peerData.length > 0, `the ${peer} should have sent data before the RST`);
          const last = peerData[peerData.length - 1];
          if (last !== undefined) {
            need(seqGe(rst.ack, (last.seq + last.len) >>> 0), `the RST should acknowledge the ${peer}'s data (received, never read)`);
          }
        }
      } else if (exp.cause === 'data-after-close') {
        need(cfin !== undefined && cfin.frame < rst.frame, `the ${closer} should send a FIN before its RST`);
        const trigger = [...ps].reverse().find((p) => p.from === peer && p.frame < rst.frame);
        need(trigger !== undefined && trigger.len > 0, `the RST should follow data from the ${peer}`);
        if (cfin !== undefined && trigger !== undefined) need(trigger.frame > cfin.frame, `the ${peer}'s data should come after the FIN`);
        need(!has(rst, F.ACK), `the RST from the closed end should be bare (no ACK), saw ${rstText(rst)}`);
        if (trigger !== undefined) need(rst.seq === trigger.ack, `the bare RST's seq should equal the ack of #${trigger.frame}`);
      }
      break;
    }
    case 'orphan-timeout-rst': {
      need(cfin !== undefined, `the ${closer} should send a FIN`);
      if (cfin === undefined) break;
      need(after(cfin).some((p) => p.from === peer && acksFin(p, cfin)), `the ${peer} should acknowledge the FIN`);
      const rst = f.rsts.find((p) => p.from === closer);
      need(rst !== undefined, `a late RST from the ${closer} was expected`);
      if (rst === undefined) break;
      const trigger = [...ps].reverse().find((p) => p.from === peer && p.frame < rst.frame);
      need(trigger !== undefined && (has(trigger, F.FIN) || trigger.len > 0), `the RST should answer a FIN or data from the ${peer}`);
      if (trigger !== undefined) {
        const gap = trigger.ts - cfin.ts;
        need(gap > exp.finTimeoutS, `the ${peer}'s late segment should come after tcp_fin_timeout (${exp.finTimeoutS} s), came ${gap.toFixed(2)} s after the FIN`);
        need(rst.seq === trigger.ack, `the RST's seq should equal the ack of #${trigger.frame}`);
      }
      need(!has(rst, F.ACK), `the socket-less RST should be bare (no ACK), saw ${rstText(rst)}`);
      break;
    }
    case 'close-wait-stuck': {
      need(cfin !== undefined, `the ${closer} should send a FIN`);
      if (cfin === undefined) break;
      const ackOfFin = after(cfin).find((p) => p.from === peer && acksFin(p, cfin));
      need(ackOfFin !== undefined, `the ${peer} should acknowledge the FIN`);
      need(pfin === undefined && f.rsts.length === 0, `the ${peer} should never close`);
      need(!after(cfin).some((p) => p.from === peer && p.len > 0), `the ${peer} should stay silent after the FIN`);
      const last = ps[ps.length - 1]!;
      const silent = cap.endTs - last.ts;
      need(silent > exp.stuckS + 0.5, `the connection should stay silent > ${exp.stuckS} s until the capture ends (${silent.toFixed(2)} s)`);
      break;
    }
    case 'lost-state-rst': {
      need(f.firstFin.server === undefined, 'the server should send no FIN');
      const rst = f.rsts.find((p) => p.from === 'server');
      need(rst !== undefined, 'an RST from the server was expected');
      if (rst === undefined) break;
      need(f.rsts.filter((p) => p.from === 'server').length === 1, 'the server\'s own abort RST should not be on the wire');
      need(!has(rst, F.ACK), `the socket-less RST should be bare (no ACK), saw ${rstText(rst)}`);
      const trigger = [...ps].reverse().find((p) => p.from === 'client' && p.frame < rst.frame);
      need(trigger !== undefined && trigger.len > 0, 'the RST should answer data from the client');
      if (trigger !== undefined) need(rst.seq === trigger.ack, `the RST's seq should equal the ack of #${trigger.frame}`);
      break;
    }
    case 'refused': {
      need(f.handshake === 'rejected', `the SYN should be answered by an RST (handshake: ${f.handshake})`);
      const syn = ps.find((p) => p.from === 'client' && has(p, F.SYN));
      const rst = f.rsts.find((p) => p.from === 'server');
      if (syn !== undefined && rst !== undefined) {
        need(has(rst, F.ACK) && rst.ack === ((syn.seq + 1) >>> 0), 'the refusal should be RST+ACK acknowledging the SYN');
      }
      break;
    }
    case 'unanswered': {
      need(f.handshake === 'syn-only', `only SYNs expected (handshake: ${f.handshake})`);
      need(ps.filter((p) => has(p, F.SYN)).length >= 2, 'the SYN should be retransmitted');
      need(!ps.some((p) => p.from === 'server'), 'nothing should come from the server');
      break;
    }
    case 'peer-unresponsive': {
      need(f.retrans.client >= 3, `the client should retransmit (saw ${f.retrans.client})`);
      const firstRe = ps.find((p) => p.from === 'client' && p.retrans);
      if (firstRe !== undefined) need(!after(firstRe).some((p) => p.from === 'server'), 'the server should send nothing once retransmissions start');
      need(f.rsts.length === 0 && f.firstFin.client === undefined && f.firstFin.server === undefined, 'no FIN or RST expected');
      break;
    }
    case 'half-closed': {
      need(cfin !== undefined, `the ${closer} should send a FIN`);
      if (cfin === undefined) break;
      need(pfin === undefined && f.rsts.length === 0, `the ${peer} should not close`);
      need(after(cfin).some((p) => p.from === peer && p.len > 0), `the ${peer} should keep sending after the FIN`);
      break;
    }
    case 'open': {
      need(f.rsts.length === 0 && f.firstFin.client === undefined && f.firstFin.server === undefined, 'no FIN or RST expected');
      need(f.handshake === 'complete' || f.handshake === 'midstream', `the connection should be established (${f.handshake})`);
      break;
    }
  }
  return problems;
}

function span(ps: SidedPacket[]): string {
  return ps.length === 1 ? `#${ps[0]!.frame}` : `#${ps[0]!.frame}-#${ps[ps.length - 1]!.frame}`;
}

/** Plain-words account of a connection's packets with frame numbers, e.g. for the manifest's `wire`. */
export function describeWire(c: WireConn, cap: WireCapture): string {
  const ps = c.packets;
  const parts: string[] = [];
  let lastTs = ps[0]?.ts ?? 0;
  const finOf: Partial<Record<WireSide, SidedPacket>> = {};
  const ackedFin: Record<WireSide, boolean> = { client: false, server: false };
  const push = (p: SidedPacket, text: string): void => {
    const gap = p.ts - lastTs;
    parts.push((gap >= 0.5 ? `${gap.toFixed(1)} s later ` : '') + text);
    lastTs = p.ts;
  };
  if (ps.length > 0 && !(has(ps[0]!, F.SYN) && ps[0]!.from === 'client')) parts.push('capture starts mid-connection');
  let i = 0;
  while (i < ps.length) {
    const p = ps[i]!;
    const s = p.from;
    // Handshake: SYN, SYN+ACK, ACK.
    if (s === 'client' && has(p, F.SYN) && !has(p, F.ACK)) {
      let j = i;
      while (j + 1 < ps.length && ps[j + 1]!.from === 'client' && has(ps[j + 1]!, F.SYN)) j++;
      const syns = ps.slice(i, j + 1);
      const sa = ps[j + 1];
      const ack = ps[j + 2];
      if (syns.length === 1 && sa && sa.from === 'server' && has(sa, F.SYN) && has(sa, F.ACK) && ack && ack.from === 'client' && !has(ack, F.SYN)) {
        push(p, `handshake (${span([p, sa, ack])})`);
        i = j + 3;
        continue;
      }
      push(p, syns.length === 1 ? `client SYN (#${p.frame})` : `client SYN ×${syns.length} over ${(syns[syns.length - 1]!.ts - p.ts).toFixed(1)} s (${span(syns)})`);
      lastTs = syns[syns.length - 1]!.ts;
      i = j + 1;
      continue;
    }
    if (has(p, F.RST)) {
      let text = `${s} ${rstText(p)}`;
      if (!has(p, F.ACK)) {
        const trig = [...ps.slice(0, i)].reverse().find((q) => q.from !== s);
        if (trig !== undefined && trig.ack === p.seq) text += ` (seq = ack of #${trig.frame})`;
      }
      push(p, `${text} (#${p.frame})`);
      i++;
      continue;
    }
    if (has(p, F.FIN)) {
      if (finOf[s] === undefined) finOf[s] = p;
      const peerFin = finOf[other(s)];
      let text = `${s} FIN${p.len > 0 ? ` with ${p.len} B` : ''}${p.retrans ? ' (retransmitted)' : ''}`;
      if (peerFin !== undefined && !ackedFin[other(s)] && acksFin(p, peerFin)) {
        ackedFin[other(s)] = true;
        text += ' acking it';
      }
      push(p, `${text} (#${p.frame})`);
      i++;
      continue;
    }
    // Retransmissions of data from one side, grouped.
    if (p.retrans) {
      let j = i;
      const group: SidedPacket[] = [];
      while (j < ps.length && ps[j]!.from === s && ps[j]!.retrans && !has(ps[j]!, F.FIN | F.RST | F.SYN)) group.push(ps[j++]!);
      if (group.length > 0) {
        // Let new data interleaved with the retransmissions join the group too.
        while (j < ps.length && ps[j]!.from === s && !has(ps[j]!, F.FIN | F.RST | F.SYN)) group.push(ps[j++]!);
        const n = group.filter((q) => q.retrans).length;
        push(p, `${s} retransmits ×${n} over ${(group[group.length - 1]!.ts - p.ts).toFixed(1)} s (${span(group)})`);
        lastTs = group[group.length - 1]!.ts;
        i = j;
        continue;
      }
    }
    if (p.len > 0) {
      // A run of data from one side; pure ACKs from the other side inside the run are folded in.
      let j = i;
      const segs: SidedPacket[] = [];
      while (j < ps.length && !has(ps[j]!, F.FIN | F.RST | F.SYN) && !ps[j]!.retrans) {
        const q = ps[j]!;
        if (q.from === s && q.len > 0) segs.push(q);
        else if (!(q.from !== s && q.len === 0)) break;
        j++;
      }
      // Do not swallow a trailing pure ACK of the other side: it may be worth mentioning after a FIN.
      while (j > i && ps[j - 1]!.from !== s) j--;
      const bytes = segs.reduce((a, q) => a + q.len, 0);
      const big = segs.some((q) => q.frameLen > 1514) ? ', GSO frames above the MTU' : '';
      const pending = finOf[other(s)];
      let acking = '';
      if (pending !== undefined && !ackedFin[other(s)] && acksFin(p, pending)) {
        ackedFin[other(s)] = true;
        acking = ' acking the FIN';
      }
      push(p, `${s} data ${bytes} B${segs.length > 1 ? ` in ${segs.length} segments${big}` : ''}${acking} (${span(segs)})`);
      lastTs = segs[segs.length - 1]!.ts;
      i = j;
      continue;
    }
    // A pure ACK: mention only the first one acknowledging the other side's FIN.
    const peerFin = finOf[other(s)];
    if (peerFin !== undefined && !ackedFin[other(s)] && acksFin(p, peerFin)) {
      ackedFin[other(s)] = true;
      push(p, `${s} ACK of the FIN (#${p.frame})`);
    }
    i++;
  }
  const own = ps[ps.length - 1]?.ts ?? cap.lastTs;
  if (cap.endTs > cap.lastTs && cap.endTs - own >= 1) {
    parts.push(`then nothing for ${(cap.endTs - own).toFixed(1)} s until the capture stopped (isb_endtime)`);
  } else if (cap.lastTs - own >= 1) {
    parts.push(`then nothing for ${(cap.lastTs - own).toFixed(1)} s until the capture's last packet`);
  }
  return parts.join(', ');
}
