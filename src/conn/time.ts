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

/** ISO 8601 UTC with as many fractional digits as the capture has (6 for µs pcap, 9 for ns). */
export function isoTime(sec: number, ns: number, digits: number): string {
  const base = dateBase(sec);
  if (digits <= 0) return `${base}Z`;
  const d = digits > 9 ? 9 : digits;
  // ns < 1e9: pad to 9 digits, keep the capture's own resolution.
  const frac = (1e9 + ns).toString().slice(1, 1 + d);
  return `${base}.${frac}Z`;
}
