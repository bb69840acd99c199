/**
 * Mutations of capture files, as data (so that fast-check can generate and shrink them, and a failing input can be
 * replayed from its list): byte-level edits (bit flips, byte writes, insertions, deletions, copies, truncation,
 * splicing with another seed) and structure-aware ones that find the pcap record headers and pcapng blocks of the
 * input and corrupt a length, timestamp, interface, link type or option field with values chosen to hit the
 * reader's edge cases, or insert, drop, duplicate and swap whole records.
 */
import * as fc from 'fast-check';
import { gzipSync } from 'node:zlib';

/** A field of the file structure that structure-aware mutations may corrupt. */
export interface Field {
  offset: number;
  size: 2 | 4 | 8;
  le: boolean;
  kind: 'length' | 'trailing-length' | 'ts-high' | 'ts-low' | 'ts-frac' | 'iface' | 'linktype' | 'snaplen' | 'version' | 'bom' | 'block-type' | 'option-code' | 'option-length';
}

/** A whole record (pcap record or pcapng block): where it starts and its length. */
export interface Span {
  offset: number;
  length: number;
  /** pcapng block type or -1 for a pcap record. */
  type: number;
  /** Byte order of the section. */
  le: boolean;
}

export interface Structure {
  format: 'pcap' | 'pcapng' | 'other';
  fields: Field[];
  records: Span[];
}

const MAX_WALK = 100_000;

/** Walks the pcap records or pcapng blocks of `b` as far as they are consistent (damage stops the walk). */
export function structureOf(b: Buffer): Structure {
  const out: Structure = { format: 'other', fields: [], records: [] };
  if (b.length < 4) return out;
  const m = b.readUInt32BE(0);
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) {
    out.format = 'pcap';
    const le = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
    if (b.length < 24) return out;
    out.fields.push({ offset: 4, size: 2, le, kind: 'version' }, { offset: 16, size: 4, le, kind: 'snaplen' }, { offset: 20, size: 4, le, kind: 'linktype' });
    let off = 24;
    for (let n = 0; n < MAX_WALK && off + 16 <= b.length; n++) {
      const cap = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
      out.fields.push(
        { offset: off, size: 4, le, kind: 'ts-high' },
        { offset: off + 4, size: 4, le, kind: 'ts-frac' },
        { offset: off + 8, size: 4, le, kind: 'length' },
        { offset: off + 12, size: 4, le, kind: 'length' },
      );
      if (off + 16 + cap > b.length) break;
      out.records.push({ offset: off, length: 16 + cap, type: -1, le });
      off += 16 + cap;
    }
    return out;
  }
  if (m !== 0x0a0d0d0a) return out;
  out.format = 'pcapng';
  let off = 0;
  let le = true;
  for (let n = 0; n < MAX_WALK && off + 12 <= b.length; n++) {
    let type = le ? b.readUInt32LE(off) : b.readUInt32BE(off);
    if (b.readUInt32BE(off) === 0x0a0d0d0a) {
      type = 0x0a0d0d0a;
      const bom = b.readUInt32BE(off + 8);
      if (bom === 0x1a2b3c4d) le = false;
      else if (bom === 0x4d3c2b1a) le = true;
      else break;
      out.fields.push({ offset: off + 8, size: 4, le, kind: 'bom' }, { offset: off + 12, size: 2, le, kind: 'version' });
    }
    const len = le ? b.readUInt32LE(off + 4) : b.readUInt32BE(off + 4);
    out.fields.push({ offset: off, size: 4, le, kind: 'block-type' }, { offset: off + 4, size: 4, le, kind: 'length' });
    if (len < 12 || off + len > b.length) break;
    out.fields.push({ offset: off + len - 4, size: 4, le, kind: 'trailing-length' });
    const body = off + 8;
    const end = off + len - 4;
    let optionsAt = -1;
    if (type === 6 && body + 20 <= end) {
      out.fields.push(
        { offset: body, size: 4, le, kind: 'iface' },
        { offset: body + 4, size: 4, le, kind: 'ts-high' },
        { offset: body + 8, size: 4, le, kind: 'ts-low' },
        { offset: body + 12, size: 4, le, kind: 'length' },
        { offset: body + 16, size: 4, le, kind: 'length' },
      );
    } else if (type === 2 && body + 20 <= end) {
      out.fields.push(
        { offset: body, size: 2, le, kind: 'iface' },
        { offset: body + 4, size: 4, le, kind: 'ts-high' },
        { offset: body + 8, size: 4, le, kind: 'ts-low' },
        { offset: body + 12, size: 4, le, kind: 'length' },
      );
    } else if (type === 3 && body + 4 <= end) {
      out.fields.push({ offset: body, size: 4, le, kind: 'length' });
    } else if (type === 1 && body + 8 <= end) {
      out.fields.push({ offset: body, size: 2, le, kind: 'linktype' }, { offset: body + 4, size: 4, le, kind: 'snaplen' });
      optionsAt = body + 8;
    } else if (type === 5 && body + 12 <= end) {
      out.fields.push({ offset: body, size: 4, le, kind: 'iface' }, { offset: body + 4, size: 4, le, kind: 'ts-high' }, { offset: body + 8, size: 4, le, kind: 'ts-low' });
      optionsAt = body + 12;
    }
    for (let o = optionsAt, k = 0; o >= 0 && o + 4 <= end && k < 64; k++) {
      out.fields.push({ offset: o, size: 2, le, kind: 'option-code' }, { offset: o + 2, size: 2, le, kind: 'option-length' });
      const olen = le ? b.readUInt16LE(o + 2) : b.readUInt16BE(o + 2);
      if ((le ? b.readUInt16LE(o) : b.readUInt16BE(o)) === 0) break;
      o += 4 + ((olen + 3) & ~3);
    }
    out.records.push({ offset: off, length: len, type, le });
    off += len;
  }
  return out;
}

