/**
 * The record a capture source hands to the decoders: one captured frame.
 *
 * A source reuses ONE RawPacket object for every frame it yields (no allocation per packet on the hot path):
 * the fields, and the bytes `data[offset, offset + capLen)`, are valid only until the source is asked for the
 * next packet. A consumer that needs to keep anything copies it.
 */
export interface RawPacket {
  /** Buffer holding the frame bytes (owned by the source, overwritten later). */
  data: Buffer;
  /** Where the frame starts in `data`. */
  offset: number;
  /** Bytes captured (may be less than origLen when the snap length cut the frame). */
  capLen: number;
  /** Bytes the frame had on the wire. */
  origLen: number;
  /** LINKTYPE_* value of the interface the frame was captured on (pcapng: per interface). */
  linkType: number;
  /** Timestamp: whole seconds since the epoch (UTC). */
  tsSec: number;
  /** Timestamp: nanoseconds within the second, 0..999_999_999, exact at the file's own resolution. */
  tsNs: number;
  /** Digits of sub-second resolution the file really has (6 for µs pcap, 9 for ns pcap, per pcapng if_tsresol). */
  tsDigits: number;
  /** Frame number, 1-based, in the order Wireshark numbers the frames of this source. */
  frame: number;
  /** Index of the source (file) in the run, 0-based, in the order the user named them. */
  source: number;
  /** Byte offset of this record's header in the (decompressed) source, for error messages and --verbose. */
  fileOffset: number;
  /** pcapng interface id (0 for classic pcap and live capture). */
  interfaceId: number;
}

export function newRawPacket(): RawPacket {
  return {
    data: Buffer.alloc(0),
    offset: 0,
    capLen: 0,
    origLen: 0,
    linkType: 1,
    tsSec: 0,
    tsNs: 0,
    tsDigits: 6,
    frame: 0,
    source: 0,
    fileOffset: 0,
    interfaceId: 0,
  };
}

/** A damaged or unreadable capture: names the file, the byte offset and the reason. */
export class CaptureError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${file}: at byte ${offset}: ${reason}`);
    this.name = 'CaptureError';
  }
}
