/**
 * A SYN flood of distinct 4-tuples (a scanner, or a flood with spoofed sources) through the whole pipeline: a
 * classic pcap written streaming, read by analyzeCaptures with --max-connections 100000. The connection cap must
 * hold, every SYN must be reported once (the ones evicted with low confidence), evictions must be counted, the
 * heap must stay flat once the table is full, and the run must finish.
 *
 * 1 M tuples by default; TEARDOWN_FLOOD=N changes it (the long fuzz run's docs show the full figures).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as v8 from 'node:v8';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { forceGc } from '../fuzz/harness.js';
import { ip4, streamPcap, TcpFrameTemplate } from '../fuzz/capture-build.js';

const N = Number(process.env.TEARDOWN_FLOOD ?? 1_000_000);
const CAP = 100_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-flood-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// The JS heap and the ArrayBuffers that hold each connection's state.
const heap = () => v8.getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers;

describe(`SYN flood: ${N} distinct tuples, --max-connections ${CAP}`, () => {
  it('the cap holds, every SYN is reported once as unanswered, evictions are counted, memory stays flat', { timeout: 180_000 }, async () => {
    const file = path.join(dir, 'flood.pcap');
    const t = new TcpFrameTemplate(0);
    const server = ip4('198.51.100.10');
    const t0 = 1_700_000_000;
    // Source i: 192.0.2.(1 + i % 250), port 1024 + i / 250: all distinct. One SYN every 10 µs.
    streamPcap(file, (emit) => {
      for (let i = 0; i < N; i++) {
        const src = (ip4('192.0.2.0') + 1 + (i % 250)) >>> 0;
        const f = t.set(src, server, 1024 + Math.floor(i / 250), 443, (i * 2654435761) >>> 0, 0, 0x02, 64240);
        const us = i * 10;
        emit(t0 + Math.floor(us / 1e6), (us % 1e6) * 1000, f);
      }
    });

    const gc = forceGc();
    gc?.();
    const base = heap();
    let records = 0;
    let unanswered = 0;
    let low = 0;
    let maxId = 0;
    let idSum = 0;
    let packets = 0;
    // Live heap growth over the first quarter of the records and over the rest. Records come out only by eviction,
    // so the table is full (100 000 connections and their tombstones) at every sample: the heap must not grow with N.
    let peakEarly = 0;
    let peakLate = 0;
    const started = Date.now();
    const res = await analyzeCaptures(
      [file],
      { ...DEFAULT_ANALYZER_OPTIONS, table: { ...DEFAULT_ANALYZER_OPTIONS.table, maxConnections: CAP } },
      {
        onRecord: (rec) => {
          records++;
          if (rec.ending === 'unanswered') unanswered++;
          if (rec.confidence === 'low') low++;
          if (rec.id > maxId) maxId = rec.id;
          idSum += rec.id;
          packets += rec.packets.client + rec.packets.server;
          // The live heap (after a full collection) every N/10 records: what the run holds, not its garbage.
          if (records % Math.max(1, Math.floor(N / 10)) === 0) {
            gc?.();
            const h = heap() - base;
            if (records <= N / 4) peakEarly = Math.max(peakEarly, h);
            else peakLate = Math.max(peakLate, h);
          }
        },
      },
    );
    const seconds = (Date.now() - started) / 1000;
    // ArrayBuffers are freed after the collection that finds them dead, off the main thread: collect, let that
    // finish, collect again, so that a busy machine does not count them as held.
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc?.();
    const retained = heap() - base;
    const s = res.summary;
    const mb = (x: number) => (x / 2 ** 20).toFixed(0);
    process.stdout.write(
      `# flood of ${N}: ${seconds.toFixed(1)} s, ${Math.round(N / seconds)} SYN/s; live heap growth ${mb(peakEarly)} MiB over the first quarter, up to ${mb(peakLate)} MiB over the rest, ${mb(retained)} MiB retained after the run\n`,
    );

    assert.deepEqual(res.errors, []);
    assert.equal(s.packetsRead, N);
    assert.equal(s.tcpSegments, N);
    // Every tuple is one connection, reported exactly once (ids 1..N, each once).
    assert.equal(records, N);
    assert.equal(s.connections, N);
    assert.equal(maxId, N);
    assert.equal(idSum, (N * (N + 1)) / 2);
    assert.equal(packets, N);
    // A lone SYN never ends by itself: beyond the cap, each new one evicts the least recently active.
    assert.equal(s.evictedConnections, Math.max(0, N - CAP));
    assert.equal(unanswered, N, 'every SYN is unanswered');
    assert.equal(low, Math.max(0, N - CAP), 'the evicted ones, and only they, have low confidence');
    // Memory: once the table is full it holds CAP connections and as many tombstones; more SYNs must not grow it.
    if (N >= 4 * CAP) assert.ok(peakLate < peakEarly + 32 * 2 ** 20, `live heap grew from ${mb(peakEarly)} to ${mb(peakLate)} MiB as the flood went on`);
    // Under 4 KiB a connection and 1 KiB a tombstone, plus the garbage of records between collections.
    const bound = Math.min(N, CAP) * 5 * 1024 + 128 * 2 ** 20;
    assert.ok(Math.max(peakEarly, peakLate) < bound, `peak heap growth ${mb(Math.max(peakEarly, peakLate))} MiB, bound ${mb(bound)} MiB`);
    assert.ok(retained < 32 * 2 ** 20, `${mb(retained)} MiB still held after the run`);
  });
});
