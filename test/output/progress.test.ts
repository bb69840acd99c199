import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressLine } from '../../src/output/progress.js';

describe('progress line', () => {
  it('shows the share read, the rate and the time left, redrawn at most ten times a second, and erases itself', () => {
    let t = 1_000_000;
    const written: string[] = [];
    const p = new ProgressLine({ write: (s: string) => written.push(s) }, () => t);
    t += 2000;
    p.update(50_000_000, 200_000_000, 1_000_000);
    const line = written[0]!;
    assert.match(line, /^\r/);
    assert.match(line, / 25% /);
    assert.match(line, /500,000 packets\/s/);
    // A quarter in 2 s: three quarters left take 6 s.
    assert.match(line, /6\.0 s left/);
    t += 50;
    p.update(60_000_000, 200_000_000, 1_200_000);
    assert.equal(written.length, 1, 'no redraw within 100 ms');
    t += 60;
    p.update(60_000_000, 200_000_000, 1_200_000);
    assert.equal(written.length, 2);
    p.done();
    assert.equal(written[2], '\r\x1b[K');
  });

  it('without a total (standard input) it counts bytes and packets', () => {
    let t = 0;
    const written: string[] = [];
    const p = new ProgressLine({ write: (s: string) => written.push(s) }, () => t);
    t = 1000;
    p.update(1_000_000, null, 10_000);
    assert.match(written[0]!, /reading .* · 10,000 packets · 10,000 packets\/s/);
  });

  it('draws nothing, and erases nothing, when never updated', () => {
    const written: string[] = [];
    new ProgressLine({ write: (s: string) => written.push(s) }).done();
    assert.deepEqual(written, []);
  });
});
