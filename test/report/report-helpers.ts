/** Shared by the report tests: the records and summary of a capture, as analyzeCaptures gives them. */
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import type { RunSummary } from '../../src/output/run-summary.js';

export async function analyzeFiles(files: string[]): Promise<{ records: ConnectionRecord[]; summary: RunSummary }> {
  const records: ConnectionRecord[] = [];
  const result = await analyzeCaptures(files, DEFAULT_ANALYZER_OPTIONS, {
    onRecord: (r) => {
      records.push(r);
    },
  });
  return { records, summary: result.summary };
}
