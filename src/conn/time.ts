/** Capture timestamps are kept exact as (seconds, nanoseconds); these helpers turn them into text or floats. */

/** Seconds as a float, for thresholds and gaps (sub-microsecond precision is not needed there). */
export function toSeconds(sec: number, ns: number): number {
  return sec + ns * 1e-9;
}

// Records are built in bursts of packets from the same second: formatting the date part once per second (a
// one-entry cache) instead of a Date and toISOString per timestamp keeps record building cheap.
let cachedSec = Number.NaN;
let cachedBase = '';

/** ISO 8601 UTC with as many fractional digits as the capture has (6 for µs pcap, 9 for ns). */
export function isoTime(sec: number, ns: number, digits: number): string {
  if (sec !== cachedSec) {
    cachedSec = sec;
    cachedBase = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  if (digits <= 0) return `${cachedBase}Z`;
  const d = digits > 9 ? 9 : digits;
  // ns < 1e9: pad to 9 digits, keep the capture's own resolution.
  const frac = (1e9 + ns).toString().slice(1, 1 + d);
  return `${cachedBase}.${frac}Z`;
}
