/** Capture timestamps are kept exact as (seconds, nanoseconds); these helpers turn them into text or floats. */

/** Seconds as a float, for thresholds and gaps (sub-microsecond precision is not needed there). */
export function toSeconds(sec: number, ns: number): number {
  return sec + ns * 1e-9;
}

/** ISO 8601 UTC with as many fractional digits as the capture has (6 for µs pcap, 9 for ns). */
export function isoTime(sec: number, ns: number, digits: number): string {
  const d = new Date(sec * 1000);
  const base = d.toISOString().slice(0, 19);
  if (digits <= 0) return `${base}Z`;
  const frac = String(ns).padStart(9, '0').slice(0, Math.min(9, digits));
  return `${base}.${frac}Z`;
}
