/**
 * Parking (conn/parked.ts): a table that parks its finished connections in a ring of ended connections (and
 * hibernates its idle ones, conn/hibernated.ts, as a worker's table does) must hand back exactly what a table that
 * does neither emits — every connection, byte for byte as saveState writes it, with the same reason and capture
 * end — whatever the packets that follow a connection's end, the bounds of the table and the room in the ring.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { synthesize } from '../../bench/synth-capture.js';
import { TableFollower } from '../../src/analysis/analyzer.js';
import { EndedRingReader, EndedRingWriter, newEndedRing } from '../../src/analysis/ended-ring.js';
import { parkInto } from '../../src/analysis/shard-follower.js';
import { DEFAULT_TABLE_OPTIONS, type ConnectionTableOptions, type EmitReason } from '../../src/conn/connection-table.js';
import { CONNECTION_STATE_WORDS, type Connection } from '../../src/conn/connection.js';
import { TCP_ACK, TCP_SYN, type TcpSegment } from '../../src/decode/segment.js';
import { Conversation } from '../helpers/conversation.js';
import { eachPacket } from '../helpers/each-packet.js';
import { SAMPLES } from '../helpers/paths.js';

const scratch = new Float64Array(CONNECTION_STATE_WORDS);

/** One emitted connection as a string: its saved state's bytes, its tunnel, why it left, its capture end. */
function key(conn: Connection, reason: EmitReason, captureEnd: number): string {
  conn.saveState(scratch, 0);
  return `${Buffer.from(scratch.buffer).toString('hex')} ${conn.tunnel} ${reason} ${captureEnd}`;
}

/** Feeds a follower its packets, calling `after` after each. */
type Feed = (follower: TableFollower, after: () => void) => Promise<void> | void;

interface Run {
  keys: string[];
  parked: number;
  unparked: number;
  hibernated: number;
}

/** The connections a table emits without parking, sorted (a parallel run's outputs do not depend on the order). */
async function plain(feed: Feed, table: ConnectionTableOptions): Promise<Run> {
  const keys: string[] = [];
  // Nor hibernating (conn/hibernated.ts): the reference keeps every connection in its object.
  const f = new TableFollower({ ...table, trace: false, zeek: false, hibernate: false }, (conn, reason, captureEnd) => keys.push(key(conn, reason, captureEnd)));
  await feed(f, () => undefined);
  f.finish();
  return { keys: keys.sort(), parked: 0, unparked: 0, hibernated: 0 };
}

/**
 * The same through a ring of `records` records as a worker does it, parking; the ring is read only when the
 * writer would wait for room (`drainEvery` 0) or also every `drainEvery` segments.
 */
async function parking(feed: Feed, table: ConnectionTableOptions, records: number, drainEvery = 0): Promise<Run> {
  const keys: string[] = [];
  const sab = newEndedRing(records);
  const reader = new EndedRingReader(sab);
  const drain = (): void => {
    reader.drain((conn, reason, captureEnd) => keys.push(key(conn, reason, captureEnd)));
  };
  const out = new EndedRingWriter(sab, drain);
  let handedBack = 0;
  const f = new TableFollower({ ...table, trace: false, zeek: false }, (conn, reason, captureEnd) => {
    handedBack++;
    out.connection(conn, reason, captureEnd);
  });
  parkInto(f, out, () => handedBack++);
  let n = 0;
  await feed(f, () => {
    if (drainEvery > 0 && ++n % drainEvery === 0) {
      out.publish();
      drain();
    }
  });
  f.finish();
  out.end();
  drain();
  assert.ok(reader.ended, 'the End record arrived');
  assert.equal(keys.length, handedBack, 'every connection handed back arrived once (no voided record read)');
  return { keys: keys.sort(), parked: f.table.parkedCount, unparked: f.table.unparkedCount, hibernated: f.table.hibernatedCount };
}

