/**
 * The connection table's tuple index: open addressing with backward-shift deletion, entries of (hash, value)
 * whose tuples the index's user keeps. Checked against a plain Map over many random inserts and removals, with
 * hashes forced to collide so that long probe runs wrap around the array and removals shift entries back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TupleIndex, tupleHash, type TupleKeys } from '../../src/conn/tuple-index.js';
import { newTcpSegment, type TcpSegment } from '../../src/decode/segment.js';
import { prng as rng } from '../capture/capture-helpers.js';

interface Tuple {
  v6: boolean;
  client: number[];
  server: number[];
  cport: number;
  sport: number;
}

function key(t: Tuple): string {
  return `${t.v6}|${t.client.join('.')}|${t.cport}|${t.server.join('.')}|${t.sport}`;
}

/** A segment of the tuple, from the client (or from the server). */
function segOf(seg: TcpSegment, t: Tuple, fromServer: boolean): TcpSegment {
  seg.ipVersion = t.v6 ? 6 : 4;
  seg.srcAddr.set(fromServer ? t.server : t.client);
  seg.dstAddr.set(fromServer ? t.client : t.server);
  seg.srcPort = fromServer ? t.sport : t.cport;
  seg.dstPort = fromServer ? t.cport : t.sport;
  return seg;
}

/** The tuples of the values, as the connection table keeps them (its connections' and tombstones' words). */
class Keys implements TupleKeys {
  readonly tuples = new Map<number, Tuple>();
  asked = 0;

  tupleDir(value: number, seg: TcpSegment): number {
    this.asked++;
    const t = this.tuples.get(value);
    assert.ok(t !== undefined, `the index asked about value ${value}, which it does not hold`);
    if (seg.ipVersion !== (t.v6 ? 6 : 4)) return -1;
    const same = (a: Uint32Array, b: number[]): boolean => a.every((w, i) => w === b[i]);
    if (seg.srcPort === t.cport && seg.dstPort === t.sport && same(seg.srcAddr, t.client) && same(seg.dstAddr, t.server)) return 0;
    if (seg.srcPort === t.sport && seg.dstPort === t.cport && same(seg.srcAddr, t.server) && same(seg.dstAddr, t.client)) return 1;
    return -1;
  }
}

