/**
 * TCP sequence arithmetic modulo 2^32 (RFC 1982 style): numbers are unsigned 32-bit values held in JS numbers,
 * and comparisons go through the signed 32-bit difference so that wraparound is handled everywhere.
 */

/** a - b as a signed 32-bit distance: positive when a is "after" b. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqAfter(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqAtOrAfter(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a + n as an unsigned 32-bit sequence number. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}