/** Values that sit on the reader's boundaries, by field kind (the current value is added by the mutator). */
const INTERESTING: Record<Field['kind'], readonly number[]> = {
  length: [0, 1, 3, 4, 8, 11, 12, 13, 15, 16, 20, 28, 32, 60, 0xffff, 0x10000, 262_143, 262_144, 262_145, 393_215, 393_216, 393_217, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff],
  'trailing-length': [0, 12, 16, 32, 0xffffffff],
  'ts-high': [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 1_700_000_000, 0x0005ffff, 0x00060000, 0x00100000],
  'ts-low': [0, 1, 999_999, 1_000_000, 999_999_999, 1_000_000_000, 0x7fffffff, 0xffffffff],
  'ts-frac': [0, 999_999, 1_000_000, 999_999_999, 1_000_000_000, 0xffffffff],
  iface: [0, 1, 2, 255, 0xffff, 0xffffffff],
  linktype: [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 0xffff, 0x10001, 0x0fff0001],
  snaplen: [0, 1, 64, 65535, 262_144, 0xffffffff],
  version: [0, 1, 2, 3, 0xffff],
  bom: [0x1a2b3c4d, 0x4d3c2b1a, 0, 0xffffffff],
  'block-type': [0x0a0d0d0a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xbad, 0x40000bad, 0x204, 0x216, 0x221, 0x80000001, 0xffffffff],
  'option-code': [0, 1, 2, 9, 14, 2988, 2989, 19372, 19373, 0xffff],
  'option-length': [0, 1, 4, 8, 9, 0xfff0, 0xffff],
};

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; len: number }
  | { op: 'copy'; from: number; to: number; len: number }
  | { op: 'truncate'; at: number }
  | { op: 'splice'; other: number; at: number; from: number }
  | { op: 'field'; pick: number; value: number; interesting: boolean; delta: number }
  | { op: 'record'; action: 'drop' | 'dup' | 'swap' | 'shift-time'; pick: number; amount: number }
  | { op: 'idb-option'; pick: number; code: 9 | 14; value: number[] }
  | { op: 'block'; at: number; type: number; body: number[] };

function writeField(b: Buffer, f: Field, v: number): void {
  if (f.offset + f.size > b.length) return;
  if (f.size === 2) {
    if (f.le) b.writeUInt16LE(v & 0xffff, f.offset);
    else b.writeUInt16BE(v & 0xffff, f.offset);
  } else if (f.size === 4) {
    if (f.le) b.writeUInt32LE(v >>> 0, f.offset);
    else b.writeUInt32BE(v >>> 0, f.offset);
  }
}

function readField(b: Buffer, f: Field): number {
  if (f.offset + f.size > b.length) return 0;
  if (f.size === 2) return f.le ? b.readUInt16LE(f.offset) : b.readUInt16BE(f.offset);
  return f.le ? b.readUInt32LE(f.offset) : b.readUInt32BE(f.offset);
}

