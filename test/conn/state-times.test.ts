/**
 * State changes are stamped with the time of the segment that made them (each end's clock word, W.clock): in every
 * sample capture, each change an end records lies at the capture timestamp of the frame it names, whichever end
 * sent that frame, measured from the connection's first frame. The times come from the capture file itself.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { eachPacket } from '../helpers/each-packet.js';
import { SAMPLES } from '../helpers/paths.js';

const files = fs.readdirSync(SAMPLES).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(SAMPLES, f));

describe('state-change times', () => {
  it('every sample has captures to check', () => assert.ok(files.length >= 10));

  for (const file of files) {
    it(`${path.basename(file)}: each change at its frame's own timestamp`, async () => {
      const times = new Map<number, number>();
      assert.equal(await eachPacket(file, (p) => void times.set(p.frame, p.tsSec + p.tsNs / 1e9)), null);
      const records: ConnectionRecord[] = [];
      await analyzeCaptures([file], DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void records.push(r) });
      let checked = 0;
      for (const r of records) {
        // The client's first change is made by the connection's first frame, at 0.
        const first = r.endpoints.client.states[0];
        assert.ok(first !== undefined, `connection ${r.id} has no state change`);
        assert.equal(first.rel, 0);
        const t0 = times.get(first.frame)!;
        for (const side of ['client', 'server'] as const) {
          for (const ch of r.endpoints[side].states) {
            const t = times.get(ch.frame);
            assert.ok(t !== undefined, `frame ${ch.frame} is in the capture`);
            assert.ok(Math.abs(ch.rel - (t - t0)) < 2e-6, `connection ${r.id} ${side} ${ch.state} at frame ${ch.frame}: ${ch.rel} s, the frame is at ${t - t0} s`);
            checked++;
          }
        }
      }
      assert.ok(checked > records.length, 'more changes than connections were checked');
    });
  }
});
