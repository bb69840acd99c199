/**
 * Helpers shared by the renderers: durations, counts, endpoints, colour, sanitising and wrapping.
 *
 * Everything here is pure: colour is applied only when the caller enables it, and nothing reads
 * process.stdout. The CLI decides once (shouldUseColor) and passes the answer down.
 */
import type { Endpoint } from '../classify/record.js';

// ---------------------------------------------------------------------------------------------- durations

const MS_PER_S = 1000;
const MS_PER_MIN = 60 * MS_PER_S;
const MS_PER_H = 60 * MS_PER_MIN;

/**
 * A duration for people: "0.4 ms", "850 ms", "6.0 s", "4 min 3 s", "2 h 5 min", "3 d 4 h".
 * Each unit is chosen after rounding, so 999.6 ms prints as "1.0 s", never "1000 ms".
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 10) {
    // Sub-10 ms values keep one decimal (LAN round trips are often well below 1 ms).
    const r = Math.round(ms * 10) / 10;
    if (r < 10) return `${r === Math.trunc(r) ? r.toFixed(0) : r.toFixed(1)} ms`;
  }
  const msR = Math.round(ms);
  if (msR < MS_PER_S) return `${msR} ms`;
  const tenthsOfS = Math.round(ms / 100);
  if (tenthsOfS < 600) return `${(tenthsOfS / 10).toFixed(1)} s`;
  const s = Math.round(ms / MS_PER_S);
  if (s < 3600) return joinUnits(Math.floor(s / 60), 'min', s % 60, 's');
  const min = Math.round(ms / MS_PER_MIN);
  if (min < 24 * 60) return joinUnits(Math.floor(min / 60), 'h', min % 60, 'min');
  const h = Math.round(ms / MS_PER_H);
  return joinUnits(Math.floor(h / 24), 'd', h % 24, 'h');
}

function joinUnits(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
}

/** Milliseconds with three decimals (microsecond resolution), for the ladder's time column. */
export function formatRelMs(relSeconds: number): string {
  return (relSeconds * MS_PER_S).toFixed(3);
}

/** Milliseconds between two ISO 8601 instants (millisecond precision is enough for spans and gaps). */
export function isoSpanMs(start: string, end: string): number | null {
  const a = Date.parse(start);
  const b = Date.parse(end);
  return Number.isFinite(a) && Number.isFinite(b) ? b - a : null;
}

// ---------------------------------------------------------------------------------------------- numbers

