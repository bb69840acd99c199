import { tupleHash } from '../conn/tuple-index.js';
import type { TcpSegment } from '../decode/segment.js';

/** One worker's share of the connections: those whose tuple hashes to `index` modulo `count`. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * The shard a segment's connection belongs to: from the tuple hash the connection table uses, which is the same
 * in both directions, so every packet of a connection — and every incarnation of its tuple — lands in the same
 * shard. Mixed once more first: the table's index places a tuple by the high bits of that hash times another
 * constant, so a shard (which fixes the hash modulo `count`) still spreads over all of its index.
 */
export function shardOf(seg: TcpSegment, count: number): number {
  return shardOfHash(tupleHash(seg), count);
}

/** shardOf for a segment whose tuple hash is known. */
export function shardOfHash(h: number, count: number): number {
  return (Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0) % count;
}
