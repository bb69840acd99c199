/**
 * Instants for the report: ISO 8601 text to epoch milliseconds (with the sub-millisecond digits kept as a
 * fraction), and the --from/--to arguments, which take a full date and time or a time of day.
 */

/** "2026-11-21T10:06:47.138596Z" → epoch ms as a float (Date.parse alone drops the digits past the third). */
export function isoToMs(iso: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso);
  if (m === null) return Date.parse(iso);
  const base = Date.parse(`${m[1]!}${m[3] ?? 'Z'}`);
  if (!Number.isFinite(base)) return Number.NaN;
  return m[2] === undefined ? base : base + Number(`0.${m[2]}`) * 1000;
}

/** Is the argument a time of day ("14:02", "14:02:30", "14:02:30.250") rather than a date and time? */
export function isTimeOfDay(text: string): boolean {
  return /^\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/.test(text.trim());
}

/** Milliseconds since midnight for a time of day, or null when it is not a valid one. */
function timeOfDayMs(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/.exec(text.trim());
  if (m === null) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || min > 59 || s > 60) return null;
  const frac = m[4] === undefined ? 0 : Number(`0.${m[4]}`);
  return ((h * 60 + min) * 60 + s + frac) * 1000;
}

export type ParsedTime = { ok: true; ms: number } | { ok: false; error: string };

/**
 * Parses a --from/--to argument. A full date and time is ISO 8601 ("2026-11-21T14:02:00Z", a space instead of
 * the T, an offset such as +01:00; no offset means UTC, the time the report prints). A time of day is taken on
 * the UTC date of the capture's first packet (`captureStartMs`); without one it is an error.
 */
export function parseTimeArg(text: string, captureStartMs: number | null): ParsedTime {
  const t = text.trim();
  if (isTimeOfDay(t)) {
    const tod = timeOfDayMs(t);
    if (tod === null) return { ok: false, error: `"${text}" is not a valid time of day` };
    if (captureStartMs === null) {
      return { ok: false, error: `"${text}" is a time of day, but the capture's date is unknown: give a date and time (2026-01-31T${t}Z)` };
    }
    const midnight = Math.floor(captureStartMs / 86_400_000) * 86_400_000;
    return { ok: true, ms: midnight + tod };
  }
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(t);
  if (m === null) return { ok: false, error: `"${text}" is neither a date and time (ISO 8601) nor a time of day (HH:MM[:SS])` };
  const tod = m[2] === undefined ? 0 : timeOfDayMs(m[2]);
  const day = Date.parse(`${m[1]!}T00:00:00Z`);
  if (tod === null || !Number.isFinite(day)) return { ok: false, error: `"${text}" is not a valid date and time` };
  let offsetMs = 0;
  const zone = m[3]?.toUpperCase();
  if (zone !== undefined && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    offsetMs = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  }
  return { ok: true, ms: day + tod - offsetMs };
}
