/**
 * Frame builders for decoder tests, in the style of gopacket's SerializeLayers: a frame is a list of layers,
 * outermost first, and each layer is encoded around the bytes of the layers after it. A layer learns from the
 * next one how to announce it (EtherType, IP protocol, PPP protocol, UDP port), and a transport layer takes its
 * pseudo-header from the nearest IP layer before it, so checksums come out right unless a test asks otherwise.
 *
 *   build(ethernet(), vlan(10), ipv4({ src: '192.0.2.1' }), tcp({ flags: SYN, options: [tcpOpt.mss(1460)] }))
 *
 * The checksum here is written independently of src/decode/checksum.ts (the test suite also checks these frames
 * against tshark), so a bug in the decoder's checksum cannot hide behind the same bug in the builder.
 */
import type { RawPacket } from '../../src/capture/raw-packet.js';

export interface EncodeContext {
  /** Layers before this one (outermost first). */
  readonly outer: readonly Layer[];
  /** The layer right after this one, if any. */
  readonly next: Layer | undefined;
}

export interface Layer {
  readonly name: string;
  /** How an EtherType field announces this layer (IPv4 0x0800, Ethernet inside GRE 0x6558, …). */
  readonly etherType?: number;
  /** How an IP protocol / next header field announces this layer. */
  readonly ipProto?: number;
  /** How a PPP protocol field announces this layer. */
  readonly pppProto?: number;
  /** The well-known UDP port of this layer (tunnels), used when udp() is given no port. */
  readonly udpPort?: number;
  /** IP layers: the pseudo-header words for transport checksums. */
  pseudoHeader?(upperLen: number, proto: number): Buffer;
  encode(inner: Buffer, ctx: EncodeContext): Buffer;
}

export function build(...layers: Layer[]): Buffer {
  let inner: Buffer = Buffer.alloc(0);
  for (let i = layers.length - 1; i >= 0; i--) {
    inner = layers[i]!.encode(inner, { outer: layers.slice(0, i), next: layers[i + 1] });
  }
  return inner;
}

// ---------------------------------------------------------------- checksums and addresses