/** Segments of many interleaved conversations whose ends are followed by packets before, during and after parking. */
function stragglers(): TcpSegment[] {
  const all: TcpSegment[] = [];
  for (let i = 0; i < 120; i++) {
    const c = new Conversation({ client: `192.0.2.${1 + (i % 7)}:${41000 + i}`, server: '198.51.100.9:443', t0: 1_700_000_000 + i * 0.07 });
    c.handshake();
    c.data('c', 100);
    c.ack('s');
    c.data('s', 1000);
    c.ack('c');
    // After the end: nothing, or a packet at once, or one while parked, or one after the grace period.
    const later = [0, 0.04, 0.3, 1.2, 2.6, 5][i % 6]!;
    switch (i % 4) {
      case 0:
        // Graceful; the last ACK retransmitted `later` seconds on (as if lost).
        c.fin('s');
        c.ack('c');
        c.fin('c');
        c.ack('s');
        if (later > 0) c.wait(later).ack('s', { noAdvance: true });
        break;
      case 1:
        // Reset by the client; data the server had in flight arrives, and is reset again.
        c.rstAck('c');
        if (later > 0) {
          c.wait(later).data('s', 200);
          c.bareRst('c');
        }
        break;
      case 2:
        // Graceful, then the client opens the tuple again (a new ISN): a new incarnation.
        c.fin('c');
        c.ack('s');
        c.fin('s');
        c.ack('c');
        if (later > 0) c.wait(later).send('c', TCP_SYN, { seq: 9_000_000 + i, noAdvance: true });
        break;
      default:
        // The server's FIN retransmitted, then the client's ACK of it again.
        c.fin('s');
        c.ack('c');
        c.fin('c');
        c.ack('s');
        if (later > 0) {
          c.wait(later).retransmit('s');
          c.send('c', TCP_ACK, { noAdvance: true });
        }
    }
    all.push(...c.segments);
  }
  // Interleaved in time, as a capture has them; each keeps its frame number.
  return all.sort((a, b) => a.tsSec - b.tsSec || a.tsNs - b.tsNs);
}

function fromSegments(segs: TcpSegment[]): Feed {
  return (f, after) => {
    for (const s of segs) {
      f.ingestSegment(s);
      after();
    }
  };
}

function fromFile(file: string): Feed {
  return async (f, after) => {
    await eachPacket(file, (p) => {
      f.ingest(p);
      after();
    });
  };
}

async function same(feed: Feed, table: ConnectionTableOptions, records: number, drainEvery = 0): Promise<Run> {
  const a = await plain(feed, table);
  const b = await parking(feed, table, records, drainEvery);
  assert.equal(b.keys.length, a.keys.length, 'as many connections');
  assert.deepEqual(b.keys, a.keys);
  return b;
}

describe('a table that parks its finished connections emits what one that does not emits', () => {
  const table: ConnectionTableOptions = { ...DEFAULT_TABLE_OPTIONS };

  it('packets after the end: before parking, while parked (taken back), after the grace period; port reuse', async () => {
    const segs = stragglers();
    const r = await same(fromSegments(segs), table, 4096, 16);
    assert.ok(r.parked >= 60, `connections parked: ${r.parked}`);
    assert.ok(r.unparked >= 20, `taken back by a late packet: ${r.unparked}`);
  });

  it('a small table: parked connections evicted as the least recently active', async () => {
    const r = await same(fromSegments(stragglers()), { ...table, maxConnections: 6 }, 4096, 16);
    assert.ok(r.parked > 0);
  });

  it('a ring too small for the parked records: the table takes them back and goes on', async () => {
    // Read only when the writer would wait: the ring fills behind parked records, which the table takes back.
    const r = await same(fromSegments(stragglers()), table, 16);
    assert.ok(r.parked > 0 && r.unparked > r.parked / 4, `parked ${r.parked}, taken back ${r.unparked}`);
  });

  it('every lab sample', async () => {
    const names = fs.readdirSync(SAMPLES).filter((f) => /\.pcap(ng)?$/.test(f));
    assert.ok(names.length >= 10);
    let parked = 0;
    for (const name of names) parked += (await same(fromFile(path.join(SAMPLES, name)), table, 4096, 64)).parked;
    assert.ok(parked > 0, 'some connections of the samples were parked');
  });

  it('a synthetic capture of 3,000 connections, with a ring of 64 and a table of 500', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-parking-'));
    try {
      const file = path.join(dir, 'synth.pcap');
      synthesize({ out: file, connections: 3000, duration: 30, seed: 7, mix: { graceful: 55, rst: 25, orphan: 10, closewait: 10 } });
      const r1 = await same(fromFile(file), table, 4096, 256);
      assert.ok(r1.parked > 1000, `parked ${r1.parked}`);
      // Its long CLOSE_WAITs hibernate, as a worker's do (conn/hibernated.ts).
      assert.ok(r1.hibernated > 300, `hibernated ${r1.hibernated}`);
      await same(fromFile(file), { ...table, maxConnections: 500 }, 64, 256);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
