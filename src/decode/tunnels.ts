/**
 * Tunnel kinds and the path string of TcpSegment.tunnel ("gre/vxlan": outside in). The path is kept while
 * decoding as small numbers (4 bits a layer) and turned into a string only through a bounded cache, so that a
 * packet inside a tunnel costs no string building.
 */

export const Tunnel = {
  Mpls: 1,
  Pppoe: 2,
  FabricPath: 3,
  Gre: 4,
  Erspan: 5,
  Vxlan: 6,
  Geneve: 7,
  IpInIp: 8,
  SixInFour: 9,
  Teredo: 10,
  GtpU: 11,
} as const;
export type Tunnel = (typeof Tunnel)[keyof typeof Tunnel];

/** Names indexed by Tunnel value; the only strings a tunnel path is made of. */
export const TUNNEL_NAMES: readonly string[] = [
  '',
  'mpls',
  'pppoe',
  'fabricpath',
  'gre',
  'erspan',
  'vxlan',
  'geneve',
  'ip-in-ip',
  '6in4',
  'teredo',
  'gtp-u',
];

/** Most encapsulations one frame may nest; deeper input is Malformed (`too_many_encapsulations`). */
export const MAX_TUNNEL_DEPTH = 8;

/** Paths seen so far; bounded (hostile input could try many combinations), beyond it paths are built uncached. */
const MAX_CACHED_PATHS = 256;
const pathCache = new Map<number, string>();

/**
 * The path for `code`, the kinds of `depth` layers packed 4 bits each (outermost in the highest digit).
 * code < 16^8, so it is an exact integer in a double.
 */
export function tunnelPath(code: number, depth: number): string {
  if (depth === 0) return '';
  if (depth === 1) return TUNNEL_NAMES[code] ?? '';
  const hit = pathCache.get(code);
  if (hit !== undefined) return hit;
  const parts: string[] = [];
  let c = code;
  for (let i = 0; i < depth; i++) {
    parts.push(TUNNEL_NAMES[c % 16] ?? '');
    c = Math.floor(c / 16);
  }
  const path = parts.reverse().join('/');
  if (pathCache.size < MAX_CACHED_PATHS) pathCache.set(code, path);
  return path;
}
