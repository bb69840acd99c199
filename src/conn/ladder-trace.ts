/**
 * A bounded trace of one connection's packets for the ladder diagram and the evidence: the first packets (the
 * handshake), the first control packets after it (FIN, RST, SYN), and the last packets (the teardown). Stored in
 * typed array, 8 words a packet, so that tracing costs no allocation per packet.
 */

import type { TcpSegment } from '../decode/segment.js';

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

/**
 * Control and ring slots kept inline, in the connection's buffer: a short connection (handshake, a request and
 * its answer, the teardown) fits, and only a longer one moves its control list or ring to an array of full size,
 * once (the array stays with the pooled connection for its next lives).
 */
const CONTROL_INLINE = 3;
const RING_INLINE = 4;
const CONTROL_BASE = HEAD_SLOTS;
const RING_BASE = HEAD_SLOTS + CONTROL_INLINE;
/** 32-bit words of a trace's inline storage: the head, then the inline control and ring slots. */
export const TRACE_WORDS = (HEAD_SLOTS + CONTROL_INLINE + RING_INLINE) * WORDS;

export class LadderTrace {
  /** Head slots first, then the inline control and ring slots: words of the connection's buffer from `base` on. */
  private readonly words: Uint32Array;
  private readonly base: number;
  private headN = 0;
  private controlN = 0;
  private ringN = 0;
  private ringPos = 0;
  /** Full-size control list and ring, allocated when a connection outgrows the inline slots, then kept for reuse. */
  private control: Uint32Array | null = null;
  private ring: Uint32Array | null = null;
  /** The array nextSlot() chose. */
  private target: Uint32Array;
  /** Whether the control list and the ring are in their full-size arrays (this life of the connection). */
  private controlOut = false;
  private ringOut = false;

  /** Whole seconds of the connection's first packet: packet times are kept relative to it. */
  baseSec = 0;

  /** A trace with its own storage, or over TRACE_WORDS words of `storage` from `base` on. */
  constructor(storage?: Uint32Array, base = 0) {
    this.words = storage ?? new Uint32Array(TRACE_WORDS);
    this.base = base;
    this.target = this.words;
  }

  /** Empties the trace for reuse, keeping its storage (pooled connections allocate it once). */
  reset(): void {
    this.baseSec = 0;
    this.headN = 0;
    this.controlN = 0;
    this.ringN = 0;
    this.ringPos = 0;
    this.controlOut = false;
    this.ringOut = false;
  }

  /**
   * Adds the segment's packet. Reads the fields itself rather than taking them as arguments: the sequence
   * numbers above 2^31 are doubles, and passing doubles to a call that is not inlined boxes each one (garbage
   * per packet).
   */
  addSegment(seg: TcpSegment, fromServer: boolean, note: NoteCode): void {
    const o = this.nextSlot(seg.flags);
    const arr = this.target;
    arr[o] = seg.frame;
    arr[o + 1] = this.relSeconds(seg.tsSec);
    arr[o + 2] = seg.tsNs;
    arr[o + 3] = (fromServer ? 0x8000_0000 : 0) | (note << 16) | (seg.flags & 0xffff);
    arr[o + 4] = seg.seq;
    arr[o + 5] = seg.ack;
    arr[o + 6] = seg.payloadLen;
    // The raw 16-bit window field: it always fits.
    arr[o + 7] = seg.window;
  }

  /** The array (in `target`) and word offset of the slot for the next packet, by the keeping rule. */
  private nextSlot(flags: number): number {
    let arr = this.words;
    let slot: number;
    if (this.headN < HEAD_SLOTS) {
      slot = this.headN++;
    } else if ((flags & 0x07) !== 0 && this.controlN < CONTROL_SLOTS) {
      // Control packets (SYN, FIN, RST) are pinned so that a long tail of keep-alives cannot push them out.
      if (!this.controlOut && this.controlN === CONTROL_INLINE) this.moveControlOut();
      if (this.controlOut) {
        arr = this.control!;
        slot = this.controlN;
      } else {
        slot = CONTROL_BASE + this.controlN;
      }
      this.controlN++;
    } else {
      // The ring keeps the last RING_SLOTS packets. Inline it holds RING_INLINE; it moves out when it is full,
      // before it would wrap, so that it keeps exactly what a full-size ring would.
      if (!this.ringOut && this.ringN === RING_INLINE) this.moveRingOut();
      if (this.ringOut) {
        arr = this.ring!;
        slot = this.ringPos;
        this.ringPos = (this.ringPos + 1) % RING_SLOTS;
        if (this.ringN < RING_SLOTS) this.ringN++;
      } else {
        slot = RING_BASE + this.ringN;
        this.ringN++;
        this.ringPos = this.ringN;
      }
    }
    this.target = arr;
    return arr === this.words ? this.base + slot * WORDS : slot * WORDS;
  }

  /**
   * Seconds relative to the connection's first packet, so that any 64-bit pcapng time fits the 32-bit word
   * (read back signed; a connection spanning more than 68 years is clamped, only possible in a crafted file).
   */
  private relSeconds(tsSec: number): number {
    const rel = tsSec - this.baseSec;
    return rel > 0x7fff_ffff ? 0x7fff_ffff : rel < -0x8000_0000 ? 0x8000_0000 : rel >>> 0;
  }

  /** Copies the inline control slots to the full-size array (allocated once per connection object). */
  private moveControlOut(): void {
    const c = (this.control ??= new Uint32Array(CONTROL_SLOTS * WORDS));
    const from = this.base + CONTROL_BASE * WORDS;
    c.set(this.words.subarray(from, from + CONTROL_INLINE * WORDS));
    this.controlOut = true;
  }

  /** Copies the inline ring slots (in order: the inline ring never wraps) to the full-size ring. */
  private moveRingOut(): void {
    const r = (this.ring ??= new Uint32Array(RING_SLOTS * WORDS));
    const from = this.base + RING_BASE * WORDS;
    r.set(this.words.subarray(from, from + RING_INLINE * WORDS));
    this.ringOut = true;
  }

  /** The used slots of each region: [array, word offset of its first slot, count]. */
  private regions(): [Uint32Array, number, number][] {
    const b = this.base;
    return [
      [this.words, b, this.headN],
      this.controlOut ? [this.control!, 0, this.controlN] : [this.words, b + CONTROL_BASE * WORDS, this.controlN],
      this.ringOut ? [this.ring!, 0, this.ringN] : [this.words, b + RING_BASE * WORDS, this.ringN],
    ];
  }

  /** All kept packets in frame order, without duplicates. Allocates: called once, when the record is built. */
  packets(): TracedPacket[] {
    const seen = new Set<number>();
    const out: TracedPacket[] = [];
    for (const [arr, first, n] of this.regions()) {
      for (let i = 0; i < n; i++) {
        const o = first + i * WORDS;
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
