/**
 * Runs the frame and segment-stream properties with fast-check for a given seed and number of runs, and reports
 * what they found: the violations of every run, split into known bugs and new findings, and for a new finding the
 * shrunk counterexample. Used by the short fuzz test and, in its worker, by the long run.
 */
import * as fc from 'fast-check';
import { frameArb, segmentsArb } from './generators.js';
import { explain } from './known-bugs.js';
import { framesViolations, segmentsViolations } from './properties.js';
import { signatureOf, type Violation } from './harness.js';

export interface PropertyRunResult {
  runs: number;
  /** Known bug id → runs that showed it. */
  known: Record<string, number>;
  /** A new finding: its signatures and the shrunk counterexample (JSON, cut to 4 KB). */
  failure: { signatures: string[]; counterexample: string } | null;
}

export function runProperty(which: 'frames' | 'segments', seed: number, numRuns: number): PropertyRunResult {
  const known: Record<string, number> = {};
  let runs = 0;
  let lastUnexplained: Violation[] = [];
  const check = (violations: Violation[]): boolean => {
    runs++;
    const e = explain(violations);
    for (const [id] of e.known) known[id] = (known[id] ?? 0) + 1;
    lastUnexplained = e.unexplained;
    return e.unexplained.length === 0;
  };
  const res: fc.RunDetails<unknown[]> =
    which === 'frames'
      ? fc.check(
          fc.property(fc.array(frameArb, { minLength: 1, maxLength: 40 }), fc.constantFrom(1, 2, 8, 100_000), (frames, cap) => check(framesViolations(frames, cap))),
          { seed, numRuns },
        ) as unknown as fc.RunDetails<unknown[]>
      : (fc.check(
          fc.property(segmentsArb, fc.constantFrom(1, 2, 4, 1000), fc.constantFrom(0, 1, 2, 10), (steps, cap, grace) => check(segmentsViolations(steps, cap, grace))),
          { seed, numRuns },
        ) as unknown as fc.RunDetails<unknown[]>);
  let failure: PropertyRunResult['failure'] = null;
  if (res.failed) {
    // After shrinking, the last call was on the shrunk counterexample... not always: run it again to be sure.
    const ce = res.counterexample as unknown[] | null;
    let violations = lastUnexplained;
    if (ce !== null) {
      const v = which === 'frames' ? framesViolations(ce[0] as never, ce[1] as number) : segmentsViolations(ce[0] as never, ce[1] as number, ce[2] as number);
      violations = explain(v).unexplained;
    }
    const text = JSON.stringify(ce, (_k, val: unknown) => (val instanceof Uint8Array ? Buffer.from(val).toString('hex') : val));
    failure = {
      signatures: [...new Set(violations.map(signatureOf))],
      counterexample: (text ?? String(res.errorInstance)).slice(0, 4096),
    };
  }
  return { runs, known, failure };
}
