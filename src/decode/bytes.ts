/**
 * Big-endian reads by direct byte math. Callers check the bounds first (the decoders compare against the
 * captured end before every read), so these never see an index out of range; no DataView is made per field.
 */

export function u16(b: Buffer, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32(b: Buffer, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Little-endian 32-bit read (BSD NULL loopback headers are in the capturing host's byte order). */
export function u32le(b: Buffer, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
