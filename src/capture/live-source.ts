/**
 * Live capture through libpcap, with the project's optional native module `teardown-libpcap` (native/, the only
 * file that loads it).
 *
 * The module is required lazily, inside a try, the first time live capture is asked for: offline analysis never
 * loads it, so an install where the native build failed (npm skips a failed optional dependency) still analyses
 * files.
 *
 * Per frame, the binding copies libpcap's bytes into one Buffer and its pcap_pkthdr into one Float64Array that this
 * source owns, then calls back with no arguments; the source fills the pipeline's RawPacket (one object, reused)
 * and pushes it. Nothing is allocated per frame. So the records carry:
 *  - libpcap's timestamp (the kernel's, taken when the frame reached the capture socket), at microseconds, as
 *    tcpdump writes it. docs/live.md has the measurements: a stamp taken when the frame reaches JavaScript was
 *    off by 0.07 ms typically and 4 to 21 ms at worst; libpcap's differs from tcpdump's for the same frame by a
 *    few microseconds (each capture socket is stamped as the kernel hands it the frame).
 *  - the frame's length on the wire (origLen), also for frames cut by the snap length.
 *  - pcap_stats(): frames the kernel dropped because the buffer was full, and those the interface dropped.
 *
 * Because the stamps are the kernel's, frames need not reach JavaScript at once: libpcap hands them over in
 * batches (Linux: TPACKET_V3 blocks, frames packed, at the latest BATCH_TIMEOUT_MS after the first), which holds
 * about 300 times as many small frames in the same buffer as immediate mode's fixed 64 KiB slots.
 */
import {
  badFilterError,
  captureFailedError,
  describeLoadError,
  isNoSuchDeviceMessage,
  isPermissionMessage,
  LiveCaptureError,
  NATIVE_MODULE,
  noSuchInterfaceError,
  permissionError,
} from './live-errors.js';
import { newRawPacket, type RawPacket } from './raw-packet.js';

// ------------------------------------------------------------------------------------------- the binding's shape

/** One address of a device (IPv4 and IPv6 only). */
export interface NativeAddress {
  addr?: string;
  netmask?: string;
}

export interface NativeDevice {
  name: string;
  description?: string;
  addresses: NativeAddress[];
  loopback: boolean;
}

/** libpcap's pcap_stat. */
export interface NativeStats {
  recv: number;
  drop: number;
  ifDrop: number;
}

export interface NativeOpenResult {
  /** pcap_datalink(): a DLT_* value. */
  linkType: number;
  /** pcap_datalink_val_to_name(): "EN10MB", "LINUX_SLL", "RAW", … (undefined for a value libpcap cannot name). */
  linkTypeName?: string;
  /** pcap_activate()'s warning (promiscuous mode not supported, …), if any. */
  warning?: string;
}

export interface NativeCapture {
  /**
   * Opens and starts capturing; throws an Error whose `code` says which step failed: ERR_PCAP_PERM,
   * ERR_PCAP_NO_SUCH_DEVICE, ERR_PCAP_FILTER, ERR_PCAP_IFACE_NOT_UP, ERR_PCAP. Per frame: bytes into `frame`,
   * header = [tsSec, tsUsec, capLen, origLen], then onPacket(). onError(message) when libpcap fails later.
   */
  open(
    device: string,
    filter: string,
    bufferBytes: number,
    snapLen: number,
    timeoutMs: number,
    frame: Buffer,
    header: Float64Array,
    onPacket: () => void,
    onError: (message: string) => void,
  ): NativeOpenResult;
  /** Hands over the frames libpcap has ready, now (returns how many). */
  dispatch(): number;
  /** Throws when never opened; after close(), the counters as they were then. */
  stats(): NativeStats;
  /** Safe inside onPacket: no later frame is delivered. */
  close(): void;
}

export interface NativeModule {
  Capture: new () => NativeCapture;
  deviceList(): NativeDevice[];
  libVersion(): string;
}

/**
 * The snap length: libpcap's and tcpdump's default, so a GSO/GRO super-frame (up to 64 KiB of TCP payload and
 * more) is kept whole, as tcpdump keeps it.
 */
export const LIVE_SNAPLEN = 262144;

/** libpcap hands frames over at the latest this long after the first of a batch arrived (pcap_set_timeout). */
export const BATCH_TIMEOUT_MS = 100;

/**
 * How far behind the clock the capture may be once the frames libpcap has ready are handed over: a batch not yet
 * handed over holds frames at most BATCH_TIMEOUT_MS old (the kernel retires a block on a timer of that period,
 * give or take a scheduler tick); the rest is margin.
 */
export const DELIVERY_LAG_MS = 2 * BATCH_TIMEOUT_MS + 50;

let loaded: NativeModule | null = null;

/**
 * Loads the native module (once). `req` is for tests; it defaults to Node's require. Throws LiveCaptureError with
 * an install hint when the module or libpcap is missing.
 */
