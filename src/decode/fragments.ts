/**
 * IP fragment reassembly, bounded. Fragments are rare on TCP paths (PMTU discovery, DF), but tunnels carried over
 * links with a smaller MTU do get their outer packets fragmented (GTP-U is the classic case). Without
 * reassembly every large segment in such a tunnel would be lost, and Wireshark shows them: it reassembles and
 * dissects the datagram in the frame of the fragment that completes it. We do the same.
 *
 * This is off the hot path (only fragments come here), so it may allocate; memory is bounded by the number of
 * pending datagrams, the datagram size (64 KiB) and the number of pieces per datagram. Timeouts use packet time.
 */

/** Counters for the run's summary (beside DecodeStats, which counts frames, not datagrams). */
export interface ReassemblyStats {
  /** Datagrams rebuilt and decoded. */
  datagrams: number;
  /** Pending datagrams dropped because their fragments stopped coming (packet time). */
  expired: number;
  /** Pending datagrams dropped to make room (too many at once). */
  evicted: number;
  /** Datagrams given up as inconsistent (overlapping ends, too large, too many pieces). */
  dropped: number;
}

interface Pending {
  version: number;
  id: number;
  proto: number;
  src: Uint32Array;
  dst: Uint32Array;
  data: Buffer;
  /** Length of the whole payload, known once the last fragment (MF clear) is seen; -1 before. */
  total: number;
  /** Received byte ranges [start, end), kept sorted by start. */
  ranges: number[];
  lastSec: number;
}

/** Largest reassembled payload: an IP datagram cannot be larger than 65535 bytes (fragments are never jumbo). */
export const MAX_DATAGRAM = 65535;
const MAX_PIECES = 256;

export class FragmentReassembler {
  readonly stats: ReassemblyStats = { datagrams: 0, expired: 0, evicted: 0, dropped: 0 };
  /** Reason code when the last add() gave a datagram up ('' otherwise). */
  problem = '';
  private readonly pending: Pending[] = [];

  constructor(
    readonly maxPending = 256,
    readonly timeoutSec = 60,
  ) {}

  /**
   * Adds the fragment payload b[start, start+len) at byte `offset` of datagram (version, src, dst, id, proto).
   * Returns the whole payload when this fragment completes it (valid until the next call), else null; when the
   * datagram is given up, `problem` says why until the next call.
   */
  add(
    version: number,
    src: Uint32Array,
    dst: Uint32Array,
    id: number,
    proto: number,
    offset: number,
    more: boolean,
    b: Buffer,
    start: number,
    len: number,
    nowSec: number,
  ): Buffer | null {
    this.problem = '';
    this.expire(nowSec);
    const end = offset + len;
    let p = this.find(version, src, dst, id, proto);
    if (end > MAX_DATAGRAM) {
      // The datagram cannot be rebuilt: what is pending of it goes too, counted like every other give-up.
      if (p !== null) return this.drop(p, 'fragment_too_large');
      this.stats.dropped++;
      this.problem = 'fragment_too_large';
      return null;
    }
    if (p === null) {
      if (this.pending.length >= this.maxPending) {
        this.pending.shift();
        this.stats.evicted++;
      }
      p = {
        version,
        id,
        proto,
        src: Uint32Array.from(src),
        dst: Uint32Array.from(dst),
        data: Buffer.alloc(Math.max(2048, end)),
        total: -1,
        ranges: [],
        lastSec: nowSec,
      };
      this.pending.push(p);
    }
    p.lastSec = nowSec;
    if (!more) {
      if ((p.total >= 0 && p.total !== end) || this.maxEnd(p) > end) return this.drop(p, 'inconsistent_fragments');
      p.total = end;
    } else if (p.total >= 0 && end > p.total) {
      return this.drop(p, 'inconsistent_fragments');
    }
    if (p.ranges.length >= MAX_PIECES * 2) return this.drop(p, 'too_many_fragments');
    if (end > p.data.length) {
      const grown = Buffer.alloc(Math.min(MAX_DATAGRAM, Math.max(end, p.data.length * 2)));
      p.data.copy(grown);
      p.data = grown;
    }
    b.copy(p.data, offset, start, start + len);
    this.insertRange(p, offset, end);
    if (p.total < 0 || !this.covered(p)) return null;
    this.remove(p);
    this.stats.datagrams++;
    return p.data.subarray(0, p.total);
  }

  /** Datagrams waiting for more fragments. */
  get pendingCount(): number {
    return this.pending.length;
  }

  private find(version: number, src: Uint32Array, dst: Uint32Array, id: number, proto: number): Pending | null {
    for (const p of this.pending) {
      if (p.id !== id || p.version !== version || p.proto !== proto) continue;
      if (p.src[0] !== src[0] || p.src[1] !== src[1] || p.src[2] !== src[2] || p.src[3] !== src[3]) continue;
      if (p.dst[0] !== dst[0] || p.dst[1] !== dst[1] || p.dst[2] !== dst[2] || p.dst[3] !== dst[3]) continue;
      return p;
    }
    return null;
  }

  private expire(nowSec: number): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      if (nowSec - this.pending[i]!.lastSec > this.timeoutSec) {
        this.pending.splice(i, 1);
        this.stats.expired++;
      }
    }
  }

  private drop(p: Pending, reason: string): null {
    this.remove(p);
    this.stats.dropped++;
    this.problem = reason;
    return null;
  }

  private remove(p: Pending): void {
    const i = this.pending.indexOf(p);
    if (i >= 0) this.pending.splice(i, 1);
  }

  private maxEnd(p: Pending): number {
    let m = 0;
    for (let i = 1; i < p.ranges.length; i += 2) if (p.ranges[i]! > m) m = p.ranges[i]!;
    return m;
  }

  private insertRange(p: Pending, start: number, end: number): void {
    const r = p.ranges;
    let i = 0;
    while (i < r.length && r[i]! <= start) i += 2;
    r.splice(i, 0, start, end);
  }

  /** True when the sorted ranges cover [0, total) without a gap. */
  private covered(p: Pending): boolean {
    let reached = 0;
    const r = p.ranges;
    for (let i = 0; i < r.length; i += 2) {
      if (r[i]! > reached) return false;
      if (r[i + 1]! > reached) reached = r[i + 1]!;
    }
    return reached >= p.total;
  }
}