function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

/** A pcapng block in the given byte order, with right lengths. */
function pcapngBlock(type: number, body: Buffer, le: boolean): Buffer {
  const padded = Buffer.alloc((body.length + 3) & ~3);
  body.copy(padded);
  const total = 12 + padded.length;
  return Buffer.concat([u32(type, le), u32(total, le), padded, u32(total, le)]);
}

/** Largest input a mutation may produce (inputs stay small enough that one run takes milliseconds). */
export const MAX_MUTATED_BYTES = 4 << 20;

/** Applies one mutation to `b` (a copy is returned when the length changes). `others` are splice partners. */
export function applyMutation(input: Buffer, m: Mutation, others: readonly Buffer[]): Buffer {
  let b = input;
  const n = b.length;
  switch (m.op) {
    case 'flip':
      if (n > 0) b[m.at % n]! ^= 1 << (m.bit & 7);
      return b;
    case 'set':
      if (n > 0) b[m.at % n] = m.value & 0xff;
      return b;
    case 'insert': {
      const at = n === 0 ? 0 : m.at % (n + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    }
    case 'delete': {
      if (n === 0) return b;
      const at = m.at % n;
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(n, at + m.len))]);
    }
    case 'copy': {
      if (n === 0) return b;
      const from = m.from % n;
      const to = m.to % n;
      const piece = Buffer.from(b.subarray(from, Math.min(n, from + m.len)));
      return Buffer.concat([b.subarray(0, to), piece, b.subarray(to)]);
    }
    case 'truncate':
      return n === 0 ? b : b.subarray(0, m.at % n);
    case 'splice': {
      if (others.length === 0) return b;
      const o = others[m.other % others.length]!;
      const at = n === 0 ? 0 : m.at % n;
      const from = o.length === 0 ? 0 : m.from % o.length;
      return Buffer.concat([b.subarray(0, at), o.subarray(from)]);
    }
    case 'field': {
      const s = structureOf(b);
      if (s.fields.length === 0) return b;
      const f = s.fields[m.pick % s.fields.length]!;
      const cur = readField(b, f);
      const list = INTERESTING[f.kind];
      const v = m.interesting ? list[m.value % list.length]! : cur + m.delta;
      writeField(b, f, v);
      return b;
    }
    case 'record': {
      const s = structureOf(b);
      const recs = s.records.filter((r) => r.type !== 0x0a0d0d0a);
      if (recs.length === 0) return b;
      const r = recs[m.pick % recs.length]!;
      const bytes = b.subarray(r.offset, r.offset + r.length);
      switch (m.action) {
        case 'drop':
          return Buffer.concat([b.subarray(0, r.offset), b.subarray(r.offset + r.length)]);
        case 'dup':
          return Buffer.concat([b.subarray(0, r.offset + r.length), bytes, b.subarray(r.offset + r.length)]);
        case 'swap': {
          const i = recs.indexOf(r);
          const q = recs[i + 1];
          if (q === undefined || q.offset !== r.offset + r.length) return b;
          return Buffer.concat([b.subarray(0, r.offset), b.subarray(q.offset, q.offset + q.length), bytes, b.subarray(q.offset + q.length)]);
        }
        case 'shift-time': {
          // Moves a record's time by `amount` seconds (negative: backwards), keeping its sub-second part.
          const f = s.fields.find((x) => x.kind === 'ts-high' && x.offset >= r.offset && x.offset < r.offset + r.length);
          if (f === undefined) return b;
          if (s.format === 'pcap') writeField(b, f, readField(b, f) + m.amount);
          else writeField(b, f, readField(b, f) + (m.amount >> 12)); // µs ticks: the high word is ~71.6 minutes
          return b;
        }
      }
      return b;
    }
    case 'idb-option': {
      // Inserts an if_tsresol (9) or if_tsoffset (14) option into an IDB, keeping the block lengths right.
      const s = structureOf(b);
      const idbs = s.records.filter((r) => r.type === 1 && r.length >= 20);
      if (idbs.length === 0) return b;
      const r = idbs[m.pick % idbs.length]!;
      const le = r.le;
      const value = Buffer.from(m.code === 9 ? m.value.slice(0, 1) : m.value.slice(0, 8));
      if (m.code === 14 && value.length < 8) return b;
      const opt = Buffer.alloc(4 + ((value.length + 3) & ~3));
      if (le) {
        opt.writeUInt16LE(m.code, 0);
        opt.writeUInt16LE(value.length, 2);
      } else {
        opt.writeUInt16BE(m.code, 0);
        opt.writeUInt16BE(value.length, 2);
      }
      value.copy(opt, 4);
      // The options start after linktype, reserved and snaplen; put the new option first.
      const at = r.offset + 16;
      const total = r.length + opt.length;
      const head = Buffer.from(b.subarray(r.offset, at));
      if (le) head.writeUInt32LE(total, 4);
      else head.writeUInt32BE(total, 4);
      const tail = Buffer.from(b.subarray(at, r.offset + r.length));
      if (le) tail.writeUInt32LE(total, tail.length - 4);
      else tail.writeUInt32BE(total, tail.length - 4);
      // A block without options needs an end-of-options after the new one only if it had none.
      return Buffer.concat([b.subarray(0, r.offset), head, opt, tail, b.subarray(r.offset + r.length)]);
    }
    case 'block': {
      const s = structureOf(b);
      if (s.format !== 'pcapng' || s.records.length === 0) return b;
      const r = s.records[m.at % s.records.length]!;
      const blk = pcapngBlock(m.type, Buffer.from(m.body), r.le);
      const at = r.offset + r.length;
      return Buffer.concat([b.subarray(0, at), blk, b.subarray(at)]);
    }
  }
}