export function loadBinding(req: (id: string) => unknown = require): NativeModule {
  if (req === require && loaded !== null) return loaded;
  let mod: unknown;
  try {
    mod = req(NATIVE_MODULE);
  } catch (err) {
    throw describeLoadError(err);
  }
  const m = mod as Partial<NativeModule> | null;
  if (m === null || typeof m !== 'object' || typeof m.Capture !== 'function' || typeof m.deviceList !== 'function') {
    throw describeLoadError(new Error(`the module "${NATIVE_MODULE}" does not have the expected interface (Capture, deviceList)`));
  }
  if (req === require) loaded = m as NativeModule;
  return m as NativeModule;
}

// ------------------------------------------------------------------------------------------- interfaces

export interface LiveInterface {
  name: string;
  description: string | null;
  /** Addresses with their prefix lengths, IPv4 first as libpcap lists them. */
  addresses: Array<{ addr: string; prefix: number | null }>;
  loopback: boolean;
}

/** Prefix length of a netmask ("255.255.255.0" → 24, "ffff:ffff:ffff:ffff::" → 64), or null if not contiguous. */
export function prefixLength(netmask: string | undefined): number | null {
  if (netmask === undefined || netmask === '') return null;
  let bits = '';
  if (netmask.includes(':')) {
    const [head = '', tail = ''] = netmask.split('::');
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    if (h.length + t.length > 8) return null;
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    for (const g of groups) bits += parseInt(g, 16).toString(2).padStart(16, '0');
  } else {
    for (const p of netmask.split('.')) bits += Number(p).toString(2).padStart(8, '0');
  }
  const n = bits.indexOf('0');
  const len = n < 0 ? bits.length : n;
  return bits.slice(len).includes('1') ? null : len;
}

/** The devices libpcap can capture on (pcap_findalldevs), with their addresses. */
export function listInterfaces(native: NativeModule = loadBinding()): LiveInterface[] {
  let devices: NativeDevice[];
  try {
    devices = native.deviceList();
  } catch (err) {
    throw captureFailedError('any interface', `libpcap cannot list the interfaces: ${err instanceof Error ? err.message : String(err)}`);
  }
  return devices.map((d) => ({
    name: d.name,
    description: d.description ?? null,
    addresses: d.addresses.flatMap((a) => (a.addr === undefined ? [] : [{ addr: a.addr, prefix: prefixLength(a.netmask) }])),
    loopback: d.loopback === true,
  }));
}

// ------------------------------------------------------------------------------------------- clock

/**
 * The wall clock, milliseconds since 1970: the clock the kernel stamps frames with (CLOCK_REALTIME), so that the
 * live session's once-a-second work compares like with like, however long it runs (a monotonic clock anchored
 * once would drift from the stamps as NTP slews the wall clock).
 */
export function liveClockMs(): number {
  return Date.now();
}

// ------------------------------------------------------------------------------------------- link types

/**
 * LINKTYPE_* (what a pcap file carries) of a DLT_* value (what libpcap reports). They are the same number except
 * for raw IP, whose DLT value differs between platforms (12, or 14 on OpenBSD).
 */
export function linkTypeOf(dlt: number): number {
  return dlt === 12 || dlt === 14 ? 101 : dlt;
}

// ------------------------------------------------------------------------------------------- the source

export interface LiveOpenOptions {
  iface: string;
  /** BPF filter in libpcap syntax; '' captures everything. */
  filter: string;
  /** libpcap's buffer (the kernel ring), bytes. */
  bufferBytes: number;
}

export interface LiveStats {
  /** Frames handed to the pipeline. */
  frames: number;
  /** Bytes of those frames. */
  bytes: number;
  /** Frames the kernel dropped (buffer full; pcap_stats ps_drop), or null when the source cannot tell. */
  dropped: number | null;
  /** Frames the interface dropped (ps_ifdrop), or null when unknown. */
  ifDropped: number | null;
}

/**
 * A running capture. Every frame is pushed to `onPacket` as the shared RawPacket (valid only during the call),
 * numbered from 1 in the order libpcap delivered it, stamped with libpcap's timestamp.
 */
export class LiveSource {
  readonly linkType: number;
  readonly linkTypeName: string;
  readonly snapLen = LIVE_SNAPLEN;
  /** pcap_activate()'s warning, or null. */
  readonly warning: string | null;
  frames = 0;
  bytes = 0;
  /** Frames whose stamp was earlier than the frame before and was raised to it (see onFrame). */
  reordered = 0;
  /** libpcap's message when capturing failed after the start (the interface went down or away), else null. */
  failure: string | null = null;
  private closed = false;
  private lastSec = 0;
  private lastUsec = 0;
  private dropped: number | null = null;
  private ifDropped: number | null = null;
  private readonly pkt: RawPacket = newRawPacket();
  private readonly header: Float64Array;

