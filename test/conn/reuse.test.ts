/**
 * Connection objects are pooled and reused once their record is built. Reuse must change nothing: the records of
 * a capture with many connections (port reuse, evictions, stragglers, every kind of ending) are the same with and
 * without it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { synthesize, DEFAULT_SYNTH } from '../../bench/synth-capture.js';
import { DEFAULT_ANALYZER_OPTIONS, type AnalyzerOptions } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { SAMPLES } from '../helpers/paths.js';

async function records(files: string[], reuse: boolean, maxConnections: number): Promise<ConnectionRecord[]> {
  const opts: AnalyzerOptions = {
    ...DEFAULT_ANALYZER_OPTIONS,
    table: { ...DEFAULT_ANALYZER_OPTIONS.table, maxConnections, reuseConnections: reuse },
  };
  const out: ConnectionRecord[] = [];
  await analyzeCaptures(files, opts, { onRecord: (r) => void out.push(r) });
  return out;
}

describe('connection reuse', () => {
  it('a synthetic capture of 3000 connections gives the same records with and without reuse, also under eviction', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-reuse-'));
    try {
      const file = path.join(dir, 'synth.pcap');
      synthesize({ ...DEFAULT_SYNTH, out: file, connections: 3000, duration: 30, seed: 7 });
      for (const max of [100_000, 200]) {
        const fresh = await records([file], false, max);
        const reused = await records([file], true, max);
        assert.equal(fresh.length, 3000);
        assert.deepEqual(reused, fresh);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('all samples together (port reuse, many incarnations of one 4-tuple) give the same records, each once', async () => {
    const files = fs.readdirSync(SAMPLES).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(SAMPLES, f));
    assert.ok(files.length >= 17, `${files.length} samples`);
    const fresh = await records(files, false, 100_000);
    // A finished connection superseded by a new SYN within its grace period is reported once, not again when
    // its grace period ends (a regression: it used to be emitted twice).
    assert.equal(new Set(fresh.map((r) => r.id)).size, fresh.length);
    assert.deepEqual(await records(files, true, 100_000), fresh);
  });
});
