/**
 * `--format zeek` and `--format zeek-json`: a Zeek conn.log, written the way Zeek's ASCII log writer writes it,
 * so that zeek-cut and the pipelines built for Zeek's logs read it unchanged.
 *
 * TSV (zeek/zeek src/logging/writers/ascii/Ascii.cc): the meta lines `#separator \x09`, `#set_separator`,
 * `#empty_field (empty)`, `#unset_field -`, `#path conn`, `#open <time>`, `#fields`, `#types`, then one line per
 * connection, and `#close <time>` at the end. Unset fields are `-`, empty strings and sets `(empty)`; times and
 * intervals have six decimals; #open/#close are the wall clock in local time, as Zeek writes them.
 *
 * JSON (LogAscii::use_json): one object per line with Zeek's field names, unset fields left out, `ts` as epoch
 * seconds.
 *
 * The columns are Zeek's conn.log columns, in Zeek's order (including `ip_proto`, which current Zeek logs after
 * `tunnel_parents`), then ours, prefixed `teardown_`. The originator is our client. docs/interop.md says where a
 * value is computed differently from Zeek.
 */
import type { ConnectionRecord } from '../classify/record.js';
import { StreamWriter, type RecordSink, type TextOut } from './sink.js';

/** conn.log's columns and Zeek types, then the teardown columns. */
export const ZEEK_CONN_COLUMNS = [
  ['ts', 'time'],
  ['uid', 'string'],
  ['id.orig_h', 'addr'],
  ['id.orig_p', 'port'],
  ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'],
  ['proto', 'enum'],
  ['service', 'string'],
  ['duration', 'interval'],
  ['orig_bytes', 'count'],
  ['resp_bytes', 'count'],
  ['conn_state', 'string'],
  ['local_orig', 'bool'],
  ['local_resp', 'bool'],
  ['missed_bytes', 'count'],
  ['history', 'string'],
  ['orig_pkts', 'count'],
  ['orig_ip_bytes', 'count'],
  ['resp_pkts', 'count'],
  ['resp_ip_bytes', 'count'],
  ['tunnel_parents', 'set[string]'],
  ['ip_proto', 'count'],
  ['teardown_ending', 'string'],
  ['teardown_cause', 'string'],
  ['teardown_closer', 'string'],
  ['teardown_app_client', 'string'],
  ['teardown_app_server', 'string'],
] as const;
export type ZeekConnColumn = (typeof ZEEK_CONN_COLUMNS)[number][0];

/** A value: `null` is unset (`-`). Times are kept as whole seconds and microseconds so they print exactly. */
type ZeekValue = null | string | number | boolean | { seconds: number; micros: number } | readonly string[];

const UNSET = '-';
const EMPTY = '(empty)';
const IP_PROTO_TCP = 6;

/** Epoch seconds and microseconds of a record time (ISO 8601 UTC at any resolution); Zeek reads traces in µs. */
export function epochOf(iso: string): { seconds: number; micros: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/.exec(iso);
  if (m === null) return { seconds: 0, micros: 0 };
  const seconds = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
  const frac = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  return { seconds, micros: Number(frac) };
}

/** Microseconds as Zeek prints a time or interval: six decimals. */
function fixed6(seconds: number, micros: number): string {
  return `${seconds}.${String(micros).padStart(6, '0')}`;
}

/** A stable connection uid in Zeek's shape ("C" and base62), from the record's id, tuple and start. */
export function zeekUid(r: ConnectionRecord): string {
  const text = `${r.id}|${r.client.ip}|${r.client.port}|${r.server.ip}|${r.server.port}|${r.start}`;
  // Three FNV-1a lanes with different offsets: 96 bits, as many as Zeek's random uids carry.
  let value = 0n;
  for (const seed of [0x811c9dc5, 0x01000193 ^ 0x5bd1e995, 0x9e3779b9]) {
    let h = seed >>> 0;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    value = (value << 32n) | BigInt(h >>> 0);
  }
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  do {
    out = digits[Number(value % 62n)]! + out;
    value /= 62n;
  } while (value > 0n);
  return `C${out}`;
}

