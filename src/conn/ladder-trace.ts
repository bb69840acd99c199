/**
 * A bounded trace of one connection's packets for the ladder diagram and the evidence: the first packets (the
 * handshake), the first control packets after it (FIN, RST, SYN), and the last packets (the teardown). Stored in
 * typed array, 8 words a packet, so that tracing costs no allocation per packet.
 */

export const NOTE = {
  none: 0,
  retransmission: 1,
  keepAlive: 2,
  zeroWindow: 3,
  zeroWindowProbe: 4,
  outOfWindowRst: 5,
  gap: 6,
  synRetransmission: 7,
  finRetransmission: 8,
  dataAfterFin: 9,
  duplicate: 10,
} as const;
export type NoteCode = (typeof NOTE)[keyof typeof NOTE];

export const NOTE_TEXT: readonly string[] = [
  '',
  'retransmission',
  'keep-alive',
  'zero window',
  'zero-window probe',
  'out-of-window RST (ignored)',
  'previous segment not captured',
  'SYN retransmission',
  'FIN retransmission',
  'data after FIN',
  'duplicate (already acknowledged)',
];

const WORDS = 8;
const HEAD_SLOTS = 4;
const CONTROL_SLOTS = 8;
const RING_SLOTS = 16;

/** One packet as read back from the trace. */
export interface TracedPacket {
  frame: number;
  tsSec: number;
  tsNs: number;
  fromServer: boolean;
  flags: number;
  note: NoteCode;
  seq: number;
  ack: number;
  len: number;
  win: number;
}

/** 32-bit words of a whole trace: the head, control and ring slots in one array. */
export const TRACE_WORDS = (HEAD_SLOTS + CONTROL_SLOTS + RING_SLOTS) * WORDS;
const CONTROL_BASE = HEAD_SLOTS;
const RING_BASE = HEAD_SLOTS + CONTROL_SLOTS;

export class LadderTrace {
  /**
   * Head slots first, then the control slots, then the ring: one array (a view of the connection's buffer), so
   * that a connection costs one allocation, not one per region.
   */
  private readonly words: Uint32Array;
  private headN = 0;
  private controlN = 0;
  private ringN = 0;
  private ringPos = 0;

  /** Whole seconds of the connection's first packet: packet times are kept relative to it. */
  baseSec = 0;

  /** A trace with its own storage, or over `storage` (TRACE_WORDS words). */
  constructor(storage?: Uint32Array) {
    this.words = storage ?? new Uint32Array(TRACE_WORDS);
  }

  /** Empties the trace for reuse, keeping its storage (pooled connections allocate it once). */
  reset(): void {
    this.baseSec = 0;
    this.headN = 0;
    this.controlN = 0;
    this.ringN = 0;
    this.ringPos = 0;
  }

  add(
    frame: number,
    tsSec: number,
    tsNs: number,
    fromServer: boolean,
    flags: number,
    note: NoteCode,
    seq: number,
    ack: number,
    len: number,
    win: number,
  ): void {
    let slot: number;
    if (this.headN < HEAD_SLOTS) {
      slot = this.headN++;
    } else {
      // Control packets (SYN, FIN, RST) are pinned so that a long tail of keep-alives cannot push them out.
      if ((flags & 0x07) !== 0 && this.controlN < CONTROL_SLOTS) {
        slot = CONTROL_BASE + this.controlN++;
      } else {
        slot = RING_BASE + this.ringPos;
        this.ringPos = (this.ringPos + 1) % RING_SLOTS;
        if (this.ringN < RING_SLOTS) this.ringN++;
      }
    }
    this.write(this.words, slot, frame, tsSec, tsNs, fromServer, flags, note, seq, ack, len, win);
  }

  private write(
    arr: Uint32Array,
    slot: number,
    frame: number,
    tsSec: number,
    tsNs: number,
    fromServer: boolean,
    flags: number,
    note: NoteCode,
    seq: number,
    ack: number,
    len: number,
    win: number,
  ): void {
    const o = slot * WORDS;
    arr[o] = frame;
    // Seconds relative to the connection's first packet, so that any 64-bit pcapng time fits the 32-bit word
    // (read back signed; a connection spanning more than 68 years is clamped, only possible in a crafted file).
    const rel = tsSec - this.baseSec;
    arr[o + 1] = rel > 0x7fff_ffff ? 0x7fff_ffff : rel < -0x8000_0000 ? 0x8000_0000 : rel >>> 0;
    arr[o + 2] = tsNs;
    arr[o + 3] = (fromServer ? 0x8000_0000 : 0) | (note << 16) | (flags & 0xffff);
    arr[o + 4] = seq;
    arr[o + 5] = ack;
    arr[o + 6] = len;
    arr[o + 7] = win > 0xffff_ffff ? 0xffff_ffff : win;
  }

  /** The used slots of each region: [first slot, count]. */
  private regions(): [number, number][] {
    return [[0, this.headN], [CONTROL_BASE, this.controlN], [RING_BASE, this.ringN]];
  }

  /** All kept packets in frame order, without duplicates. Allocates: called once, when the record is built. */
  packets(): TracedPacket[] {
    const seen = new Set<number>();
    const out: TracedPacket[] = [];
    const arr = this.words;
    for (const [first, n] of this.regions()) {
      for (let i = first; i < first + n; i++) {
        const o = i * WORDS;
        const frame = arr[o]!;
        if (seen.has(frame)) continue;
        seen.add(frame);
        const meta = arr[o + 3]!;
        out.push({
          frame,
          tsSec: (arr[o + 1]! | 0) + this.baseSec,
          tsNs: arr[o + 2]!,
          fromServer: (meta & 0x8000_0000) !== 0,
          flags: meta & 0xffff,
          note: ((meta >>> 16) & 0x7fff) as NoteCode,
          seq: arr[o + 4]!,
          ack: arr[o + 5]!,
          len: arr[o + 6]!,
          win: arr[o + 7]!,
        });
      }
    }
    out.sort((a, b) => a.frame - b.frame);
    return out;
  }
}