describe('TupleIndex', () => {
  it('finds a tuple from both directions and says which', () => {
    const keys = new Keys();
    const idx = new TupleIndex(keys);
    const seg = newTcpSegment();
    const t: Tuple = { v6: false, client: [0xc0000201, 0, 0, 0], server: [0xc0000202, 0, 0, 0], cport: 40000, sport: 443 };
    const h = tupleHash(segOf(seg, t, false));
    assert.equal(tupleHash(segOf(seg, t, true)), h, 'the hash is the same both ways');
    keys.tuples.set(7, t);
    idx.insert(h, 7);
    assert.equal(idx.find(segOf(seg, t, false), h), 7);
    assert.equal(idx.dir, 0);
    assert.equal(idx.find(segOf(seg, t, true), h), 7);
    assert.equal(idx.dir, 1);
    // Same addresses and ports over IPv6: another tuple.
    const t6 = { ...t, v6: true };
    assert.equal(idx.find(segOf(seg, t6, false), h), -1);
    // Swapped ports only: another tuple.
    assert.equal(idx.find(segOf(seg, { ...t, cport: 443, sport: 40000 }, false), h), -1);
  });

  for (const hashes of [3, 1 << 30]) {
    it(`matches a Map over 20 000 random inserts and removals (${hashes === 3 ? 'three colliding hashes' : 'spread hashes'})`, () => {
      const rand = rng(hashes);
      const keys = new Keys();
      const idx = new TupleIndex(keys, 16);
      const seg = newTcpSegment();
      const ref = new Map<string, { t: Tuple; hash: number; value: number }>();
      const held: string[] = [];
      let nextValue = 0;
      for (let step = 0; step < 20_000; step++) {
        if (held.length === 0 || rand() < 0.55) {
          const v6 = rand() < 0.3;
          const word = () => (rand() * 8) >>> 0; // few distinct words: tuples that differ in one place
          const t: Tuple = {
            v6,
            client: [word(), v6 ? word() : 0, 0, v6 ? word() : 0],
            server: [word(), 0, v6 ? word() : 0, 0],
            cport: (rand() * 4) >>> 0,
            sport: (rand() * 4) >>> 0,
          };
          const k = key(t);
          if (ref.has(k)) continue;
          // Also the reverse tuple is the same connection: skip it when held, and skip a tuple that is its own
          // reverse (same address and port at both ends: either direction matches, and find says 0).
          const rk = key({ ...t, client: t.server, server: t.client, cport: t.sport, sport: t.cport });
          if (ref.has(rk) || rk === k) continue;
          const hash = (rand() * hashes) | 0;
          const value = nextValue++;
          keys.tuples.set(value, t);
          idx.insert(hash, value);
          ref.set(k, { t, hash, value });
          held.push(k);
        } else {
          const i = (rand() * held.length) >>> 0;
          const k = held[i]!;
          held[i] = held[held.length - 1]!;
          held.pop();
          const e = ref.get(k)!;
          ref.delete(k);
          assert.equal(idx.remove(e.hash, e.value), true);
          assert.equal(idx.remove(e.hash, e.value), false, 'gone after removal');
          assert.equal(idx.find(segOf(seg, e.t, false), e.hash), -1);
          keys.tuples.delete(e.value);
        }
        assert.equal(idx.count, ref.size);
        if (step % 97 === 0) {
          for (const e of ref.values()) {
            const fromServer = rand() < 0.5;
            assert.equal(idx.find(segOf(seg, e.t, fromServer), e.hash), e.value);
            assert.equal(idx.dir, fromServer ? 1 : 0);
          }
        }
      }
    });
  }

  it('setValueAt hands an entry to another value in place, where find left it', () => {
    const keys = new Keys();
    const idx = new TupleIndex(keys);
    const seg = newTcpSegment();
    const t: Tuple = { v6: false, client: [1, 0, 0, 0], server: [2, 0, 0, 0], cport: 1000, sport: 80 };
    const h = 12345;
    keys.tuples.set(1, t);
    idx.insert(h, 1);
    assert.equal(idx.find(segOf(seg, t, false), h), 1);
    keys.tuples.set(9, t);
    idx.setValueAt(idx.at, 9);
    assert.equal(idx.find(segOf(seg, t, false), h), 9);
    // The tuple changes hands with its roles reversed: the old server is the new client.
    keys.tuples.set(4, { ...t, client: t.server, server: t.client, cport: t.sport, sport: t.cport });
    idx.setValueAt(idx.at, 4);
    assert.equal(idx.find(segOf(seg, t, true), h), 4);
    assert.equal(idx.dir, 0, 'the old server now sends as the client');
    assert.equal(idx.count, 1);
  });

  it('asks its user only about entries of the same hash', () => {
    const keys = new Keys();
    const idx = new TupleIndex(keys, 16);
    const seg = newTcpSegment();
    // Values 0-5 under hashes 0-5; values 6 and 7 both under hash 7.
    const tuples: Tuple[] = [];
    for (let i = 0; i < 8; i++) {
      const t: Tuple = { v6: false, client: [10 + i, 0, 0, 0], server: [2, 0, 0, 0], cport: 1000 + i, sport: 80 };
      tuples.push(t);
      keys.tuples.set(i, t);
      idx.insert(i < 6 ? i : 7, i);
    }
    keys.asked = 0;
    assert.equal(idx.find(segOf(seg, tuples[3]!, true), 3), 3);
    assert.equal(idx.dir, 1);
    assert.equal(keys.asked, 1, 'one tuple check for a hash held once');
    keys.asked = 0;
    const stranger: Tuple = { ...tuples[7]!, cport: 9 };
    assert.equal(idx.find(segOf(seg, stranger, false), 7), -1);
    assert.equal(keys.asked, 2, 'both entries of the hash checked, and no other');
  });
});