/** The record's value for every column (the compiler checks that each column has one). */
export function zeekValues(r: ConnectionRecord): Record<ZeekConnColumn, ZeekValue> {
  // Outputs that write conn.log always run with Zeek's view followed; without it the fields are unset.
  const z = r.zeekConn ?? { duration: null, origBytes: null, respBytes: null, missedBytes: null };
  const dur = z.duration === null ? null : Math.round(z.duration * 1e6);
  return {
    ts: epochOf(r.start),
    uid: zeekUid(r),
    'id.orig_h': r.client.ip,
    'id.orig_p': r.client.port,
    'id.resp_h': r.server.ip,
    'id.resp_p': r.server.port,
    proto: 'tcp',
    // We identify no application protocols; Zeek leaves service unset then.
    service: null,
    duration: dur === null ? null : { seconds: Math.floor(dur / 1e6), micros: dur % 1e6 },
    orig_bytes: z.origBytes,
    resp_bytes: z.respBytes,
    conn_state: r.zeekConnState,
    // Unset, as in Zeek when Site::local_nets is empty.
    local_orig: null,
    local_resp: null,
    missed_bytes: z.missedBytes,
    // Zeek logs no history when it is empty.
    history: r.zeekHistory === '' ? null : r.zeekHistory,
    orig_pkts: r.packets.client,
    // The decoder does not hand the IP total length on; unset rather than a guess.
    orig_ip_bytes: null,
    resp_pkts: r.packets.server,
    resp_ip_bytes: null,
    // The outer connection of a tunnel is not logged (we log TCP only), so there is no uid to point to.
    tunnel_parents: null,
    ip_proto: IP_PROTO_TCP,
    teardown_ending: r.ending,
    teardown_cause: r.cause,
    teardown_closer: r.closer,
    teardown_app_client: r.appView.client,
    teardown_app_server: r.appView.server,
  };
}

/**
 * A string as Zeek's ASCII writer escapes it: the separator, control and non-ASCII bytes as \xHH, and a value
 * that would read as the unset or empty marker escaped too.
 */
export function escapeZeek(s: string): string {
  if (s === '') return EMPTY;
  if (s === UNSET) return '\\x2d';
  if (s === EMPTY) return '\\x28empty)';
  let out = '';
  // Byte by byte, as Zeek escapes: a character outside ASCII becomes the \xHH of each of its UTF-8 bytes.
  for (const c of Buffer.from(s, 'utf8')) {
    if (c < 0x20 || c >= 0x7f || c === 0x5c) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(c);
  }
  return out;
}

function tsvField(v: ZeekValue): string {
  if (v === null) return UNSET;
  if (typeof v === 'string') return escapeZeek(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (Array.isArray(v)) return v.length === 0 ? EMPTY : v.map(escapeZeek).join(',');
  const t = v as { seconds: number; micros: number };
  return fixed6(t.seconds, t.micros);
}

function jsonField(v: Exclude<ZeekValue, null>): unknown {
  if (typeof v === 'object' && !Array.isArray(v)) {
    const t = v as { seconds: number; micros: number };
    return t.seconds + t.micros / 1e6;
  }
  return v;
}

/** One conn.log line (TSV, no newline). */
export function recordToZeekTsv(r: ConnectionRecord): string {
  const v = zeekValues(r);
  return ZEEK_CONN_COLUMNS.map(([name]) => tsvField(v[name])).join('\t');
}

/** One conn.log entry as Zeek's JSON writer writes it (no newline). */
export function recordToZeekJson(r: ConnectionRecord): string {
  const v = zeekValues(r);
  const o: Record<string, unknown> = {};
  for (const [name] of ZEEK_CONN_COLUMNS) {
    const x = v[name];
    if (x !== null) o[name] = jsonField(x);
  }
  return JSON.stringify(o);
}

/** `%Y-%m-%d-%H-%M-%S` in local time, as Zeek's #open and #close. */
export function zeekLogTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

export interface ZeekWriterOptions {
  /** The wall clock for #open and #close (tests pass a fixed one). */
  now?: () => Date;
}

export function zeekTsvHeader(open: Date): string {
  const lines = [
    '#separator \\x09',
    '#set_separator\t,',
    `#empty_field\t${EMPTY}`,
    `#unset_field\t${UNSET}`,
    '#path\tconn',
    `#open\t${zeekLogTime(open)}`,
    `#fields\t${ZEEK_CONN_COLUMNS.map((c) => c[0]).join('\t')}`,
    `#types\t${ZEEK_CONN_COLUMNS.map((c) => c[1]).join('\t')}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `--format zeek`: the header first (also for an empty run), a line per record as it comes, then #close. */
export function createZeekTsvWriter(out: TextOut, opts: ZeekWriterOptions = {}): RecordSink {
  const now = opts.now ?? (() => new Date());
  const w = new StreamWriter(out);
  let headerWritten = false;
  const header = (): string => {
    if (headerWritten) return '';
    headerWritten = true;
    return zeekTsvHeader(now());
  };
  return {
    write: (record) => w.write(`${header()}${recordToZeekTsv(record)}\n`),
    drain: () => w.drain(),
    finish: () => w.flush(`${header()}#close\t${zeekLogTime(now())}\n`),
  };
}

/** `--format zeek-json`: one JSON object per line, nothing else (as Zeek with LogAscii::use_json). */
export function createZeekJsonWriter(out: TextOut): RecordSink {
  const w = new StreamWriter(out);
  return {
    write: (record) => w.write(`${recordToZeekJson(record)}\n`),
    drain: () => w.drain(),
    finish: () => w.flush(''),
  };
}
