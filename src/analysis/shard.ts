import type { TcpSegment } from '../decode/segment.js';

/** One worker's share of the connections: those whose tuple hashes to `index` modulo `count`. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Another mix than the connection table's tuple index uses (other constants), on purpose: were a shard picked by
 * the index's own hash, every tuple of a shard would share the hash's low bits and crowd into a fraction of the
 * shard's index.
 */
function endpointMix(addr: Uint32Array, port: number): number {
  let h = Math.imul(port ^ 0x27d4eb2f, 0x165667b1);
  h = Math.imul(h ^ addr[0]!, 0x9e3779b1);
  h = Math.imul(h ^ addr[1]!, 0x85ebca77);
  h = Math.imul(h ^ addr[2]!, 0xc2b2ae3d);
  h = Math.imul(h ^ addr[3]!, 0x27d4eb2f);
  return h ^ (h >>> 16);
}

/**
 * The shard a segment's connection belongs to: a hash of the 4-tuple that is the same in both directions (the two
 * endpoints' mixes are added), so every packet of a connection — and every incarnation of its tuple — lands in the
 * same shard.
 */
export function shardOf(seg: TcpSegment, count: number): number {
  const h = (endpointMix(seg.srcAddr, seg.srcPort) + endpointMix(seg.dstAddr, seg.dstPort)) | 0;
  return ((h ^ (h >>> 13)) >>> 0) % count;
}
