/**
 * markMutable, and what it is for: no optimised code of a run is thrown away because a field it read as a
 * constant was replaced mid-run (V8's "code dependencies" deoptimisations; src/engine/mutable-fields.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_SYNTH, synthesize } from '../../bench/synth-capture.js';
import { markMutable } from '../../src/engine/mutable-fields.js';
import { REPO } from '../helpers/paths.js';

describe('markMutable', () => {
  it('leaves every field with its value', () => {
    const o = { a: new Int32Array(4), n: 3, s: null as string | null };
    const a = o.a;
    markMutable(o, { a: new Int32Array(0), n: -1, s: '' });
    assert.equal(o.a, a);
    assert.equal(o.n, 3);
    assert.equal(o.s, null);
    assert.deepEqual(Object.keys(o), ['a', 'n', 's']);
  });

  it('refuses a name the object has no field for (it would add one, and change the shape)', () => {
    const o = { a: 1 };
    assert.throws(() => markMutable(o, { b: 2 }), /no field b/);
    assert.deepEqual(Object.keys(o), ['a']);
  });

  it('refuses a stand-in that is the value itself (the field would stay constant)', () => {
    const v = new Uint8Array(1);
    assert.throws(() => markMutable({ v }, { v }), /stand-in for v is its value/);
  });
});

/** The V8 trace line of such a deoptimisation (Node 20's V8; the control below checks it still reads so). */
const DEPENDENCY_DEOPT = /reason: code dependencies/;

function traceDeopts(args: string[]): string {
  const r = spawnSync(process.execPath, ['--trace-deopt', ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('a run throws no optimised code away for a field replaced mid-run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-deopt-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // The control: a field written once, read by optimised code, then replaced, which V8 reports as above.
  const control = path.join(dir, 'control.js');
  fs.writeFileSync(
    control,
    `class T { constructor() { this.a = new Int32Array(8); } grow() { this.a = new Int32Array(16); } }
     function hot(t, i) { return t.a[i & 7]; }
     const t = new T(); let s = 0;
     for (let i = 0; i < 2e6; i++) s += hot(t, i);
     t.grow();
     for (let i = 0; i < 2e6; i++) s += hot(t, i);
     console.log(s);`,
  );
  const traceReads = DEPENDENCY_DEOPT.test(traceDeopts([control]));

  // 30 000 connections (29 MB): the table's arrays grow, the tombstones fill, sketches turn into histograms and the
  // abnormal list fills while the code that reads them is optimised (five such deoptimisations before the change).
  const capture = path.join(dir, 'synth.pcap');
  synthesize({ ...DEFAULT_SYNTH, out: capture, connections: 30_000, duration: 90 });
  const cli = path.join(REPO, 'bin', 'teardown.js');

  for (const jobs of ['1', '2']) {
    it(`with --jobs ${jobs}`, { skip: traceReads ? false : "this Node's V8 does not report such deoptimisations as the control expects" }, () => {
      const out = traceDeopts([cli, 'analyze', '--jobs', jobs, capture]);
      const lines = out.split('\n').filter((l) => DEPENDENCY_DEOPT.test(l));
      assert.deepEqual(lines, []);
    });
  }
});
