/**
 * Properties over structure-aware inputs, below the capture reader:
 *  - frames (random layer stacks) through the decoder, then through an Analyzer: nothing thrown, every frame in
 *    exactly one outcome, an intact TCP frame decoded to the fields it was built with, and the analyzer's
 *    accounting;
 *  - segment streams (random flags and sequence numbers over a few tuples, duplicates, clocks going back) through
 *    the connection table and the classifier: nothing thrown, every segment in one record or counted against a
 *    connection already gone, each connection emitted once, the cap held, records well formed.
 * Each returns the violations found (empty when all holds), so that known bugs can be told from new ones.
 */
import { Analyzer } from '../../src/analysis/analyzer.js';
import { newRawPacket } from '../../src/capture/raw-packet.js';
import { buildRecord } from '../../src/classify/build-record.js';
import { DEFAULT_CLASSIFIER_OPTIONS } from '../../src/classify/classifier.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS } from '../../src/conn/connection-table.js';
import { Decoder } from '../../src/decode/decoder.js';
import { DecodeOutcome, newTcpSegment } from '../../src/decode/segment.js';
import { describeThrown, recordProblems, type Violation } from './harness.js';
import { stepsToSegments, type GeneratedFrame, type SegStep } from './generators.js';

const T0 = 1_700_000_000;

/** Frames through a decoder (with the oracle) and then an Analyzer. */
export function framesViolations(frames: readonly GeneratedFrame[], maxConnections: number): Violation[] {
  const out: Violation[] = [];
  const decoder = new Decoder();
  const seg = newTcpSegment();
  const pkt = newRawPacket();
  const fill = (f: GeneratedFrame, i: number) => {
    pkt.data = f.data;
    pkt.offset = 0;
    pkt.capLen = f.data.length;
    pkt.origLen = f.origLen;
    pkt.linkType = f.linkType;
    pkt.tsSec = T0 + i;
    pkt.tsNs = 0;
    pkt.tsDigits = 6;
    pkt.frame = i + 1;
  };
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    fill(f, i);
    let outcome: number;
    try {
      outcome = decoder.decode(pkt, seg);
    } catch (err) {
      out.push({ kind: 'uncaught', detail: `decode of ${f.stack}: ${describeThrown(err)}` });
      return out;
    }
    const e = f.expect;
    if (e !== null) {
      if (outcome !== DecodeOutcome.Tcp) {
        out.push({ kind: 'record-shape', detail: `intact TCP frame (${f.stack}) decoded as outcome ${outcome}` });
      } else {
        const got = { sport: seg.srcPort, dport: seg.dstPort, seq: seg.seq, ack: seg.ack, flags: seg.flags, payloadLen: seg.payloadLen, ipVersion: seg.ipVersion };
        if (JSON.stringify(got) !== JSON.stringify(e)) {
          out.push({ kind: 'record-shape', detail: `intact TCP frame (${f.stack}) decoded as ${JSON.stringify(got)}, built ${JSON.stringify(e)}` });
        }
        if (seg.checksumOk !== 1) out.push({ kind: 'record-shape', detail: `intact TCP frame (${f.stack}) checksum verdict ${seg.checksumOk}` });
      }
    }
  }
  const st = decoder.stats;
  if (st.frames !== frames.length) out.push({ kind: 'accounting-frames', detail: `decoder counted ${st.frames} of ${frames.length} frames` });
  const parts = st.tcp + st.notTcp + st.fragments + st.tooShort + st.malformed + st.unknownLinkType;
  if (parts !== st.frames) out.push({ kind: 'accounting-partition', detail: `frames ${st.frames}, outcomes sum to ${parts}` });

  // The same frames through the whole analyzer.
  let packetSum = 0;
  let records = 0;
  const ids = new Set<number>();
  try {
    const a = new Analyzer({ classifier: DEFAULT_CLASSIFIER_OPTIONS, table: { ...DEFAULT_TABLE_OPTIONS, maxConnections } }, (rec) => {
      records++;
      packetSum += rec.packets.client + rec.packets.server;
      if (ids.has(rec.id)) out.push({ kind: 'accounting-records', detail: `record id ${rec.id} emitted twice` });
      ids.add(rec.id);
      for (const p of recordProblems(rec, frames.length)) out.push(p);
    });
    for (let i = 0; i < frames.length; i++) {
      fill(frames[i]!, i);
      a.ingest(pkt);
    }
    a.finish();
    const t = a.table;
    if (packetSum + t.packetsOfEvicted + t.latePackets !== a.decoder.stats.tcp) {
      out.push({ kind: 'accounting-packets', detail: `Σ record packets ${packetSum} + packetsOfEvicted ${t.packetsOfEvicted} + latePackets ${t.latePackets} != tcp ${a.decoder.stats.tcp}` });
    }
    if (records !== a.records || t.size !== 0) out.push({ kind: 'accounting-records', detail: `${records} records, analyzer ${a.records}, left ${t.size}` });
  } catch (err) {
    out.push({ kind: 'uncaught', detail: `analyzer: ${describeThrown(err)}` });
  }
  return out;
}

/** Segment streams through the connection table and the classifier. */
export function segmentsViolations(steps: readonly SegStep[], maxConnections: number, graceSeconds: number): Violation[] {
  const out: Violation[] = [];
  const segs = stepsToSegments(steps, T0);
  let packetSum = 0;
  const ids = new Set<number>();
  const records: ConnectionRecord[] = [];
  let last = 0;
  try {
    const table = new ConnectionTable({ ...DEFAULT_TABLE_OPTIONS, maxConnections, graceSeconds }, (conn, reason, now) => {
      const end = reason === 'end-of-capture' || reason === 'finished' ? last : now;
      const rec = buildRecord(conn, DEFAULT_CLASSIFIER_OPTIONS, { captureEnd: end, reason });
      records.push(rec);
      packetSum += rec.packets.client + rec.packets.server;
      if (ids.has(rec.id)) out.push({ kind: 'accounting-records', detail: `record id ${rec.id} emitted twice (${reason})` });
      ids.add(rec.id);
      for (const p of recordProblems(rec, segs.length)) out.push(p);
    });
    for (const s of segs) {
      const t = s.tsSec + s.tsNs * 1e-9;
      if (t > last) last = t;
      table.onSegment(s);
    }
    table.now = Math.max(table.now, last);
    table.flush();
    if (packetSum + table.packetsOfEvicted + table.latePackets !== segs.length) {
      out.push({ kind: 'accounting-packets', detail: `Σ record packets ${packetSum} + packetsOfEvicted ${table.packetsOfEvicted} + latePackets ${table.latePackets} != ${segs.length} segments` });
    }
    if (table.size !== 0) out.push({ kind: 'accounting-records', detail: `${table.size} connections left after flush` });
    if (table.peakSize > maxConnections + 1) out.push({ kind: 'table-cap', detail: `peak ${table.peakSize}, cap ${maxConnections}` });
  } catch (err) {
    out.push({ kind: 'uncaught', detail: `table: ${describeThrown(err)}` });
  }
  return out;
}
