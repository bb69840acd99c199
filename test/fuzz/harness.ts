/**
 * The fuzz harness: runs one input (one or two capture files' bytes) through the whole offline pipeline and
 * checks the invariants that must hold for ANY input, however hostile:
 *
 *  - nothing but a CaptureError leaves the reader, and nothing at all leaves the decoder, the connection table,
 *    the classifier or analyzeCaptures (a damaged file is reported, never thrown);
 *  - the run ends, within a time budget, and the reader makes progress (no endless NEED_MORE);
 *  - the heap stays within a bound set by the connections held, not by the input;
 *  - every packet is accounted for: frames yielded = analyzer.frames = decoder stats.frames = info.frames;
 *    frames = tcp + notTcp + fragments + tooShort + malformed + unknownLinkType; every TCP segment is in exactly
 *    one record or was counted against an evicted or already emitted connection (Σ record packets +
 *    packetsOfEvicted + latePackets = tcp);
 *    every connection is emitted once (records = analyzer.records, distinct ids, table empty at the end);
 *  - every record is well formed (labels from the vocabulary, finite numbers, frames that exist, bounded ladder);
 *  - reading does not depend on how the bytes arrive: the same input read in chunks of any size, from a file or
 *    a stream, through the harness's loop or through analyzeCaptures, gives the same frames, error and records.
 *
 * A broken invariant is returned as a Violation (kind + detail), not thrown, so that the caller can tell known
 * bugs from new ones.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Analyzer } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { mergeReaders } from '../../src/capture/merge.js';
import { openCapture, openCaptureStream } from '../../src/capture/open-capture.js';
import { CaptureError } from '../../src/capture/raw-packet.js';
import { NEED_MORE, type CaptureReader } from '../../src/capture/reader.js';
import { DEFAULT_CLASSIFIER_OPTIONS } from '../../src/classify/classifier.js';
import { CAUSES, ENDINGS, TCP_STATES, APP_VIEWS } from '../../src/classify/labels.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { DEFAULT_TABLE_OPTIONS } from '../../src/conn/connection-table.js';

export type ViolationKind =
  | 'uncaught'
  | 'bad-error'
  | 'no-progress'
  | 'slow'
  | 'heap'
  | 'accounting-frames'
  | 'accounting-partition'
  | 'accounting-packets'
  | 'accounting-records'
  | 'table-cap'
  | 'record-shape'
  | 'record-time'
  | 'chunking-differs'
  | 'summary';

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

export interface CaptureRunOptions {
  maxConnections: number;
  graceSeconds: number;
  /** Read size of the harness's own pass (analyzeCaptures uses the default 1 MiB). */
  chunkSize: number;
  /** Feed the harness's pass from a stream (random piece sizes) instead of the file. */
  stream: boolean;
  /** Also run analyzeCaptures on the same files and compare. */
  compare: boolean;
  /** Wall-clock budget for the whole case (ms). */
  timeBudgetMs: number;
}

export interface CaptureRunReport {
  violations: Violation[];
  bytes: number;
  frames: number;
  tcp: number;
  records: number;
  evicted: number;
  /** The reader's error (damage) or the open error, reason only; null when the input read cleanly. */
  errors: string[];
  /** Behaviour features of this run (for the long run's corpus selection). */
  features: string[];
  elapsedMs: number;
  /** Largest JS heap growth over the run's start seen while it ran (bytes). */
  heapPeakDelta: number;
}

// ---------------------------------------------------------------- heap measurement