  private constructor(
    private readonly handle: NativeCapture,
    opened: NativeOpenResult,
    frame: Buffer,
    header: Float64Array,
    private readonly onPacket: (pkt: RawPacket) => void,
    private readonly clockMs: () => number,
  ) {
    this.linkType = linkTypeOf(opened.linkType);
    this.linkTypeName = opened.linkTypeName ?? `DLT ${opened.linkType}`;
    this.warning = opened.warning ?? null;
    this.header = header;
    const p = this.pkt;
    p.data = frame;
    p.offset = 0;
    p.linkType = this.linkType;
    p.tsDigits = 6;
    p.source = 0;
    p.interfaceId = 0;
  }

  /**
   * Opens `opts.iface` and starts capturing. Throws LiveCaptureError: unknown interface (with the list),
   * permission, bad filter (libpcap's message), or another libpcap failure.
   */
  static open(opts: LiveOpenOptions, onPacket: (pkt: RawPacket) => void, native: NativeModule = loadBinding(), clockMs: () => number = liveClockMs): LiveSource {
    // Check the name first: libpcap's own error for an unknown device is terse.
    const ifaces = listInterfaces(native);
    if (!ifaces.some((i) => i.name === opts.iface)) throw noSuchInterfaceError(opts.iface, ifaces);
    const frame = Buffer.alloc(LIVE_SNAPLEN);
    const header = new Float64Array(4);
    const handle = new native.Capture();
    // The source exists only once open() returned; frames cannot come before (they are delivered from the event
    // loop, or by drain()), so the callbacks reach it through this holder.
    const holder: { source: LiveSource | null } = { source: null };
    let opened: NativeOpenResult;
    try {
      opened = handle.open(
        opts.iface,
        opts.filter,
        opts.bufferBytes,
        LIVE_SNAPLEN,
        BATCH_TIMEOUT_MS,
        frame,
        header,
        () => holder.source?.onFrame(),
        (msg) => holder.source?.onFailure(msg),
      );
    } catch (err) {
      throw explainOpenFailure(opts, err, ifaces);
    }
    const src = new LiveSource(handle, opened, frame, header, onPacket, clockMs);
    holder.source = src;
    return src;
  }

  /** One frame from libpcap: fill the shared RawPacket, push. No allocation. */
  private onFrame(): void {
    if (this.closed) return;
    const h = this.header;
    let sec = h[0]!;
    let usec = h[1]!;
    // Never earlier than the frame before: kernel stamps can step back a little between CPUs (-i any), and the
    // savefile's rotated parts are merged by time. Counted, so a test or a curious user can see it happen.
    if (sec < this.lastSec || (sec === this.lastSec && usec < this.lastUsec)) {
      sec = this.lastSec;
      usec = this.lastUsec;
      this.reordered++;
    }
    this.lastSec = sec;
    this.lastUsec = usec;
    const p = this.pkt;
    p.tsSec = sec;
    p.tsNs = usec * 1000;
    p.capLen = h[2]!;
    p.origLen = h[3]!;
    p.frame = ++this.frames;
    p.fileOffset = 0;
    this.bytes += p.capLen;
    this.onPacket(p);
  }

  private onFailure(msg: string): void {
    this.failure ??= msg;
  }

  /**
   * Hands over, now, the frames libpcap has ready (those the event loop would deliver next). The live session
   * calls it before its once-a-second work, so that no frame older than DELIVERY_LAG_MS is still waiting.
   */
  drain(): void {
    if (!this.closed) this.handle.dispatch();
  }

  /** Counters so far (after close(): as they were when capturing stopped). */
  stats(): LiveStats {
    if (!this.closed) this.readKernelStats();
    return { frames: this.frames, bytes: this.bytes, dropped: this.dropped, ifDropped: this.ifDropped };
  }

  private readKernelStats(): void {
    try {
      const s = this.handle.stats();
      this.dropped = s.drop;
      this.ifDropped = s.ifDrop;
    } catch {
      // libpcap could not say (the interface went away): keep the last counts.
    }
  }

  /** Stops capturing (safe inside the packet callback: no later frame is delivered). */
  close(): void {
    if (this.closed) return;
    this.readKernelStats();
    this.closed = true;
    this.handle.close();
  }

  /**
   * The capture time up to which every frame has been handed over once drain() has run: the wall clock less
   * DELIVERY_LAG_MS (seconds). The live session sweeps and watches against it, so that a frame still in a batch is
   * never later than the time a connection was judged by.
   */
  nowSeconds(): number {
    return (this.clockMs() - DELIVERY_LAG_MS) / 1000;
  }
}

/** Turns the binding's failure to open into what an operator can act on. */
function explainOpenFailure(opts: LiveOpenOptions, err: unknown, ifaces: LiveInterface[]): LiveCaptureError {
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_PCAP_PERM' || (code !== 'ERR_PCAP_FILTER' && isPermissionMessage(msg))) return permissionError(opts.iface, msg);
  if (code === 'ERR_PCAP_NO_SUCH_DEVICE' || (code !== 'ERR_PCAP_FILTER' && isNoSuchDeviceMessage(msg))) return noSuchInterfaceError(opts.iface, ifaces);
  if (code === 'ERR_PCAP_FILTER') return badFilterError(opts.filter, msg);
  return captureFailedError(opts.iface, msg);
}
