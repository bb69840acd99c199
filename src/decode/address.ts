/**
 * Addresses travel through the hot path as 32-bit words (see TcpSegment). They are turned into text only when a
 * connection is created or printed, never per packet.
 */

export function formatIPv4(word: number): string {
  return `${word >>> 24}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`;
}

/** IPv6 in the RFC 5952 canonical form: lower case, leading zeros dropped, the longest run of zero groups as "::". */
export function formatIPv6(words: ArrayLike<number>): string {
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = words[i]! >>> 0;
    groups.push(w >>> 16, w & 0xffff);
  }
  // Longest run of at least two zero groups (RFC 5952 §4.2.2: a single zero group is not shortened).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // IPv4-mapped addresses (::ffff:a.b.c.d) are written with the dotted quad, as RFC 5952 §5 recommends.
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(words[3]! >>> 0)}`;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

export function formatAddress(version: 4 | 6, words: ArrayLike<number>): string {
  return version === 4 ? formatIPv4(words[0]! >>> 0) : formatIPv6(words);
}