/** An integer with thousands separators ("12,345"), independent of the locale the process runs in. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  const digits = String(Math.trunc(Math.abs(n)));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return neg ? `-${out}` : out;
}

const BYTE_UNITS = ['kB', 'MB', 'GB', 'TB'] as const;

/** Bytes for people, decimal units as file managers show them: "512 B", "3.2 MB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1000) return `${n} B`;
  let v = n;
  let unit = 'B';
  for (const u of BYTE_UNITS) {
    if (v < 1000) break;
    v /= 1000;
    unit = u;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${unit}`;
}

/** "1 connection", "3 connections". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

// ---------------------------------------------------------------------------------------------- endpoints

/** "192.0.2.1:80", "[2001:db8::1]:443" (RFC 3986 brackets, as browsers and ss print IPv6 endpoints). */
export function formatEndpoint(ep: Endpoint): string {
  return ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

// ---------------------------------------------------------------------------------------------- text safety

/**
 * Control characters (C0 including TAB/LF, DEL, C1) and the bidirectional overrides that can make terminal
 * text lie about what it says. Anything from a capture (file names, notes) passes through sanitize() first.
 */
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** One line of terminal-safe text: every control character becomes '?'. */
export function sanitize(text: string): string {
  return text.replace(UNSAFE_CHARS, '?');
}

const ASCII_MAP: Record<string, string> = {
  '→': '->',
  '←': '<-',
  '↔': '<->',
  '—': '-',
  '–': '-',
  '…': '...',
  '·': '.',
  '§': 'S',
  '‘': "'",
  '’': "'",
  '“': '"',
  '”': '"',
  '×': 'x',
  '≥': '>=',
  '≤': '<=',
  '≈': '~',
  '\u00a0': ' ',
};

/** Replaces the typographic characters the renderers use by ASCII look-alikes, and anything else non-ASCII by '?'. */
export function toAscii(text: string): string {
  return text.replace(/[^\u0000-\u007f]/g, (ch) => ASCII_MAP[ch] ?? '?');
}

/** Typographic glyphs, with an ASCII set for terminals and logs that cannot show Unicode. */
export interface Glyphs {
  arrow: string;
  dash: string;
  ellipsis: string;
  dot: string;
}

export const UNICODE_GLYPHS: Glyphs = { arrow: '→', dash: '—', ellipsis: '…', dot: '·' };
export const ASCII_GLYPHS: Glyphs = { arrow: '->', dash: '-', ellipsis: '...', dot: '.' };

export function glyphs(ascii: boolean | undefined): Glyphs {
  return ascii === true ? ASCII_GLYPHS : UNICODE_GLYPHS;
}

// ---------------------------------------------------------------------------------------------- colour

/** ANSI SGR wrappers; identity functions when colour is off, so callers never branch on it. */
export interface Colors {
  readonly enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  magenta(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

function sgr(open: number, close: number): (s: string) => string {
  return (s) => (s === '' ? s : `\u001b[${open}m${s}\u001b[${close}m`);
}

const identity = (s: string): string => s;

const ON: Colors = {
  enabled: true,
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  blue: sgr(34, 39),
  magenta: sgr(35, 39),
  cyan: sgr(36, 39),
  bold: sgr(1, 22),
  dim: sgr(2, 22),
};

const OFF: Colors = {
  enabled: false,
  red: identity,
  green: identity,
  yellow: identity,
  blue: identity,
  magenta: identity,
  cyan: identity,
  bold: identity,
  dim: identity,
};

export function colors(enabled: boolean | undefined): Colors {
  return enabled === true ? ON : OFF;
}

/**
 * Whether to colour output. An explicit choice wins (a `--color`/`--no-color` flag, as no-color.org allows);
 * 'auto' colours a terminal unless NO_COLOR is set to a non-empty value or TERM is "dumb".
 */
export function shouldUseColor(
  choice: boolean | 'auto',
  isTTY: boolean | undefined,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (choice !== 'auto') return choice;
  const noColor = env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return isTTY === true;
}

const ANSI_SGR = /\u001b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_SGR, '');
}

/** Cuts plain text to `width` columns, marking the cut with the ellipsis. */
export function truncate(text: string, width: number, ellipsis = '…'): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  const keep = Math.max(0, width - [...ellipsis].length);
  return chars.slice(0, keep).join('') + ellipsis;
}

// ---------------------------------------------------------------------------------------------- wrapping

/**
 * Word-wraps plain text to `width` columns. Newlines in the text are kept as hard breaks, spacing between words
 * is kept (the renderers use double spaces as separators) but dropped where a line breaks, and a word longer
 * than the width is split. Returns the lines (without indentation); the text is sanitised line by line, so
 * the result is safe to print.
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, Math.floor(width));
  const out: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    // Each token is a word with the spaces before it.
    const tokens = sanitize(paragraph).match(/ *[^ ]+/g) ?? [];
    let line = '';
    let lineLen = 0;
    for (const token of tokens) {
      const word = token.trimStart();
      let chars = [...word];
      const gap = token.length - word.length;
      if (lineLen > 0 && lineLen + gap + chars.length <= w) {
        line += token;
        lineLen += gap + chars.length;
        continue;
      }
      if (lineLen > 0) {
        out.push(line);
        line = '';
        lineLen = 0;
      }
      while (chars.length > w) {
        out.push(chars.slice(0, w).join(''));
        chars = chars.slice(w);
      }
      line = chars.join('');
      lineLen = chars.length;
    }
    out.push(line);
  }
  return out;
}
