/**
 * The Internet checksum (RFC 1071), fast and without allocation per packet.
 *
 * Ones'-complement addition of 16-bit words is addition modulo 65535 (2^16 ≡ 1), so any sum congruent to it
 * modulo 65535 will do: we add whole 32-bit words read through one DataView (a 32-bit word is two 16-bit words
 * modulo 65535), little-endian because that is the native order of the machines we run on (the sum of
 * byte-swapped words is the byte-swapped sum, RFC 1071 §2(B)), and fold at the end. A segment checks out when
 * pseudo-header + segment ≡ 0 (mod 65535): the sum is never 0 itself (the protocol number is in it), so its
 * ones'-complement fold is then 0xffff.
 */

const NO_BUFFER = new ArrayBuffer(0);
/** Bytes added between two reductions: 2^14 words of < 2^32 each stay far below 2^53. */
const BLOCK = 65536;

/**
 * One DataView over the memory of the last buffer summed. Module state rather than a field: V8 optimises the
 * loop better this way. It is made again only when the memory changes (a capture source reuses its chunk), so
 * nothing is allocated per packet; and the Buffer's `buffer`/`byteOffset` getters, which are not free, are
 * read only when the Buffer object changes.
 */
let lastBuffer: Buffer | null = null;
let lastBase = 0;
let viewSource: ArrayBufferLike = NO_BUFFER;
let view: DataView<ArrayBufferLike> = new DataView(NO_BUFFER);

/**
 * A number in [0, 65535] congruent (mod 65535) to the sum of the big-endian 16-bit words of b[start, end), an
 * odd last byte padded with zero.
 */
export function sumWords(b: Buffer, start: number, end: number): number {
  if (b !== lastBuffer) {
    lastBuffer = b;
    lastBase = b.byteOffset;
    if (b.buffer !== viewSource) {
      viewSource = b.buffer;
      view = new DataView(b.buffer);
    }
  }
  return sumView(view, lastBase + start, lastBase + end);
}

/** x mod 65535 for 0 <= x < 2^46 (exact: the quotient is below 2^30), without the slow double `%`. */
function mod65535(x: number): number {
  return x - Math.floor(x / 65535) * 65535;
}

function sumView(dv: DataView<ArrayBufferLike>, from: number, e: number): number {
  let i = from;
  let x = 0;
  let y = 0;
  while (e - i >= 32) {
    const stop = (e - i > BLOCK ? i + BLOCK : e) - 31;
    for (; i < stop; i += 32) {
      x += dv.getUint32(i, true) + dv.getUint32(i + 4, true) + dv.getUint32(i + 8, true) + dv.getUint32(i + 12, true);
      y +=
        dv.getUint32(i + 16, true) +
        dv.getUint32(i + 20, true) +
        dv.getUint32(i + 24, true) +
        dv.getUint32(i + 28, true);
    }
    x = mod65535(x + y);
    y = 0;
  }
  for (; e - i >= 4; i += 4) x += dv.getUint32(i, true);
  // Back from the byte-swapped domain: swapping the bytes of r (< 65535) is r * 256 mod 65535.
  const r = mod65535(x);
  let sum = ((r & 0xff) << 8) | (r >>> 8);
  if (e - i >= 2) {
    sum += dv.getUint16(i);
    i += 2;
  }
  if (i < e) sum += dv.getUint8(i) << 8;
  return sum;
}

/** Sum (mod 65535) of the 16-bit halves of a 32-bit word. */
export function wordHalves(w: number): number {
  return (w >>> 16) + (w & 0xffff);
}
