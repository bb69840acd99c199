/**
 * Live capture through libpcap, with the optional native module `cap` (the only file that loads it).
 *
 * `cap` is required lazily, inside a try, the first time live capture is asked for: offline analysis never loads
 * it, so an install where the native build failed (npm skips a failed optional dependency) still analyses files.
 *
 * cap copies each frame into one Buffer we hand it and emits ('packet', capturedBytes, truncated) synchronously from
 * its libuv poll callback. The source turns that into the pipeline's RawPacket (one object, reused) and pushes it.
 * What cap 0.2 does not pass on, and how this source makes up for it:
 *  - libpcap's timestamp: each frame is stamped when it reaches JavaScript, from a monotonic clock anchored to
 *    the wall clock (performance.timeOrigin + performance.now()), at microsecond resolution and strictly
 *    increasing, so that the saved file keeps the capture order whichever way its rotated parts are merged.
 *    With cap's immediate mode that is within a scheduling delay of the kernel's stamp.
 *  - the frame's length on the wire: cap's snap length is 65535, so frames (GSO super-frames) longer than that are
 *    cut, and their original length is not known: origLen = capLen.
 *  - pcap_stats(): kernel drops are reported when the binding offers a stats() method, else as unknown (null).
 * cap always opens the interface in promiscuous mode with a 65535-byte snap length.
 */
import { performance } from 'node:perf_hooks';
import {
  badFilterError,
  captureFailedError,
  describeLoadError,
  isNoSuchDeviceMessage,
  isPermissionMessage,
  LiveCaptureError,
  noSuchInterfaceError,
  permissionError,
} from './live-errors.js';
import { newRawPacket, type RawPacket } from './raw-packet.js';

// ------------------------------------------------------------------------------------------- the binding's shape

/** One address of a device as cap lists it (IPv4 and IPv6 only). */
export interface CapAddress {
  addr?: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

export interface CapDevice {
  name: string;
  description?: string;
  addresses: CapAddress[];
  flags?: string;
}

/** libpcap's pcap_stat, for a binding that exposes it. */
export interface CapStats {
  ps_recv?: number;
  ps_drop?: number;
  ps_ifdrop?: number;
}

export interface CapHandle {
  /** Returns the link type name ("ETHERNET", "LINKTYPE_LINUX_SLL", "RAW", "NULL", …, or "Unknown linktype N"). */
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (capturedBytes: number, truncated: boolean) => void): unknown;
  /** Not in cap 0.2; used when a later binding offers it. */
  stats?: () => CapStats;
}

export interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

/** The snap length cap sets (pcap_set_snaplen 65535), and so the largest frame it hands over. */
export const CAP_SNAPLEN = 65535;

let loaded: CapModule | null = null;

/**
 * Loads `cap` (once). `req` is for tests; it defaults to Node's require. Throws LiveCaptureError with an install
 * hint when the module or libpcap is missing.
 */
