/**
 * The table output filters classified connections without building their records; the record outputs filter
 * records. Both must keep the same connections, for every filter.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { classifiedFilter, recordFilter, type FilterArgs } from '../../src/analysis/record-filter.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { SAMPLES } from '../helpers/paths.js';

describe('record filter and classified filter agree', () => {
  it('on every lab sample, for each kind of filter', async () => {
    const files = fs.readdirSync(SAMPLES).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(SAMPLES, f));
    assert.ok(files.length >= 17);
    const cases: FilterArgs[] = [
      {},
      { only: 'abnormal' },
      { ending: ['refused', 'graceful-fin'] },
      { port: [9999] },
      { host: ['192.0.2.1'] },
      { host: ['[2001:DB8::2]'] },
      { host: ['198.51.100.9'], port: [1] },
    ];
    let kept = 0;
    let seen = 0;
    for (const file of files) {
      await analyzeCaptures([file], DEFAULT_ANALYZER_OPTIONS, {
        onClassified: (c) => {
          seen++;
          for (const a of cases) {
            const fast = classifiedFilter(a)(c);
            assert.equal(fast, recordFilter(a)(c.record()), `${path.basename(file)} #${c.id} ${JSON.stringify(a)}`);
            if (fast) kept++;
          }
        },
      });
    }
    // Not vacuous: connections were seen, and the filters kept some and left out others.
    assert.ok(seen > 20);
    assert.ok(kept > 0 && kept < seen * cases.length);
  });
});