/** Applies a list of mutations in order, on a copy of `seed`; optionally gzips the result. */
export function mutate(seed: Buffer, ms: readonly Mutation[], others: readonly Buffer[], gzip = false): Buffer {
  let b: Buffer = Buffer.from(seed);
  for (const m of ms) {
    b = applyMutation(b, m, others);
    if (b.length > MAX_MUTATED_BYTES) b = b.subarray(0, MAX_MUTATED_BYTES);
  }
  return gzip ? gzipSync(b, { level: 1 }) : b;
}

// ---------------------------------------------------------------- fast-check arbitraries

const pos = fc.nat({ max: 0x7fffffff });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: pos, bit: fc.nat({ max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: pos, value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x45, 0x60, 0x06) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: pos, bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 24 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copy' as const), from: pos, to: pos, len: fc.integer({ min: 1, max: 2048 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: pos }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), other: fc.nat(), at: pos, from: pos }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('field' as const),
      pick: pos,
      value: fc.nat({ max: 64 }),
      interesting: fc.boolean(),
      delta: fc.integer({ min: -70000, max: 70000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('record' as const),
      action: fc.constantFrom('drop' as const, 'dup' as const, 'swap' as const, 'shift-time' as const),
      pick: pos,
      amount: fc.integer({ min: -100_000, max: 100_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('idb-option' as const),
      pick: pos,
      code: fc.constantFrom(9 as const, 14 as const),
      value: fc.array(fc.nat({ max: 255 }), { minLength: 8, maxLength: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('block' as const),
      at: pos,
      type: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xbad, 0x40000bad, 0x204, 0x216, 0x221, 0x80001234),
      body: fc.array(fc.nat({ max: 255 }), { maxLength: 48 }),
    }),
  },
);

/** One fuzz case: a seed, the mutations applied to it, optionally a second file (merge), gzip, the run settings. */
export interface CaptureCase {
  seed: number;
  mutations: Mutation[];
  gzip: boolean;
  /** A second input (another mutated seed) analysed merged with the first, as several files are. */
  second: { seed: number; mutations: Mutation[] } | null;
  maxConnections: number;
  graceSeconds: number;
  chunkSize: number;
  stream: boolean;
}

export function captureCaseArb(seedCount: number): fc.Arbitrary<CaptureCase> {
  const seedIdx = fc.nat({ max: Math.max(0, seedCount - 1) });
  const muts = fc.array(mutationArb, { minLength: 1, maxLength: 8 });
  return fc.record({
    seed: seedIdx,
    mutations: muts,
    gzip: fc.nat({ max: 9 }).map((n) => n === 0),
    second: fc.option(fc.record({ seed: seedIdx, mutations: fc.array(mutationArb, { maxLength: 3 }) }), { freq: 6 }),
    maxConnections: fc.constantFrom(1, 2, 3, 8, 64, 100_000),
    graceSeconds: fc.constantFrom(0, 1, 10),
    chunkSize: fc.constantFrom(1, 7, 64, 4096, 65536, 1 << 20),
    stream: fc.boolean(),
  });
}
