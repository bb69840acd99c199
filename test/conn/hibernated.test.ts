/**
 * Hibernation (conn/hibernated.ts): a table that puts its idle open connections into slab records must emit
 * exactly what a table that keeps them in objects emits — every connection, byte for byte as saveState writes it,
 * with the same reason and time — whatever wakes them: a packet, a new incarnation of the tuple, an eviction, the
 * end of the capture, or a visit of every connection.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { synthesize } from '../../bench/synth-capture.js';
import { TableFollower } from '../../src/analysis/analyzer.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS, type ConnectionTableOptions, type EmitReason } from '../../src/conn/connection-table.js';
import { CONNECTION_STATE_WORDS, Connection } from '../../src/conn/connection.js';
import { HibernatedConnections } from '../../src/conn/hibernated.js';
import { TCP_SYN, type TcpSegment } from '../../src/decode/segment.js';
import { Conversation } from '../helpers/conversation.js';
import { eachPacket } from '../helpers/each-packet.js';

const scratch = new Float64Array(CONNECTION_STATE_WORDS);

/** A connection's saved state as hex, with its encapsulation name and hash. */
function stateOf(conn: Connection): string {
  conn.saveState(scratch, 0);
  return `${Buffer.from(scratch.buffer).toString('hex')} ${conn.tunnel} ${conn.hash}`;
}

const UNTRACED: ConnectionTableOptions = { ...DEFAULT_TABLE_OPTIONS, trace: false, zeek: false };

interface Emitted {
  keys: string[];
  hibernated: number;
  woken: number;
}

/** Runs `segs` through a table with or without hibernation; `during` is called after each segment. */
function emitted(segs: TcpSegment[], opts: ConnectionTableOptions, hibernate: boolean, during?: (t: ConnectionTable, i: number) => void): Emitted {
  const keys: string[] = [];
  const table = new ConnectionTable({ ...opts, hibernate }, (conn: Connection, reason: EmitReason, now: number) => {
    keys.push(`${stateOf(conn)} ${reason} ${now}`);
  });
  segs.forEach((s, i) => {
    table.onSegment(s);
    during?.(table, i);
  });
  table.flush();
  return { keys, hibernated: table.hibernatedCount, woken: table.wokenCount };
}

/** Asserts both tables emit the same, in the same order; returns the hibernating table's counts. */
function same(segs: TcpSegment[], opts: ConnectionTableOptions = UNTRACED, during?: (t: ConnectionTable, i: number) => void): Emitted {
  const plain = emitted(segs, opts, false, during);
  const hib = emitted(segs, opts, true, during);
  assert.equal(plain.hibernated, 0);
  assert.equal(hib.keys.length, plain.keys.length, 'as many connections');
  assert.deepEqual(hib.keys, plain.keys);
  return hib;
}

/** Many interleaved conversations that go quiet for a while in the middle of their lives, then carry on or end. */
function idlers(n = 90): TcpSegment[] {
  const all: TcpSegment[] = [];
  for (let i = 0; i < n; i++) {
    const c = new Conversation({
      client: i % 10 === 9 ? `[2001:db8::${1 + (i % 5)}]:${42000 + i}` : `192.0.2.${1 + (i % 7)}:${42000 + i}`,
      server: i % 10 === 9 ? '[2001:db8::80]:8443' : '198.51.100.9:443',
      t0: 1_700_000_000 + i * 0.11,
    });
    c.handshake();
    c.data('c', 100);
    c.ack('s');
    c.data('s', 1000);
    c.ack('c');
    // Quiet for this long (hibernated from 2 s on, or not), then one of the ways a connection goes on.
    c.wait([0.5, 2.5, 4, 30, 200][i % 5]!);
    switch (i % 6) {
      case 0:
        // More data both ways, then a graceful close.
        c.data('c', 50);
        c.data('s', 70);
        c.ack('c');
        c.fin('c');
        c.ack('s');
        c.fin('s');
        c.ack('c');
        break;
      case 1:
        // The server closed earlier; the client, in CLOSE_WAIT, closes late and meets a RST (orphan timeout).
        c.fin('s');
        c.ack('c');
        c.wait(70);
        c.fin('c');
        c.bareRst('s');
        break;
      case 2:
        // Reset by the server.
        c.rstAck('s');
        break;
      case 3:
        // The client opens the tuple again with a new ISN: the hibernated one is superseded.
        c.send('c', TCP_SYN, { seq: 7_000_000 + i, noAdvance: true });
        break;
      case 4:
        // Keepalives, each after another quiet spell, never answered... then nothing: open at the end.
        c.keepAlive('c');
        c.wait(3).keepAlive('c');
        break;
      default:
        // Nothing more: still open at the end of the capture.
        break;
    }
    all.push(...c.segments);
  }
  return all.sort((a, b) => a.tsSec - b.tsSec || a.tsNs - b.tsNs);
}