export function loadCap(req: (id: string) => unknown = require): CapModule {
  if (req === require && loaded !== null) return loaded;
  let mod: unknown;
  try {
    mod = req('cap');
  } catch (err) {
    throw describeLoadError(err);
  }
  const m = mod as Partial<CapModule> | null;
  if (m === null || typeof m !== 'object' || typeof m.Cap !== 'function' || typeof m.Cap.deviceList !== 'function') {
    throw describeLoadError(new Error('the module "cap" does not have the expected interface (Cap, Cap.deviceList)'));
  }
  if (req === require) loaded = m as CapModule;
  return m as CapModule;
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
export function listInterfaces(cap: CapModule = loadCap()): LiveInterface[] {
  let devices: CapDevice[];
  try {
    devices = cap.Cap.deviceList();
  } catch (err) {
    throw captureFailedError('any interface', `libpcap cannot list the interfaces: ${err instanceof Error ? err.message : String(err)}`);
  }
  return devices.map((d) => ({
    name: d.name,
    description: d.description ?? null,
    addresses: d.addresses.flatMap((a) => (a.addr === undefined ? [] : [{ addr: a.addr, prefix: prefixLength(a.netmask) }])),
    loopback: d.flags === 'PCAP_IF_LOOPBACK',
  }));
}

// ------------------------------------------------------------------------------------------- clock

/**
 * Wall-clock time in milliseconds since 1970 from the monotonic clock (never steps back with NTP). A double:
 * about 0.25 µs of precision at today's epoch values, enough for microsecond stamps.
 */
export function liveClockMs(): number {
  return performance.timeOrigin + performance.now();
}

// ------------------------------------------------------------------------------------------- link types

/** LINKTYPE_* of the name cap returns from open(). */
export function linkTypeOf(name: string): number | null {
  switch (name) {
    case 'ETHERNET':
      return 1;
    case 'NULL':
      return 0;
    case 'RAW':
      // DLT_RAW is 12 or 14 depending on the platform; in a file it is LINKTYPE_RAW.
      return 101;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    case 'IEEE802_11_RADIO':
      return 127;
    default: {
      const m = /^Unknown linktype (\d+)$/.exec(name);
      return m ? Number(m[1]) : null;
    }
  }
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
  /** Frames the kernel dropped (ring full), or null when the binding does not say (cap 0.2 does not). */
  dropped: number | null;
  /** Frames the interface dropped, or null when unknown. */
  ifDropped: number | null;
}

/**
 * Every handle cap gave us, kept referenced for the life of the process. cap 0.2 stops its libuv poll handle on
 * close() but never uv_close()s it, so the handle stays in libuv's list; if the Cap object were garbage-collected
 * its memory would be freed under libuv, which crashes the process (SIGSEGV) when libuv next walks its handles —
 * at exit at the latest. A handle whose open() threw after activating the device is in a similar state.
 */
const retainedHandles: CapHandle[] = [];

function newHandle(cap: CapModule): CapHandle {
  const h = new cap.Cap();
  retainedHandles.push(h);
  return h;
}

/**
 * A running capture. Every frame is pushed to `onPacket` as the shared RawPacket (valid only during the call),
 * numbered from 1 in the order it arrived, stamped as described at the top of this file.
 */
export class LiveSource {
  readonly linkType: number;
  readonly linkTypeName: string;
  readonly snapLen = CAP_SNAPLEN;
  frames = 0;
  bytes = 0;
  private closed = false;
  private lastUs = 0;
  private dropped: number | null = null;
  private ifDropped: number | null = null;
  private readonly pkt: RawPacket = newRawPacket();

  private constructor(
    private readonly handle: CapHandle,
    linkTypeName: string,
    linkType: number,
    buffer: Buffer,
    private readonly onPacket: (pkt: RawPacket) => void,
    private readonly clockMs: () => number,
  ) {
    this.linkTypeName = linkTypeName;
    this.linkType = linkType;
    const p = this.pkt;
    p.data = buffer;
    p.offset = 0;
    p.linkType = linkType;
    p.tsDigits = 6;
    p.source = 0;
    p.interfaceId = 0;
    handle.on('packet', (n, truncated) => this.onCapPacket(n, truncated));
  }

  /**
   * Opens `opts.iface` and starts capturing. Throws LiveCaptureError: unknown interface (with the list),
   * permission, bad filter (libpcap's message), or another libpcap failure.
   */
  static open(
    opts: LiveOpenOptions,
    onPacket: (pkt: RawPacket) => void,
    cap: CapModule = loadCap(),
    clockMs: () => number = liveClockMs,
  ): LiveSource {
    // Check the name first: libpcap's own error for an unknown device is terse, and cap prints a warning for it.
    const ifaces = listInterfaces(cap);
    if (!ifaces.some((i) => i.name === opts.iface)) throw noSuchInterfaceError(opts.iface, ifaces);
    const buffer = Buffer.alloc(CAP_SNAPLEN + 1);
    const handle = newHandle(cap);
    let linkName: string;
    try {
      linkName = handle.open(opts.iface, opts.filter, opts.bufferBytes, buffer);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw LiveSource.explainOpenFailure(cap, opts, msg, ifaces);
    }
    const linkType = linkTypeOf(linkName);
    if (linkType === null) {
      handle.close();
      throw captureFailedError(opts.iface, `unsupported link type ${linkName}`);
    }
    return new LiveSource(handle, linkName, linkType, buffer, onPacket, clockMs);
  }

  /**
   * cap compiles the filter after activating the device, in the same call, and libpcap's messages do not say
   * which step failed. Permission and missing-device messages are recognisable; for anything else with a filter,
   * opening again without it tells a bad filter (that open succeeds) from a device problem (it fails too).
   */
  private static explainOpenFailure(
    cap: CapModule,
    opts: LiveOpenOptions,
    msg: string,
    ifaces: LiveInterface[],
  ): LiveCaptureError {
    if (isPermissionMessage(msg)) return permissionError(opts.iface, msg);
    if (isNoSuchDeviceMessage(msg)) return noSuchInterfaceError(opts.iface, ifaces);
    if (opts.filter.trim() === '') return captureFailedError(opts.iface, msg);
    const probe = newHandle(cap);
    try {
      probe.open(opts.iface, '', opts.bufferBytes, Buffer.alloc(CAP_SNAPLEN + 1));
    } catch {
      return captureFailedError(opts.iface, msg);
    }
    probe.close();
    return badFilterError(opts.filter, msg);
  }

  /** The packet callback: stamp, fill the shared RawPacket, push. No allocation. */
  private onCapPacket(capturedBytes: number, truncated: boolean): void {
    if (this.closed) return;
    let us = Math.floor(this.clockMs() * 1000);
    // Strictly increasing: equal stamps would let a merge of rotated files order frames differently.
    if (us <= this.lastUs) us = this.lastUs + 1;
    this.lastUs = us;
    const sec = Math.floor(us / 1_000_000);
    const p = this.pkt;
    p.tsSec = sec;
    p.tsNs = (us - sec * 1_000_000) * 1000;
    p.capLen = capturedBytes;
    // cap does not pass the wire length; a frame cut by our buffer (never, at snapLen + 1 bytes) was longer.
    p.origLen = truncated ? capturedBytes + 1 : capturedBytes;
    p.frame = ++this.frames;
    p.fileOffset = 0;
    this.bytes += capturedBytes;
    this.onPacket(p);
  }

  /** Counters so far (after close(): as they were when capturing stopped). */
  stats(): LiveStats {
    if (!this.closed && typeof this.handle.stats === 'function') {
      const s = this.handle.stats();
      if (typeof s.ps_drop === 'number') this.dropped = s.ps_drop;
      if (typeof s.ps_ifdrop === 'number') this.ifDropped = s.ps_ifdrop;
    }
    return { frames: this.frames, bytes: this.bytes, dropped: this.dropped, ifDropped: this.ifDropped };
  }

  /** Stops capturing (safe inside the packet callback: cap finishes the frame in hand, then closes). */
  close(): void {
    if (this.closed) return;
    this.stats();
    this.closed = true;
    this.handle.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Time on the source's clock, seconds (the clock its frames are stamped with). */
  nowSeconds(): number {
    return this.clockMs() / 1000;
  }
}