let gcFn: (() => void) | null | undefined;
/** A way to force a full GC (through the V8 flag, set at run time), or null where that is not possible. */
export function forceGc(): (() => void) | null {
  if (gcFn !== undefined) return gcFn;
  try {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** What the run holds: the JS heap, and the ArrayBuffers where connections keep their state (and the reader its chunks). */
function heapUsed(): number {
  return v8.getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers;
}

/**
 * Heap bound of one case (JS heap and ArrayBuffers). The pipeline holds, per run: the reader's buffers, one decoder
 * with fixed scratch state and at most 256 pending fragment datagrams, and the connection table: at most
 * maxConnections + 1 connections (about 3 KiB each with the ladder trace, measured) and as many tombstones. So
 * the live heap is bounded by a constant plus a term in the connections held, never by the input's size. The
 * constant covers the fragment reassembly state and the garbage of records built and dropped between GCs.
 */
export function heapBound(maxConnections: number, tcpSegments: number): number {
  const held = Math.min(maxConnections + 1, Math.max(tcpSegments, 1));
  return 48 * 1024 * 1024 + held * 8 * 1024;
}

// ---------------------------------------------------------------- record checks

/** ISO 8601 UTC; or "@" and epoch seconds, the form for times outside the years 0000–9999 (src/conn/time.ts). */
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z|@-?\d+(\.\d{1,9})?)$/;
const CONFIDENCE = new Set(['high', 'medium', 'low']);
const HANDSHAKE = new Set(['complete', 'syn-only', 'syn-ack-only', 'midstream']);
/** LadderTrace keeps at most 4 head, 8 control and 16 ring packets. */
export const MAX_LADDER = 28;

/** Problems with one record's shape; `frames` is the number of frames of the run. */
export function recordProblems(rec: ConnectionRecord, frames: number): { kind: ViolationKind; detail: string }[] {
  const out: { kind: ViolationKind; detail: string }[] = [];
  const bad = (what: string) => out.push({ kind: 'record-shape', detail: `record ${rec.id}: ${what}` });
  const badTime = (what: string) => out.push({ kind: 'record-time', detail: `record ${rec.id}: ${what}` });
  if (!(ENDINGS as readonly string[]).includes(rec.ending)) bad(`ending ${rec.ending}`);
  if (rec.cause !== null && !(CAUSES as readonly string[]).includes(rec.cause)) bad(`cause ${rec.cause}`);
  if (!CONFIDENCE.has(rec.confidence)) bad(`confidence ${rec.confidence}`);
  if (!HANDSHAKE.has(rec.handshake)) bad(`handshake ${rec.handshake}`);
  for (const side of ['client', 'server'] as const) {
    const p = rec.packets[side];
    const b = rec.bytes[side];
    if (!Number.isInteger(p) || p < 0) bad(`packets.${side} ${p}`);
    if (!Number.isSafeInteger(b) || b < 0) bad(`bytes.${side} ${b}`);
    if (!(APP_VIEWS as readonly string[]).includes(rec.appView[side])) bad(`appView.${side} ${rec.appView[side]}`);
    const e = rec.endpoints[side];
    if (!(TCP_STATES as readonly string[]).includes(e.state)) bad(`${side} state ${e.state}`);
    if (e.states.length > 16) bad(`${side} has ${e.states.length} state changes`);
    for (const s of e.states) if (!Number.isFinite(s.rel)) bad(`${side} state time ${s.rel}`);
    const port = rec[side].port;
    if (!Number.isInteger(port) || port < 0 || port > 65535) bad(`${side} port ${port}`);
  }
  if (rec.packets.client + rec.packets.server < 1) bad('no packets');
  if (typeof rec.explanation !== 'string' || rec.explanation.length === 0) bad('no explanation');
  for (const f of rec.evidence) if (!Number.isInteger(f) || f < 1 || f > frames) bad(`evidence frame ${f} of ${frames}`);
  if (rec.ladder.length > MAX_LADDER) bad(`ladder of ${rec.ladder.length} packets`);
  let prev = 0;
  for (const p of rec.ladder) {
    if (!Number.isInteger(p.frame) || p.frame <= prev || p.frame > frames) bad(`ladder frame ${p.frame} after ${prev} (of ${frames})`);
    prev = p.frame;
    if (!Number.isFinite(p.rel) || !Number.isFinite(p.seq) || !Number.isFinite(p.win)) bad(`ladder numbers of frame ${p.frame}`);
    if (!ISO.test(p.time)) badTime(`ladder time ${p.time}`);
  }
  if (!ISO.test(rec.start) || !ISO.test(rec.end)) badTime(`start ${rec.start} end ${rec.end}`);
  // The ladder always keeps the connection's first packet: its time is the record's start.
  if (rec.ladder.length > 0 && rec.ladder[0]!.time !== rec.start) badTime(`first ladder packet at ${rec.ladder[0]!.time}, record starts ${rec.start}`);
  if (!Number.isFinite(rec.durationMs)) bad(`durationMs ${rec.durationMs}`);
  else if (rec.durationMs < 0) badTime(`negative durationMs ${rec.durationMs}`);
  for (const [k, v] of [['closeWaitMs', rec.closeWaitMs], ['finWait2Ms', rec.finWait2Ms]] as const) {
    if (v !== null && !Number.isFinite(v)) bad(`${k} ${v}`);
    else if (v !== null && v < 0) badTime(`negative ${k} ${v}`);
  }
  let nonFinite = '';
  JSON.stringify(rec, (k, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) nonFinite ||= `${k}=${v}`;
    return v as unknown;
  });
  if (nonFinite) bad(`non-finite number ${nonFinite}`);
  return out;
}