describe('the hibernated connections store', () => {
  it('gives back exactly the state it was given, with the hash and the encapsulation name', () => {
    const store = new HibernatedConnections();
    const conns: Connection[] = [];
    for (let i = 0; i < 600; i++) {
      const c = new Conversation({ client: `192.0.2.${1 + (i % 9)}:${30000 + i}`, server: '198.51.100.7:80' });
      c.handshake();
      c.data('c', 10 + i);
      const table = new ConnectionTable(UNTRACED, () => undefined);
      for (const s of c.segments) table.onSegment(s);
      const conn = table.lastConnection!;
      conn.tunnel = i % 3 === 0 ? `vlan ${i}` : '';
      conns.push(conn);
    }
    const want = conns.map(stateOf);
    const records = conns.map((c) => store.put(c));
    assert.equal(store.count, 600);
    // Grown a chunk at a time.
    assert.ok(store.capacity >= 600 && store.capacity % 256 === 0, `capacity ${store.capacity}`);
    assert.equal(new Set(records).size, 600, 'every record its own number');
    // Taken back in another order, into fresh connections.
    for (let k = 599; k >= 0; k--) {
      const back = new Connection(false);
      store.take(records[k]!, back);
      assert.equal(stateOf(back), want[k], `record ${k}`);
    }
    assert.equal(store.count, 0);
    // Numbers are reused: no growth for as many again.
    const cap = store.capacity;
    for (const c of conns) store.put(c);
    assert.equal(store.capacity, cap);
  });

  it("checks a segment against a record's tuple, both ways, IPv4 and IPv6", () => {
    const store = new HibernatedConnections();
    for (const [client, server] of [
      ['192.0.2.1:40000', '198.51.100.1:443'],
      ['[2001:db8::1]:40000', '[2001:db8::2]:443'],
    ] as const) {
      const c = new Conversation({ client, server });
      c.handshake();
      const table = new ConnectionTable(UNTRACED, () => undefined);
      for (const s of c.segments) table.onSegment(s);
      const r = store.put(table.lastConnection!);
      const [syn, synAck] = c.segments;
      assert.equal(store.tupleDir(r, syn!), 0, 'from the client');
      assert.equal(store.tupleDir(r, synAck!), 1, 'from the server');
      const other = new Conversation({ client: client.replace('40000', '40001'), server });
      other.syn();
      assert.equal(store.tupleDir(r, other.segments[0]!), -1, 'another tuple');
    }
  });
});

describe('a table that hibernates its idle connections emits what one that does not emits', () => {
  it('woken by data, a close, a RST, a new incarnation; still open at the end', () => {
    const r = same(idlers());
    assert.ok(r.hibernated >= 50, `hibernated ${r.hibernated}`);
    assert.equal(r.woken, r.hibernated, "every hibernated connection woken (the last ones by the end of the capture)");
  });

  it('a small table: hibernated connections evicted as the least recently active', () => {
    const r = same(idlers(), { ...UNTRACED, maxConnections: 12 });
    assert.ok(r.hibernated > 0, `hibernated ${r.hibernated}`);
  });

  it('a visit of every connection wakes the hibernated ones, and the activity order survives compaction', () => {
    // forEach (live capture's close-wait watcher) every 40 segments: what it sees must match too.
    const seen: string[][] = [[], []];
    let run = 0;
    const visit = (t: ConnectionTable, i: number): void => {
      if (i % 40 === 0) t.forEach((c) => seen[run]!.push(`${i} ${c.id} ${c.lastFrame}`));
    };
    const segs = idlers(300);
    const plain = emitted(segs, UNTRACED, false, visit);
    run = 1;
    const hib = emitted(segs, UNTRACED, true, visit);
    assert.deepEqual(hib.keys, plain.keys);
    assert.deepEqual(seen[1], seen[0]);
    assert.ok(hib.hibernated > 100, `hibernated ${hib.hibernated}`);
  });

  it('a synthetic capture of 3,000 connections with long CLOSE_WAITs, whole and with a table of 500', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-hibernated-'));
    try {
      const file = path.join(dir, 'synth.pcap');
      synthesize({ out: file, connections: 3000, duration: 60, seed: 11, mix: { graceful: 50, rst: 20, orphan: 15, closewait: 15 } });
      for (const opts of [UNTRACED, { ...UNTRACED, maxConnections: 500 }]) {
        const runs = [false, true].map(async (hibernate) => {
          const keys: string[] = [];
          const f = new TableFollower({ ...opts, hibernate }, (conn, reason, end) => keys.push(`${stateOf(conn)} ${reason} ${end}`));
          await eachPacket(file, (p) => void f.ingest(p));
          f.finish();
          return { keys, hibernated: f.table.hibernatedCount };
        });
        const [plain, hib] = await Promise.all(runs);
        assert.deepEqual(hib!.keys, plain!.keys);
        assert.ok(hib!.hibernated > 500, `hibernated ${hib!.hibernated}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('only a table that keeps no ladder trace and no Zeek view hibernates', () => {
    const segs = idlers(30);
    for (const opts of [{ ...UNTRACED, trace: true }, { ...UNTRACED, zeek: true }]) {
      const t = new ConnectionTable(opts, () => undefined);
      for (const s of segs) t.onSegment(s);
      assert.equal(t.hibernatedCount, 0);
    }
  });
});
