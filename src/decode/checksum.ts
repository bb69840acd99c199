/**
 * The Internet checksum (RFC 1071), fast and without allocation per packet.
 *
 * Ones'-complement addition of 16-bit words is addition modulo 65535 (2^16 ≡ 1), so any sum congruent to it
 * modulo 65535 will do: we read 32-bit words through one DataView and add their two 16-bit halves, so that every
 * sum stays a small integer, little-endian because that is the native order of the machines we run on (the sum
 * of byte-swapped words is the byte-swapped sum, RFC 1071 §2(B)), and fold by shifts. A segment checks out when
 * pseudo-header + segment ≡ 0 (mod 65535): the sum is never 0 itself (the protocol number is in it), so its
 * ones'-complement fold is then 0xffff.
 */

const NO_BUFFER = new ArrayBuffer(0);
/** Bytes summed between two folds: 2^14 halves of < 2^16 each stay below 2^30, a small integer. */
const BLOCK = 32768;

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

function sumView(dv: DataView<ArrayBufferLike>, from: number, e: number): number {
  let i = from;
  let x = 0;
  let y = 0;
  // Each 32-bit word adds its two 16-bit halves: small integers all along, no doubles and no division (a block's
  // halves sum to less than 2^30), folded at the end of each block.
  while (e - i >= 32) {
    const stop = (e - i > BLOCK ? i + BLOCK : e) - 31;
    for (; i < stop; i += 32) {
      let a = dv.getInt32(i, true);
      let b = dv.getInt32(i + 4, true);
      let c = dv.getInt32(i + 8, true);
      let d = dv.getInt32(i + 12, true);
      x += (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff) + (c >>> 16) + (c & 0xffff) + (d >>> 16) + (d & 0xffff);
      a = dv.getInt32(i + 16, true);
      b = dv.getInt32(i + 20, true);
      c = dv.getInt32(i + 24, true);
      d = dv.getInt32(i + 28, true);
      y += (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff) + (c >>> 16) + (c & 0xffff) + (d >>> 16) + (d & 0xffff);
    }
    x = (x & 0xffff) + (x >>> 16) + (y & 0xffff) + (y >>> 16);
    y = 0;
  }
  for (; e - i >= 4; i += 4) {
    const a = dv.getInt32(i, true);
    x += (a >>> 16) + (a & 0xffff);
  }
  x = (x & 0xffff) + (x >>> 16);
  x = (x & 0xffff) + (x >>> 16);
  // Back from the byte-swapped domain: swapping the bytes of x (<= 65535) keeps it congruent, RFC 1071 §2(B).
  let sum = ((x & 0xff) << 8) | (x >>> 8);
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