/** The count in an "N out-of-window RST(s) ignored" anomaly, or 0. */
function oowOf(rec: ConnectionRecord): number {
  for (const a of rec.anomalies) {
    const m = /^(\d+) out-of-window RST/.exec(a);
    if (m) return Number(m[1]);
  }
  return 0;
}

/** A message with its numbers (decimal and hex) removed, for features and signatures. */
function shape(text: string, max: number): string {
  return text.replace(/0x[0-9a-f]+/gi, 'X').replace(/\d+/g, 'N').slice(0, max);
}

/** A short, digit-free description of an exception, for signatures: name, message and the first project frame. */
export function describeThrown(err: unknown): string {
  if (!(err instanceof Error)) return `non-Error thrown: ${String(err).slice(0, 120)}`;
  const frame = (err.stack ?? '').split('\n').find((l) => /\/(src|test)\//.test(l)) ?? '';
  const where = /at (\S+) \(.*\/((?:src|test)\/[^:]+)/.exec(frame);
  return `${err.name}: ${err.message.slice(0, 160)}${where ? ` @ ${where[1]} (${where[2]})` : ''}`;
}

// ---------------------------------------------------------------- one case

interface PassResult {
  yielded: number;
  records: number;
  evicted: number;
  oow: number;
  errors: string[];
  recordsHash: string;
  frames: number;
  tcp: number;
}

/** Splits a buffer into pieces of pseudo-random sizes (deterministic in `salt`). */
function pieces(b: Buffer, salt: number): Buffer[] {
  const out: Buffer[] = [];
  let x = (salt * 2654435761) >>> 0 || 1;
  for (let at = 0; at < b.length; ) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const n = 1 + (x % Math.max(1, Math.min(65536, b.length >> 3)));
    out.push(b.subarray(at, at + n));
    at += n;
  }
  return out;
}

/**
 * Runs one case: `inputs` are written as files into `dir` (one per input: several are merged as the command
 * merges files) and analysed twice, through the harness's own loop (reader → Analyzer, the way run.ts drives it,
 * so that the table's counters can be read) and through analyzeCaptures; both are checked and compared.
 */
export async function runCaptureCase(inputs: readonly Buffer[], o: CaptureRunOptions, dir: string): Promise<CaptureRunReport> {
  const t0 = performance.now();
  const violations: Violation[] = [];
  const features = new Set<string>();
  const v = (kind: ViolationKind, detail: string) => violations.push({ kind, detail });
  const files = inputs.map((b, i) => {
    const f = path.join(dir, `input-${i}`);
    fs.writeFileSync(f, b);
    return f;
  });
  const bytes = inputs.reduce((s, b) => s + b.length, 0);
  const opts = {
    classifier: DEFAULT_CLASSIFIER_OPTIONS,
    table: { ...DEFAULT_TABLE_OPTIONS, maxConnections: o.maxConnections, graceSeconds: o.graceSeconds },
  };
  // Small read sizes on large inputs would only cost time: at most 4096 reads per file.
  const chunkSize = Math.max(o.chunkSize, Math.ceil(bytes / 4096));

  // --- pass A: the harness's loop
  const h0 = heapUsed();
  let heapPeak = 0;
  const sample = () => {
    const d = heapUsed() - h0;
    if (d > heapPeak) heapPeak = d;
  };
  const a: PassResult = { yielded: 0, records: 0, evicted: 0, oow: 0, errors: [], recordsHash: '', frames: 0, tcp: 0 };
  const hashA = createHash('sha1');
  let packetSum = 0;
  const ids = new Set<number>();
  let analyzer: Analyzer | null = null;
  let recordProblemsSeen = 0;
  try {
    analyzer = new Analyzer(opts, (rec) => {
      a.records++;
      packetSum += rec.packets.client + rec.packets.server;
      if (ids.has(rec.id)) v('accounting-records', `record id ${rec.id} emitted twice`);
      ids.add(rec.id);
      a.oow += oowOf(rec);
      features.add(`end:${rec.ending}/${rec.cause ?? '-'}/${rec.handshake}/${rec.confidence}`);
      if (recordProblemsSeen < 5) {
        for (const p of recordProblems(rec, analyzer!.frames)) {
          v(p.kind, p.detail);
          recordProblemsSeen++;
        }
      }
      hashA.update(JSON.stringify(rec));
      if ((a.records & 255) === 0) sample();
    });
  } catch (err) {
    v('uncaught', `new Analyzer: ${describeThrown(err)}`);
  }
  const readers: CaptureReader[] = [];
  for (let i = 0; i < files.length; i++) {
    try {
      const r = o.stream
        ? await openCaptureStream(Readable.from(pieces(inputs[i]!, bytes + i)), files[i]!, i, { chunkSize })
        : await openCapture(files[i]!, i, { chunkSize });
      readers.push(r);
    } catch (err) {
      if (err instanceof CaptureError) {
        a.errors.push(`${err.offset}: ${err.reason}`);
        features.add(`open:${shape(err.reason, 60)}`);
      } else v('uncaught', `open: ${describeThrown(err)}`);
    }
  }
  let stop = false;
  if (analyzer !== null && readers.length > 0) {
    const source = readers.length === 1 ? readers[0]! : mergeReaders(readers);
    // No progress: fills that neither consume bytes nor yield a frame, many times in a row.
    let idleFills = 0;
    let lastRead = -1;
    let lastYielded = -1;
    const gzipped = inputs.some((b) => b[0] === 0x1f && b[1] === 0x8b);
    try {
      for (; !stop; ) {
        const p = source.next();
        if (p === null) break;
        if (p === NEED_MORE) {
          const read = readers.reduce((s, r) => s + r.info.bytesRead, 0);
          idleFills = read === lastRead && a.yielded === lastYielded ? idleFills + 1 : 0;
          lastRead = read;
          lastYielded = a.yielded;
          if (idleFills > 10_000) {
            v('no-progress', `${idleFills} fills in a row without a byte read or a frame yielded (${bytes} bytes)`);
            break;
          }
          sample();
          await source.fill();
          continue;
        }
        a.yielded++;
        // Every frame takes at least a 12-byte pcapng block or a 16-byte pcap record header.
        if (!gzipped && a.yielded > bytes / 12 + 16) {
          v('no-progress', `${a.yielded} frames from ${bytes} bytes`);
          break;
        }
        try {
          analyzer.ingest(p);
        } catch (err) {
          v('uncaught', `ingest frame ${a.yielded}: ${describeThrown(err)}`);
          stop = true;
        }
        if ((a.yielded & 1023) === 0) {
          sample();
          if (performance.now() - t0 > o.timeBudgetMs) {
            v('slow', `still reading after ${Math.round(performance.now() - t0)} ms (${a.yielded} frames of ${bytes} bytes)`);
            break;
          }
        }
      }
    } catch (err) {
      v(err instanceof CaptureError ? 'bad-error' : 'uncaught', `reading: ${describeThrown(err)}`);
      stop = true;
    } finally {
      for (const r of readers) r.close();
    }
    for (const r of readers) {
      if (r.error !== null) {
        if (!(r.error instanceof CaptureError)) v('bad-error', `reader.error is ${String(r.error)}`);
        else {
          a.errors.push(`${r.error.offset}: ${r.error.reason}`);
          features.add(`err:${shape(r.error.reason, 60)}`);
          if (r.error.offset < 0 || !Number.isSafeInteger(r.error.offset)) v('bad-error', `offset ${r.error.offset}`);
          if (!r.info.format.includes('gzip') && r.error.offset > bytes) v('bad-error', `offset ${r.error.offset} past ${bytes} bytes`);
        }
      }
      // As run.ts does: a later end of the capture recorded by the file (pcapng isb_endtime).
      if (r.info.endTimeSec !== null) analyzer.recordedEnd = Math.max(analyzer.recordedEnd, r.info.endTimeSec + r.info.endTimeNs * 1e-9);
      features.add(`fmt:${r.info.format}`);
      for (const n of r.info.notes) features.add(`note:${shape(n.replace(/^frame \d+: /, ''), 40)}`);
      for (const lt of r.info.linkTypes.slice(0, 8)) features.add(`lt:${lt}`);
    }
    const infoFrames = readers.reduce((s, r) => s + r.info.frames, 0);
    if (!stop && infoFrames !== a.yielded) v('accounting-frames', `readers say ${infoFrames} frames, yielded ${a.yielded}`);
  }
  if (analyzer !== null && !stop) {
    try {
      analyzer.finish();
    } catch (err) {
      v('uncaught', `finish: ${describeThrown(err)}`);
      stop = true;
    }
  }
  sample();
  if (analyzer !== null && !stop) {
    const st = analyzer.decoder.stats;
    const table = analyzer.table;
    a.frames = st.frames;
    a.tcp = st.tcp;
    a.evicted = table.evicted;
    if (analyzer.frames !== a.yielded || st.frames !== a.yielded) {
      v('accounting-frames', `yielded ${a.yielded}, analyzer.frames ${analyzer.frames}, stats.frames ${st.frames}`);
    }
    const parts = st.tcp + st.notTcp + st.fragments + st.tooShort + st.malformed + st.unknownLinkType;
    if (parts !== st.frames) {
      v('accounting-partition', `frames ${st.frames} != tcp ${st.tcp} + notTcp ${st.notTcp} + fragments ${st.fragments} + tooShort ${st.tooShort} + malformed ${st.malformed} + unknownLinkType ${st.unknownLinkType}`);
    }
    // Stragglers of an evicted connection count in packetsOfEvicted; those of a connection already finished and
    // emitted (a FIN retransmitted after the grace period) in latePackets.
    if (packetSum + table.packetsOfEvicted + table.latePackets !== st.tcp) {
      v('accounting-packets', `Σ record packets ${packetSum} + packetsOfEvicted ${table.packetsOfEvicted} + latePackets ${table.latePackets} != tcp ${st.tcp}`);
    }
    if (a.records !== analyzer.records) v('accounting-records', `${a.records} records received, analyzer.records ${analyzer.records}`);
    if (table.size !== 0) v('accounting-records', `${table.size} connections left in the table after finish()`);
    if (table.peakSize > o.maxConnections + 1) v('table-cap', `peak ${table.peakSize} connections held, cap ${o.maxConnections}`);
    if (table.evicted > a.records) v('accounting-records', `${table.evicted} evicted but ${a.records} records`);
    if (a.oow !== analyzer.outOfWindowRsts) v('accounting-records', `anomalies list ${a.oow} out-of-window RSTs, analyzer counted ${analyzer.outOfWindowRsts}`);
    for (const [reason] of st.problems) features.add(`prob:${reason}`);
    for (const [kind] of st.notTcpByKind) features.add(`nt:${kind}`);
    if (st.badChecksums > 0) features.add('badck');
    if (table.evicted > 0) features.add('evicted');
    if (table.packetsOfEvicted > 0) features.add('tombstone-hit');
    features.add(`conns:${Math.min(12, Math.ceil(Math.log2(a.records + 1)))}`);
  }
  a.recordsHash = hashA.digest('hex');
  const bound = heapBound(o.maxConnections, a.tcp || a.yielded);
  if (heapPeak > bound) {
    // The sample may include garbage: count it only if the live heap, after a full GC, is still over.
    const gc = forceGc();
    if (gc !== null) gc();
    const live = heapUsed() - h0;
    if (gc === null || live > bound) v('heap', `heap grew ${(heapPeak / 2 ** 20).toFixed(1)} MiB (live after GC ${(live / 2 ** 20).toFixed(1)} MiB), bound ${(bound / 2 ** 20).toFixed(1)} MiB`);
  }

  // --- pass B: analyzeCaptures, as the command runs it (default read size), compared with pass A
  if (o.compare && !stop && violations.every((x) => x.kind !== 'slow' && x.kind !== 'no-progress')) {
    const hashB = createHash('sha1');
    let recordsB = 0;
    try {
      const res = await analyzeCaptures(files, opts, {
        onRecord: (rec) => {
          recordsB++;
          hashB.update(JSON.stringify(rec));
        },
      });
      const s = res.summary;
      for (const e of res.errors) if (!(e instanceof CaptureError)) v('bad-error', `analyzeCaptures error ${String(e)}`);
      const errsB = res.errors.map((e) => `${e.offset}: ${e.reason}`).sort();
      const errsA = [...a.errors].sort();
      if (errsA.join('\n') !== errsB.join('\n')) v('chunking-differs', `errors differ: [${errsA.join(' | ')}] vs analyzeCaptures [${errsB.join(' | ')}]`);
      if (s.packetsRead !== a.yielded) v('chunking-differs', `analyzeCaptures read ${s.packetsRead} frames, the harness ${a.yielded}`);
      const parts = s.tcpSegments + s.notTcp + s.fragments + s.tooShort + s.malformed + s.unknownLinkType;
      if (parts !== s.packetsRead) v('summary', `summary: packetsRead ${s.packetsRead} != sum of outcomes ${parts}`);
      const fileFrames = s.files.reduce((x, f) => x + f.frames, 0);
      if (fileFrames !== s.packetsRead) v('summary', `summary: files hold ${fileFrames} frames, packetsRead ${s.packetsRead}`);
      if (s.connections !== recordsB) v('summary', `summary: ${s.connections} connections, ${recordsB} records delivered`);
      if (recordsB !== a.records) v('chunking-differs', `analyzeCaptures gave ${recordsB} records, the harness ${a.records}`);
      else if (hashB.digest('hex') !== a.recordsHash) v('chunking-differs', 'same number of records but different contents');
      if (s.evictedConnections !== a.evicted) v('chunking-differs', `summary: ${s.evictedConnections} evicted, the harness's table ${a.evicted}`);
      if (s.outOfWindowRstsIgnored !== a.oow) v('chunking-differs', `summary: ${s.outOfWindowRstsIgnored} out-of-window RSTs, the harness's records ${a.oow}`);
    } catch (err) {
      v('uncaught', `analyzeCaptures: ${describeThrown(err)}`);
    }
  }

  const elapsedMs = performance.now() - t0;
  if (elapsedMs > o.timeBudgetMs && violations.every((x) => x.kind !== 'slow')) v('slow', `${Math.round(elapsedMs)} ms for ${bytes} bytes`);
  for (const f of files) fs.rmSync(f, { force: true });
  return {
    violations,
    bytes,
    frames: a.yielded,
    tcp: a.tcp,
    records: a.records,
    evicted: a.evicted,
    errors: a.errors,
    features: [...features],
    elapsedMs,
    heapPeakDelta: heapPeak,
  };
}

/** A stable signature of a violation (digits and frame numbers removed), to group repeated findings. */
export function signatureOf(x: Violation): string {
  return `${x.kind}: ${x.detail.replace(/0x[0-9a-f]+/gi, 'X').replace(/\d+(\.\d+)?/g, 'N').slice(0, 200)}`;
}