/** RFC 1071 checksum of the concatenated buffers (a plain reference implementation). */
export function inetChecksum(...parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) {
    const word = (all[i]! << 8) | (i + 1 < all.length ? all[i + 1]! : 0);
    sum += word;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

export function ipv4Bytes(text: string): Buffer {
  const parts = text.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 ${text}`);
  return Buffer.from(parts);
}

export function ipv6Bytes(text: string): Buffer {
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = ipv4Bytes(g);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  const zeros = dbl >= 0 ? 8 - h.length - t.length : 0;
  const all = [...h, ...new Array<number>(zeros).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`bad IPv6 ${text}`);
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

/** The address as TcpSegment holds it: four 32-bit words (IPv4 in word 0). */
export function addressWords(text: string): number[] {
  if (text.includes(':')) {
    const b = ipv6Bytes(text);
    return [0, 1, 2, 3].map((i) => b.readUInt32BE(4 * i));
  }
  return [ipv4Bytes(text).readUInt32BE(0), 0, 0, 0];
}

function macBytes(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

function nearestIp(outer: readonly Layer[]): Layer | undefined {
  for (let i = outer.length - 1; i >= 0; i--) if (outer[i]!.pseudoHeader) return outer[i];
  return undefined;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`frame builder: ${what}`);
  return value;
}

// ---------------------------------------------------------------- link layers

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export interface EthernetOptions {
  dst?: string;
  src?: string;
  /** EtherType or 802.3 length; default: from the next layer. */
  type?: number;
}

export function ethernet(o: EthernetOptions = {}): Layer {
  return {
    name: 'ethernet',
    etherType: 0x6558,
    encode(inner, { next }) {
      const h = Buffer.alloc(14);
      macBytes(o.dst ?? '02:00:00:00:00:02').copy(h, 0);
      macBytes(o.src ?? '02:00:00:00:00:01').copy(h, 6);
      h.writeUInt16BE(o.type ?? need(next?.etherType, 'ethernet needs a type'), 12);
      return Buffer.concat([h, inner]);
    },
  };
}

/** Ethernet padding (or an FCS/trailer): bytes appended after the whole frame. */
export function withTrailer(frame: Buffer, bytes: number | Buffer): Buffer {
  return Buffer.concat([frame, typeof bytes === 'number' ? Buffer.alloc(bytes, 0xee) : bytes]);
}

/** Pads a frame to the 60-byte Ethernet minimum with zeros, as a NIC does. */
export function padEthernet(frame: Buffer): Buffer {
  return frame.length >= 60 ? frame : Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
}

export interface VlanOptions {
  /** 0x8100 (802.1Q, default), 0x88a8 (802.1ad), 0x9100 (pre-standard QinQ). */
  tpid?: number;
  pcp?: number;
}

export function vlan(id: number, o: VlanOptions = {}): Layer {
  return {
    name: 'vlan',
    etherType: o.tpid ?? 0x8100,
    encode(inner, { next }) {
      const h = Buffer.alloc(4);
      h.writeUInt16BE((((o.pcp ?? 0) & 7) << 13) | (id & 0x0fff), 0);
      h.writeUInt16BE(need(next?.etherType, 'vlan needs a type'), 2);
      return Buffer.concat([h, inner]);
    },
  };
}

/** One MPLS label; bottom of stack is set when the next layer is not another label (unless told). */
export function mpls(label: number, o: { ttl?: number; bottom?: boolean; tc?: number } = {}): Layer {
  return {
    name: 'mpls',
    etherType: 0x8847,
    encode(inner, { next }) {
      const bottom = o.bottom ?? next?.name !== 'mpls';
      const h = Buffer.alloc(4);
      h.writeUInt32BE(((label & 0xfffff) << 12) | (((o.tc ?? 0) & 7) << 9) | (bottom ? 0x100 : 0) | (o.ttl ?? 64), 0);
      return Buffer.concat([h, inner]);
    },
  };
}

/** The 4-byte pseudowire control word, before an Ethernet frame in MPLS. */
export function pwControlWord(sequence = 0): Layer {
  return {
    name: 'pw-cw',
    encode(inner) {
      const h = Buffer.alloc(4);
      h.writeUInt16BE(sequence, 2);
      return Buffer.concat([h, inner]);
    },
  };
}

/** PPPoE session header plus the 2-byte PPP protocol (taken from the next layer). */
export function pppoe(o: { session?: number; code?: number; length?: number } = {}): Layer {
  return {
    name: 'pppoe',
    etherType: 0x8864,
    encode(inner, { next }) {
      const h = Buffer.alloc(8);
      h[0] = 0x11;
      h[1] = o.code ?? 0;
      h.writeUInt16BE(o.session ?? 0x1234, 2);
      h.writeUInt16BE(o.length ?? inner.length + 2, 4);
      h.writeUInt16BE(need(next?.pppProto, 'pppoe needs a PPP protocol'), 6);
      return Buffer.concat([h, inner]);
    },
  };
}

/** PPP as PPTP carries it: optional address/control (0xff 0x03), protocol field 1 byte (PFC) or 2. */
export function ppp(o: { addressControl?: boolean; compressProtocol?: boolean; protocol?: number } = {}): Layer {
  return {
    name: 'ppp',
    etherType: 0x880b,
    encode(inner, { next }) {
      const proto = o.protocol ?? need(next?.pppProto, 'ppp needs a protocol');
      const parts: Buffer[] = [];
      if (o.addressControl ?? true) parts.push(Buffer.from([0xff, 0x03]));
      parts.push(o.compressProtocol ? Buffer.from([proto & 0xff]) : Buffer.from([proto >> 8, proto & 0xff]));
      return Buffer.concat([...parts, inner]);
    },
  };
}

/** FabricPath FTAG/TTL (2 bytes); put it after an ethernet() (announced as 0x8903) and before the inner ethernet(). */
export function fabricPath(o: { ftag?: number; ttl?: number } = {}): Layer {
  return {
    name: 'fabricpath',
    etherType: 0x8903,
    encode(inner) {
      const h = Buffer.alloc(2);
      h.writeUInt16BE(((o.ftag ?? 1) << 6) | ((o.ttl ?? 32) & 0x3f), 0);
      return Buffer.concat([h, inner]);
    },
  };
}

export function sll(o: { packetType?: number; arphrd?: number; protocol?: number } = {}): Layer {
  return {
    name: 'sll',
    encode(inner, { next }) {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(o.packetType ?? 0, 0);
      h.writeUInt16BE(o.arphrd ?? 1, 2);
      h.writeUInt16BE(6, 4);
      macBytes('02:00:00:00:00:01').copy(h, 6);
      h.writeUInt16BE(o.protocol ?? need(next?.etherType, 'sll needs a protocol'), 14);
      return Buffer.concat([h, inner]);
    },
  };
}

export function sll2(o: { packetType?: number; arphrd?: number; protocol?: number; ifindex?: number } = {}): Layer {
  return {
    name: 'sll2',
    encode(inner, { next }) {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(o.protocol ?? need(next?.etherType, 'sll2 needs a protocol'), 0);
      h.writeUInt32BE(o.ifindex ?? 2, 4);
      h.writeUInt16BE(o.arphrd ?? 1, 8);
      h[10] = o.packetType ?? 0;
      h[11] = 6;
      macBytes('02:00:00:00:00:01').copy(h, 12);
      return Buffer.concat([h, inner]);
    },
  };
}

/** BSD NULL header: the family in the capturing host's byte order (little-endian by default). */
export function nullHeader(o: { family?: number; bigEndian?: boolean } = {}): Layer {
  return {
    name: 'null',
    encode(inner, { next }) {
      const family = o.family ?? (next?.name === 'ipv6' ? 30 : 2);
      const h = Buffer.alloc(4);
      if (o.bigEndian) h.writeUInt32BE(family, 0);
      else h.writeUInt32LE(family, 0);
      return Buffer.concat([h, inner]);
    },
  };
}

/** OpenBSD LOOP header: the family in network byte order. */
export function loopHeader(o: { family?: number } = {}): Layer {
  return nullHeader({ family: o.family, bigEndian: true });
}

export function arp(): Layer {
  return {
    name: 'arp',
    etherType: 0x0806,
    encode(inner) {
      const h = Buffer.from('0001080006040001020000000001c00002010000000000c0000202', 'hex');
      return Buffer.concat([h, inner]);
    },
  };
}

// ---------------------------------------------------------------- IP

export interface Ipv4Options {
  src?: string;
  dst?: string;
  ttl?: number;
  id?: number;
  tos?: number;
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Raw option bytes (padded to 4 with EOL). */
  options?: Buffer;
  /** Override the total length (default: header + payload). */
  totalLength?: number;
  /** Override the header length in 4-byte words. */
  ihl?: number;
  /** Override the protocol (default: from the next layer). */
  proto?: number;
  badChecksum?: boolean;
}

export function ipv4(o: Ipv4Options = {}): Layer {
  const src = ipv4Bytes(o.src ?? '192.0.2.1');
  const dst = ipv4Bytes(o.dst ?? '198.51.100.2');
  return {
    name: 'ipv4',
    etherType: 0x0800,
    ipProto: 4,
    pppProto: 0x21,
    pseudoHeader(upperLen, proto) {
      const p = Buffer.alloc(12);
      src.copy(p, 0);
      dst.copy(p, 4);
      p[9] = proto;
      p.writeUInt16BE(upperLen, 10);
      return p;
    },
    encode(inner, { next }) {
      let opts = o.options ?? Buffer.alloc(0);
      if (opts.length % 4 !== 0) opts = Buffer.concat([opts, Buffer.alloc(4 - (opts.length % 4))]);
      const hl = 20 + opts.length;
      const h = Buffer.alloc(hl);
      h[0] = 0x40 | (o.ihl ?? hl / 4);
      h[1] = o.tos ?? 0;
      h.writeUInt16BE(o.totalLength ?? hl + inner.length, 2);
      h.writeUInt16BE(o.id ?? 0x1234, 4);
      h.writeUInt16BE((o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) >> 3), 6);
      h[8] = o.ttl ?? 64;
      h[9] = o.proto ?? need(next?.ipProto, 'ipv4 needs a protocol');
      src.copy(h, 12);
      dst.copy(h, 16);
      opts.copy(h, 20);
      const ck = inetChecksum(h);
      h.writeUInt16BE(o.badChecksum ? ck ^ 0x5555 : ck, 10);
      return Buffer.concat([h, inner]);
    },
  };
}

export type Ipv6Ext =
  | { type: 'hop-by-hop' | 'destination'; options?: Buffer; jumbo?: boolean }
  | { type: 'routing'; routingType: number; segmentsLeft: number; addresses: string[] }
  | { type: 'fragment'; offset?: number; more?: boolean; id?: number }
  | { type: 'ah'; icvBytes?: number };

const EXT_NUMBER = { 'hop-by-hop': 0, destination: 60, routing: 43, fragment: 44, ah: 51 } as const;

export interface Ipv6Options {
  src?: string;
  dst?: string;
  hopLimit?: number;
  flowLabel?: number;
  ext?: Ipv6Ext[];
  /** Override the payload length (default: extension headers + upper layer; 0 with a jumbo option). */
  payloadLength?: number;
  /** Override the next header of the last header in the chain (default: from the next layer). */
  nextHeader?: number;
}

/** Options area of a hop-by-hop / destination header, padded with PadN to a multiple of 8 (minus 2). */
function padOptions(opts: Buffer): Buffer {
  const total = Math.ceil((opts.length + 2) / 8) * 8;
  const padLen = total - 2 - opts.length;
  if (padLen === 0) return opts;
  if (padLen === 1) return Buffer.concat([opts, Buffer.from([0])]);
  return Buffer.concat([opts, Buffer.from([1, padLen - 2]), Buffer.alloc(padLen - 2)]);
}

function encodeExt(e: Ipv6Ext, nh: number, upperLen: number): Buffer {
  switch (e.type) {
    case 'hop-by-hop':
    case 'destination': {
      let opts = e.options ?? Buffer.alloc(0);
      if (e.type === 'hop-by-hop' && e.jumbo) {
        const j = Buffer.from([0xc2, 4, 0, 0, 0, 0]);
        j.writeUInt32BE(upperLen, 2);
        opts = Buffer.concat([opts, j]);
      }
      const body = padOptions(opts);
      const h = Buffer.concat([Buffer.from([nh, (body.length + 2) / 8 - 1]), body]);
      return h;
    }
    case 'routing': {
      const h = Buffer.alloc(8 + 16 * e.addresses.length);
      h[0] = nh;
      h[1] = (h.length - 8) / 8;
      h[2] = e.routingType;
      h[3] = e.segmentsLeft;
      if (e.routingType === 4) h[4] = e.addresses.length - 1; // SRH: last entry
      e.addresses.forEach((a, i) => ipv6Bytes(a).copy(h, 8 + 16 * i));
      return h;
    }
    case 'fragment': {
      const h = Buffer.alloc(8);
      h[0] = nh;
      h.writeUInt16BE(((e.offset ?? 0) & 0xfff8) | (e.more ? 1 : 0), 2);
      h.writeUInt32BE(e.id ?? 0xabcd, 4);
      return h;
    }
    case 'ah': {
      const icv = e.icvBytes ?? 12;
      const h = Buffer.alloc(12 + icv);
      h[0] = nh;
      h[1] = h.length / 4 - 2;
      h.writeUInt32BE(0x100, 4); // SPI
      h.writeUInt32BE(1, 8); // sequence
      return h;
    }
  }
}

export function ipv6(o: Ipv6Options = {}): Layer {
  const src = ipv6Bytes(o.src ?? '2001:db8::1');
  const dst = ipv6Bytes(o.dst ?? '2001:db8::2');
  const ext = o.ext ?? [];
  // RFC 8200 §8.1: with a routing header the pseudo-header names the final destination.
  let finalDst = dst;
  for (const e of ext) {
    if (e.type === 'routing' && e.segmentsLeft > 0) {
      const pick = e.routingType === 0 ? e.addresses[e.addresses.length - 1] : e.addresses[0];
      finalDst = ipv6Bytes(need(pick, 'routing header needs an address'));
    }
  }
  return {
    name: 'ipv6',
    etherType: 0x86dd,
    ipProto: 41,
    pppProto: 0x57,
    pseudoHeader(upperLen, proto) {
      const p = Buffer.alloc(40);
      src.copy(p, 0);
      finalDst.copy(p, 16);
      p.writeUInt32BE(upperLen, 32);
      p[39] = proto;
      return p;
    },
    encode(inner, { next }) {
      const upper = o.nextHeader ?? need(next?.ipProto, 'ipv6 needs a next header');
      // Encode the chain from the last header back, each naming the one after it.
      const parts: Buffer[] = [];
      let nh = upper;
      for (let i = ext.length - 1; i >= 0; i--) {
        const e = ext[i]!;
        parts.unshift(encodeExt(e, nh, inner.length));
        nh = EXT_NUMBER[e.type];
      }
      const chain = Buffer.concat(parts);
      // A jumbo option's value counts everything after the IPv6 header.
      const jumboIndex = ext.findIndex((e) => e.type === 'hop-by-hop' && e.jumbo);
      if (jumboIndex === 0) {
        const hbh = parts[0]!;
        for (let p = 2; p + 6 <= hbh.length;) {
          if (hbh[p] === 0xc2) {
            chain.writeUInt32BE(chain.length + inner.length, p + 2);
            break;
          }
          p += hbh[p] === 0 ? 1 : 2 + hbh[p + 1]!;
        }
      }
      const h = Buffer.alloc(40);
      h.writeUInt32BE((6 << 28) | ((o.flowLabel ?? 0) & 0xfffff), 0);
      const plen = o.payloadLength ?? (jumboIndex === 0 ? 0 : chain.length + inner.length);
      h.writeUInt16BE(plen, 4);
      h[6] = nh;
      h[7] = o.hopLimit ?? 64;
      src.copy(h, 8);
      dst.copy(h, 24);
      return Buffer.concat([h, chain, inner]);
    },
  };
}

// ---------------------------------------------------------------- transport

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;
export const NS = 0x100;

/** TCP options; tcp() pads the list with EOL to a multiple of 4. */
export const tcpOpt = {
  eol: () => Buffer.from([0]),
  nop: () => Buffer.from([1]),
  mss(value: number): Buffer {
    const b = Buffer.from([2, 4, 0, 0]);
    b.writeUInt16BE(value, 2);
    return b;
  },
  windowScale: (shift: number) => Buffer.from([3, 3, shift]),
  sackPermitted: () => Buffer.from([4, 2]),
  sack(blocks: Array<[number, number]>): Buffer {
    const b = Buffer.alloc(2 + 8 * blocks.length);
    b[0] = 5;
    b[1] = b.length;
    blocks.forEach(([l, r], i) => {
      b.writeUInt32BE(l >>> 0, 2 + 8 * i);
      b.writeUInt32BE(r >>> 0, 6 + 8 * i);
    });
    return b;
  },
  timestamps(val: number, ecr: number): Buffer {
    const b = Buffer.from([8, 10, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.writeUInt32BE(val >>> 0, 2);
    b.writeUInt32BE(ecr >>> 0, 6);
    return b;
  },
  /** Any option, with its length byte written as given (to build bad lengths). */
  raw: (kind: number, length: number, data: Buffer = Buffer.alloc(0)) =>
    Buffer.concat([Buffer.from([kind, length]), data]),
};

export interface TcpOptions {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  urgent?: number;
  options?: Buffer[];
  /** Override the data offset (in 4-byte words). */
  dataOffset?: number;
  badChecksum?: boolean;
}

export function tcp(o: TcpOptions = {}): Layer {
  return {
    name: 'tcp',
    ipProto: 6,
    encode(inner, { outer }) {
      let opts = Buffer.concat(o.options ?? []);
      if (opts.length % 4 !== 0) opts = Buffer.concat([opts, Buffer.alloc(4 - (opts.length % 4))]);
      const hl = 20 + opts.length;
      const h = Buffer.alloc(hl);
      h.writeUInt16BE(o.sport ?? 40000, 0);
      h.writeUInt16BE(o.dport ?? 80, 2);
      h.writeUInt32BE((o.seq ?? 1000) >>> 0, 4);
      h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
      const flags = o.flags ?? ACK;
      h[12] = ((o.dataOffset ?? hl / 4) << 4) | ((flags >> 8) & 1);
      h[13] = flags & 0xff;
      h.writeUInt16BE(o.window ?? 65535, 14);
      h.writeUInt16BE(o.urgent ?? 0, 18);
      opts.copy(h, 20);
      const ip = need(nearestIp(outer), 'tcp needs an IP layer before it');
      const ck = inetChecksum(ip.pseudoHeader!(hl + inner.length, 6), h, inner);
      h.writeUInt16BE(o.badChecksum ? ck ^ 0x1111 : ck, 16);
      return Buffer.concat([h, inner]);
    },
  };
}

export function udp(o: { sport?: number; dport?: number; length?: number; zeroChecksum?: boolean } = {}): Layer {
  return {
    name: 'udp',
    ipProto: 17,
    encode(inner, { outer, next }) {
      const h = Buffer.alloc(8);
      const port = next?.udpPort;
      h.writeUInt16BE(o.sport ?? 50000, 0);
      h.writeUInt16BE(o.dport ?? port ?? 53, 2);
      h.writeUInt16BE(o.length ?? 8 + inner.length, 4);
      const ip = nearestIp(outer);
      if (ip && !o.zeroChecksum) {
        const ck = inetChecksum(ip.pseudoHeader!(8 + inner.length, 17), h, inner);
        h.writeUInt16BE(ck === 0 ? 0xffff : ck, 6);
      }
      return Buffer.concat([h, inner]);
    },
  };
}

/** ICMPv4; for an error (types 3, 4, 5, 11, 12), put the quoted IP header and TCP bytes after it as layers. */
export function icmp(o: { type: number; code?: number; rest?: number } = { type: 8 }): Layer {
  return {
    name: 'icmp',
    ipProto: 1,
    encode(inner) {
      const h = Buffer.alloc(8);
      h[0] = o.type;
      h[1] = o.code ?? 0;
      h.writeUInt32BE(o.rest ?? 0, 4);
      h.writeUInt16BE(inetChecksum(h, inner), 2);
      return Buffer.concat([h, inner]);
    },
  };
}

export function icmpv6(o: { type: number; code?: number; rest?: number } = { type: 128 }): Layer {
  return {
    name: 'icmpv6',
    ipProto: 58,
    encode(inner, { outer }) {
      const h = Buffer.alloc(8);
      h[0] = o.type;
      h[1] = o.code ?? 0;
      h.writeUInt32BE(o.rest ?? 0, 4);
      const ip = need(nearestIp(outer), 'icmpv6 needs an IPv6 layer');
      h.writeUInt16BE(inetChecksum(ip.pseudoHeader!(8 + inner.length, 58), h, inner), 2);
      return Buffer.concat([h, inner]);
    },
  };
}

/** Bytes as they are (a payload, or a header the builders lack). */
export function payload(data: Buffer | string | number, announce: Partial<Layer> = {}): Layer {
  const bytes =
    typeof data === 'number'
      ? Buffer.from(Array.from({ length: data }, (_, i) => (i * 7 + 1) & 0xff))
      : typeof data === 'string'
        ? Buffer.from(data)
        : data;
  return {
    name: 'payload',
    ...announce,
    encode: (inner) => Buffer.concat([bytes, inner]),
  };
}

/** A prebuilt IP packet (e.g. one fragment) announced by its version nibble. */
export function ipPacket(packet: Buffer): Layer {
  const v6 = packet[0]! >> 4 === 6;
  return {
    name: v6 ? 'ipv6' : 'ipv4',
    etherType: v6 ? 0x86dd : 0x0800,
    ipProto: v6 ? 41 : 4,
    pppProto: v6 ? 0x57 : 0x21,
    encode: (inner) => Buffer.concat([packet, inner]),
  };
}

// ---------------------------------------------------------------- tunnels

export interface GreOptions {
  checksum?: boolean;
  key?: number;
  seq?: number;
  protocol?: number;
  routing?: boolean;
}

export function gre(o: GreOptions = {}): Layer {
  return {
    name: 'gre',
    ipProto: 47,
    encode(inner, { next }) {
      let flags = 0;
      const fields: Buffer[] = [];
      if (o.checksum || o.routing) {
        flags |= o.checksum ? 0x8000 : 0;
        fields.push(Buffer.alloc(4));
      }
      if (o.routing) flags |= 0x4000;
      if (o.key !== undefined) {
        flags |= 0x2000;
        const k = Buffer.alloc(4);
        k.writeUInt32BE(o.key >>> 0, 0);
        fields.push(k);
      }
      if (o.seq !== undefined) {
        flags |= 0x1000;
        const s = Buffer.alloc(4);
        s.writeUInt32BE(o.seq >>> 0, 0);
        fields.push(s);
      }
      const h = Buffer.alloc(4);
      h.writeUInt16BE(flags, 0);
      h.writeUInt16BE(o.protocol ?? need(next?.etherType, 'gre needs a protocol'), 2);
      const all = Buffer.concat([h, ...fields, inner]);
      if (o.checksum) all.writeUInt16BE(inetChecksum(all), 4);
      return all;
    },
  };
}

/** PPTP enhanced GRE (version 1): key (payload length, call id), optional sequence and acknowledgment. */
export function pptpGre(o: { callId?: number; seq?: number; ack?: number } = {}): Layer {
  return {
    name: 'gre',
    ipProto: 47,
    encode(inner) {
      let flags = 0x2000 | 1;
      const fields: Buffer[] = [];
      if (o.seq !== undefined) {
        flags |= 0x1000;
        const s = Buffer.alloc(4);
        s.writeUInt32BE(o.seq >>> 0, 0);
        fields.push(s);
      }
      if (o.ack !== undefined) {
        flags |= 0x0080;
        const a = Buffer.alloc(4);
        a.writeUInt32BE(o.ack >>> 0, 0);
        fields.push(a);
      }
      const h = Buffer.alloc(8);
      h.writeUInt16BE(flags, 0);
      h.writeUInt16BE(0x880b, 2);
      h.writeUInt16BE(inner.length, 4);
      h.writeUInt16BE(o.callId ?? 7, 6);
      return Buffer.concat([h, ...fields, inner]);
    },
  };
}

/** ERSPAN type II header (8 bytes, version 1); GRE must carry a sequence number. */
export function erspan2(o: { session?: number; vlan?: number } = {}): Layer {
  return {
    name: 'erspan2',
    etherType: 0x88be,
    encode(inner) {
      const h = Buffer.alloc(8);
      h.writeUInt16BE((1 << 12) | ((o.vlan ?? 0) & 0xfff), 0);
      h.writeUInt16BE((o.session ?? 1) & 0x3ff, 2);
      return Buffer.concat([h, inner]);
    },
  };
}

/** ERSPAN type III header (12 bytes, version 2), with the optional 8-byte platform sub-header. */
export function erspan3(o: { subheader?: boolean; frameType?: number } = {}): Layer {
  return {
    name: 'erspan3',
    etherType: 0x22eb,
    encode(inner) {
      const h = Buffer.alloc(12 + (o.subheader ? 8 : 0));
      h.writeUInt16BE(2 << 12, 0);
      h.writeUInt16BE(1, 2);
      h.writeUInt32BE(0x01020304, 4);
      h[10] = ((o.frameType ?? 0) & 0x1f) << 2;
      h[11] = o.subheader ? 1 : 0;
      return Buffer.concat([h, inner]);
    },
  };
}

export function vxlan(o: { vni?: number } = {}): Layer {
  return {
    name: 'vxlan',
    udpPort: 4789,
    encode(inner) {
      const h = Buffer.alloc(8);
      h[0] = 0x08;
      h.writeUInt32BE(((o.vni ?? 42) & 0xffffff) << 8, 4);
      return Buffer.concat([h, inner]);
    },
  };
}

/** Geneve; `options` are raw option bytes (a multiple of 4). */
export function geneve(o: { vni?: number; options?: Buffer; protocol?: number } = {}): Layer {
  return {
    name: 'geneve',
    udpPort: 6081,
    encode(inner, { next }) {
      const opts = o.options ?? Buffer.alloc(0);
      const h = Buffer.alloc(8);
      h[0] = (opts.length / 4) & 0x3f;
      h.writeUInt16BE(o.protocol ?? need(next?.etherType, 'geneve needs a protocol'), 2);
      h.writeUInt32BE(((o.vni ?? 42) & 0xffffff) << 8, 4);
      return Buffer.concat([h, opts, inner]);
    },
  };
}

/** Teredo with optional authentication and origin indications before the IPv6 packet. */
export function teredo(o: { origin?: boolean; auth?: { id: number; auth: number } } = {}): Layer {
  return {
    name: 'teredo',
    udpPort: 3544,
    encode(inner) {
      const parts: Buffer[] = [];
      if (o.auth) {
        const a = Buffer.alloc(4 + o.auth.id + o.auth.auth + 9, 0x5a);
        a.writeUInt16BE(1, 0);
        a[2] = o.auth.id;
        a[3] = o.auth.auth;
        a[a.length - 1] = 0;
        parts.push(a);
      }
      if (o.origin) {
        const g = Buffer.from([0, 0, 0xf2, 0x27, 0x3f, 0x57, 0x5e, 0xfe]);
        parts.push(g);
      }
      return Buffer.concat([...parts, inner]);
    },
  };
}

export interface GtpUOptions {
  teid?: number;
  seq?: number;
  npdu?: number;
  /** Extension headers as [type, content] (content padded so that each header is a multiple of 4 bytes). */
  ext?: Array<[number, Buffer]>;
  messageType?: number;
  version?: number;
}

export function gtpu(o: GtpUOptions = {}): Layer {
  return {
    name: 'gtp-u',
    udpPort: 2152,
    encode(inner) {
      const ext = o.ext ?? [];
      const optional = o.seq !== undefined || o.npdu !== undefined || ext.length > 0;
      let flags = ((o.version ?? 1) << 5) | 0x10;
      if (ext.length > 0) flags |= 0x04;
      if (o.seq !== undefined) flags |= 0x02;
      if (o.npdu !== undefined) flags |= 0x01;
      const h = Buffer.alloc(optional ? 12 : 8);
      h[0] = flags;
      h[1] = o.messageType ?? 0xff;
      h.writeUInt32BE(o.teid ?? 0x1000, 4);
      const exts: Buffer[] = [];
      if (optional) {
        h.writeUInt16BE(o.seq ?? 0, 8);
        h[10] = o.npdu ?? 0;
        h[11] = ext[0]?.[0] ?? 0;
        ext.forEach(([, content], i) => {
          const len = Math.ceil((content.length + 2) / 4) * 4;
          const e = Buffer.alloc(len);
          e[0] = len / 4;
          content.copy(e, 1);
          e[len - 1] = ext[i + 1]?.[0] ?? 0;
          exts.push(e);
        });
      }
      const body = Buffer.concat([...exts, inner]);
      h.writeUInt16BE(body.length + (optional ? 4 : 0), 2);
      return Buffer.concat([h, body]);
    },
  };
}

// ---------------------------------------------------------------- fragments

/** Splits an IPv4 packet (header without options copied to every piece) into fragments of `size` payload bytes. */
export function fragmentIpv4(packet: Buffer, size: number): Buffer[] {
  const hl = (packet[0]! & 0x0f) * 4;
  const total = packet.readUInt16BE(2);
  const body = packet.subarray(hl, total);
  const pieces: Buffer[] = [];
  for (let off = 0; off < body.length; off += size) {
    const chunk = body.subarray(off, Math.min(body.length, off + size));
    const h = Buffer.from(packet.subarray(0, hl));
    h.writeUInt16BE(hl + chunk.length, 2);
    const more = off + size < body.length;
    h.writeUInt16BE((more ? 0x2000 : 0) | (off >> 3), 6);
    h.writeUInt16BE(0, 10);
    h.writeUInt16BE(inetChecksum(h), 10);
    pieces.push(Buffer.concat([h, chunk]));
  }
  return pieces;
}

/**
 * Splits an IPv6 packet without extension headers into fragments of `size` bytes (a multiple of 8 except the
 * last), inserting a fragment header with `id`.
 */
export function fragmentIpv6(packet: Buffer, size: number, id = 0x1234567): Buffer[] {
  const nh = packet[6]!;
  const body = packet.subarray(40, 40 + packet.readUInt16BE(4));
  const pieces: Buffer[] = [];
  for (let off = 0; off < body.length; off += size) {
    const chunk = body.subarray(off, Math.min(body.length, off + size));
    const h = Buffer.from(packet.subarray(0, 40));
    const f = Buffer.alloc(8);
    f[0] = nh;
    f.writeUInt16BE(off | (off + size < body.length ? 1 : 0), 2);
    f.writeUInt32BE(id, 4);
    h.writeUInt16BE(8 + chunk.length, 4);
    h[6] = 44;
    pieces.push(Buffer.concat([h, f, chunk]));
  }
  return pieces;
}

// ---------------------------------------------------------------- packets and files

/** A RawPacket for `frame`; `capLen` below the frame length models a snap length cut. */
export function packet(frame: Buffer, linkType: number = LINKTYPE.ETHERNET, over: Partial<RawPacket> = {}): RawPacket {
  return {
    data: frame,
    offset: 0,
    capLen: frame.length,
    origLen: frame.length,
    linkType,
    tsSec: 1_700_000_000,
    tsNs: 123_456_000,
    tsDigits: 6,
    frame: 1,
    source: 0,
    fileOffset: 0,
    interfaceId: 0,
    ...over,
  };
}

export interface PcapRecord {
  data: Buffer;
  /** Length on the wire (default: data.length). */
  origLen?: number;
  tsSec?: number;
  tsUs?: number;
}

/** A classic little-endian microsecond pcap file. */
export function pcapFile(linkType: number, records: Array<Buffer | PcapRecord>): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [head];
  records.forEach((r, i) => {
    const rec = Buffer.isBuffer(r) ? { data: r } : r;
    const h = Buffer.alloc(16);
    h.writeUInt32LE(rec.tsSec ?? 1_700_000_000 + i, 0);
    h.writeUInt32LE(rec.tsUs ?? 0, 4);
    h.writeUInt32LE(rec.data.length, 8);
    h.writeUInt32LE(rec.origLen ?? rec.data.length, 12);
    parts.push(h, rec.data);
  });
  return Buffer.concat(parts);
}
