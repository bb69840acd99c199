/**
 * The report and the terminal header split a run's counters the same way: what was not decoded or not captured
 * is damage, what stacks do anyway (bad checksums with offload, out-of-window RSTs ignored) is a note.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRunSummary } from '../../src/output/run-summary.js';
import { renderCaptureHeader } from '../../src/output/summary-table.js';
import { damageLines, type ReportMeta } from '../../src/report/report-text.js';

const META = { title: 't', errors: [], generator: 'teardown', generatedAt: '' } as unknown as ReportMeta;

function summary(set: (s: ReturnType<typeof newRunSummary>) => void): ReturnType<typeof newRunSummary> {
  const s = newRunSummary({ closeWaitThresholdMs: 5000, finTimeoutMs: 60000 });
  set(s);
  return s;
}

describe('damage and notes, report and terminal alike', () => {
  it('out-of-window RSTs and bad checksums are notes in both', () => {
    const s = summary((x) => {
      x.outOfWindowRstsIgnored = 4;
      x.badChecksums = 2;
    });
    const d = damageLines(s, META);
    assert.deepEqual(d.warnings, []);
    assert.equal(d.notes.length, 2);
    assert.match(renderCaptureHeader(s), /^Damage\s+none$/m);
  });
  it('fragments never reassembled and malformed frames are damage in both', () => {
    for (const set of [(x: ReturnType<typeof newRunSummary>) => (x.fragments = 3), (x: ReturnType<typeof newRunSummary>) => (x.malformed = 5)]) {
      const s = summary(set);
      assert.equal(damageLines(s, META).warnings.length, 1);
      assert.doesNotMatch(renderCaptureHeader(s), /^Damage\s+none$/m);
    }
  });
});
