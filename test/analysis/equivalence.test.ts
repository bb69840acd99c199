/**
 * Records are identical whether a capture is read whole, split into rotated files (as tcpdump -C/-G writes them)
 * and read together, or piped through standard input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { CORPUS, REPO, corpusAvailable } from '../helpers/paths.js';
import { splitCapture } from '../helpers/split-capture.js';

async function records(files: string[]): Promise<ConnectionRecord[]> {
  const out: ConnectionRecord[] = [];
  const res = await analyzeCaptures(files, DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void out.push(r) });
  assert.deepEqual(res.errors, []);
  return out;
}

const SAMPLE_FILES = ['ssh.pcap', 'Teredo.pcap', 'pop3.pcap', 'ipv6.pcap'];

describe('records are identical whole, rotated or through stdin', { skip: corpusAvailable() ? false : 'the shared corpus (../shared/corpus) is not here' }, () => {
  for (const name of SAMPLE_FILES) {
    it(`${name}: one file = three rotated files (given in any order) = stdin`, async () => {
      const file = path.join(CORPUS, 'zeek', name);
      const whole = await records([file]);
      assert.ok(whole.length > 0);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-eq-'));
      try {
        const parts = await splitCapture(file, 3, dir);
        assert.equal(parts.length, 3);
        assert.deepEqual(await records(parts), whole);
        // Rotated files named out of order are still merged by time.
        assert.deepEqual(await records([parts[2]!, parts[0]!, parts[1]!]), whole);
        const cli = path.join(REPO, 'bin', 'teardown.js');
        const piped = spawnSync(process.execPath, [cli, 'analyze', '-', '-F', 'ndjson'], { input: fs.readFileSync(file), maxBuffer: 64 << 20 });
        assert.equal(piped.status, 0, piped.stderr.toString());
        const fromStdin = piped.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as ConnectionRecord);
        assert.deepEqual(fromStdin, JSON.parse(JSON.stringify(whole)));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
