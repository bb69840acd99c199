/**
 * The median of a stream of durations in bounded memory: exact while a service has few values, then a histogram
 * of logarithmic buckets 1 % wide, so that the median is within 0.5 % of the exact one — finer than the two or
 * three digits a duration is printed with — and memory no longer grows with the number of connections.
 */

/** Values kept exactly before a sketch turns into a histogram. */
export const EXACT_VALUES = 1024;
/** Bucket width: each bucket spans a factor of 1.01 (the midpoint is within 0.5 % of any value in it). */
const RATIO = 1.01;
const LOG_RATIO = Math.log(RATIO);
/** Values below this (ms: one microsecond) share bucket 0. */
const FLOOR = 0.001;
/** Buckets: from a microsecond to 10^12 ms (31 years; longer values share the last bucket). */
const BUCKETS = Math.ceil(Math.log(1e12 / FLOOR) / LOG_RATIO) + 2;

export interface MedianSketch {
  /** The values, while there are at most EXACT_VALUES; null once the histogram holds them. */
  exact: number[] | null;
  /** Count per bucket (BUCKETS of them, 14 KB: only for a service past EXACT_VALUES values). */
  buckets: Uint32Array | null;
  count: number;
}

export function newMedianSketch(): MedianSketch {
  return { exact: [], buckets: null, count: 0 };
}

function bucketOf(v: number): number {
  return v < FLOOR ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(v / FLOOR) / LOG_RATIO) + 1);
}

/** The value a bucket stands for: 0 for bucket 0, else the geometric middle of its span. */
function valueOf(bucket: number): number {
  return bucket === 0 ? 0 : FLOOR * RATIO ** (bucket - 1) * Math.sqrt(RATIO);
}

function toBuckets(s: MedianSketch): Uint32Array {
  if (s.buckets === null) {
    s.buckets = new Uint32Array(BUCKETS);
    for (const v of s.exact!) s.buckets[bucketOf(v)]!++;
    s.exact = null;
  }
  return s.buckets;
}

export function addToSketch(s: MedianSketch, v: number): void {
  s.count++;
  if (s.exact !== null) {
    s.exact.push(v);
    if (s.exact.length > EXACT_VALUES) toBuckets(s);
    return;
  }
  s.buckets![bucketOf(v)]!++;
}

/** The median (mean of the two middle values for an even count), or null for no values. */
export function sketchMedian(s: MedianSketch): number | null {
  if (s.count === 0) return null;
  if (s.exact !== null) return exactMedian(s.exact);
  const buckets = s.buckets!;
  // The values of rank lo and hi (1-based), equal for an odd count.
  const lo = Math.floor((s.count + 1) / 2);
  const hi = Math.floor(s.count / 2) + 1;
  let seen = 0;
  let loValue = 0;
  for (let b = 0; b < BUCKETS; b++) {
    if (buckets[b] === 0) continue;
    const before = seen;
    seen += buckets[b]!;
    if (before < lo && seen >= lo) loValue = valueOf(b);
    if (seen >= hi) return (loValue + valueOf(b)) / 2;
  }
  return loValue;
}

/** The median (mean of the two middle values for an even count), or null for no values. */
export function exactMedian(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
