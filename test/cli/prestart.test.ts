/**
 * The guess bin/teardown.js makes from the raw command line, before the CLI loads, of the worker threads a run
 * will want (src/cli/prestart.ts): it must match what the run then decides (analyze-command, threadsFor) for the
 * usual command lines, and start nothing when in doubt; workers started for a run that does not take them must
 * not keep the process alive.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultJobs, MAX_THREADS, PARALLEL_MIN_BYTES, threadsFor } from '../../src/analysis/worker-launch.js';
import { threadsGuessed } from '../../src/cli/prestart.js';
import { REPO } from '../helpers/paths.js';

let dir = '';
let big = '';
let small = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-prestart-'));
  // Only the sizes matter to the guess (a sparse file takes no room).
  big = path.join(dir, 'big.pcap');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, PARALLEL_MIN_BYTES);
  small = path.join(dir, 'small.pcap');
  fs.writeFileSync(small, Buffer.alloc(1000));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('threads guessed from the command line', () => {
  it('the table output of big captures: one thread per core (at most four)', () => {
    assert.equal(threadsGuessed(['analyze', big]), defaultJobs());
    assert.equal(threadsGuessed(['analyze', '--limit', '20', '-F', 'table', big]), defaultJobs());
    assert.equal(threadsGuessed(['analyze', '--format=table', '--port', '443', big]), defaultJobs());
    assert.equal(threadsGuessed(['analyze', small, small, big]), defaultJobs());
  });

  it('--jobs says how many, whatever the sizes', () => {
    assert.equal(threadsGuessed(['analyze', '-j', '3', small]), 3);
    assert.equal(threadsGuessed(['analyze', '--jobs=2', small]), 2);
    assert.equal(threadsGuessed(['analyze', '-j4', big]), 4);
    assert.equal(threadsGuessed(['analyze', '--jobs', '2', '-']), 2);
    assert.equal(threadsGuessed(['analyze', '--jobs', '1', big]), 1);
    // Never more than the run itself would start (a thousand threads took 43 s and 8.7 GB before this cap).
    assert.equal(threadsGuessed(['analyze', '--jobs', '1000', small]), MAX_THREADS);
    assert.equal(threadsFor([small], 1000), MAX_THREADS);
  });

  it('one thread when the run will not be the table output of big captures, or the line is unclear', () => {
    assert.equal(threadsGuessed(['analyze', small]), 1);
    assert.equal(threadsGuessed(['analyze', '-']), 1);
    assert.equal(threadsGuessed(['analyze', '-F', 'ndjson', big]), 1);
    assert.equal(threadsGuessed(['analyze', '--format', 'csv', big]), 1);
    assert.equal(threadsGuessed(['analyze', '-Fzeek', big]), 1);
    assert.equal(threadsGuessed(['analyze', '--connection', '7', big]), 1);
    assert.equal(threadsGuessed(['analyze', '--each', big]), 1);
    assert.equal(threadsGuessed(['analyze', '--help']), 1);
    assert.equal(threadsGuessed(['analyze', '-j', 'x', big]), 1);
    assert.equal(threadsGuessed(['report', big]), 1);
    assert.equal(threadsGuessed(['live', '-i', 'lo']), 1);
    assert.equal(threadsGuessed([]), 1);
  });

  it('workers started for a run that fails before it takes them do not keep the process alive', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'teardown.js'), 'analyze', '-j', '2', '--limit', 'abc', small], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--limit/);
    assert.ok(Date.now() - t0 < 20_000, 'the process ended on its own');
  });
});
