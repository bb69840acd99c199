/**
 * The Internet checksum (RFC 1071) without allocation. Sums are kept as plain numbers (exact up to 2^53, far
 * beyond any frame), and folded once at the end.
 */

/**
 * Sum of the big-endian 16-bit words of b[start, end), as an unfolded number. An odd last byte is padded with a
 * zero, as RFC 793 asks. High and low bytes are summed apart, eight bytes per turn, which keeps the loop to
 * plain byte loads and adds.
 */
export function sumWords(b: Buffer, start: number, end: number): number {
  let hi = 0;
  let lo = 0;
  let i = start;
  const end8 = end - 7;
  for (; i < end8; i += 8) {
    hi += b[i]! + b[i + 2]! + b[i + 4]! + b[i + 6]!;
    lo += b[i + 1]! + b[i + 3]! + b[i + 5]! + b[i + 7]!;
  }
  for (; i + 1 < end; i += 2) {
    hi += b[i]!;
    lo += b[i + 1]!;
  }
  if (i < end) hi += b[i]!;
  return hi * 256 + lo;
}

/** Folds an unfolded sum into 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  let s = sum;
  // `& 0xffff` keeps the low 16 bits even above 2^32 (ToInt32 is taken modulo 2^32).
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** The checksum field value for data whose unfolded sum (checksum field taken as 0) is `sum`. */
export function checksumOf(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}
