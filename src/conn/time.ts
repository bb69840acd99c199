/** Capture timestamps are kept exact as (seconds, nanoseconds); these helpers turn them into text or floats. */

/** Seconds as a float, for thresholds and gaps (sub-microsecond precision is not needed there). */
export function toSeconds(sec: number, ns: number): number {
  return sec + ns * 1e-9;
}

// Records are built in bursts of timestamps from a few seconds (a connection's start and end, its ladder):
// formatting the date part once per second, with a two-entry cache so that start and end do not evict each other,
// instead of a Date and toISOString per timestamp keeps record building cheap.
let secA = Number.NaN;
let baseA = '';
let secB = Number.NaN;
let baseB = '';
let nextSlotB = false;

function dateBase(sec: number): string {
  if (sec === secA) return baseA;
  if (sec === secB) return baseB;
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  if (nextSlotB) {
    secB = sec;
    baseB = base;
  } else {
    secA = sec;
    baseA = base;
  }
  nextSlotB = !nextSlotB;
  return base;
}

/** Seconds of 0000-01-01 and 9999-12-31T23:59:59: the years ISO 8601's basic form can write. */
const MIN_ISO_SEC = -62_167_219_200;
const MAX_ISO_SEC = 253_402_300_799;

/**
 * ISO 8601 UTC with as many fractional digits as the capture has (6 for µs pcap, 9 for ns). A timestamp outside
 * the years 0000–9999 (a damaged or crafted capture: pcapng ticks are 64-bit) cannot be written that way; it is
 * written as "@" and the epoch seconds instead, so that nothing is lost and nothing throws.
 */
export function isoTime(sec: number, ns: number, digits: number): string {
  const d = digits > 9 ? 9 : digits;
  const frac = d <= 0 ? '' : `.${(1e9 + ns).toString().slice(1, 1 + d)}`;
  if (!(sec >= MIN_ISO_SEC && sec <= MAX_ISO_SEC)) return `@${sec}${frac}`;
  const base = dateBase(sec);
  return `${base}${frac}Z`;
}
