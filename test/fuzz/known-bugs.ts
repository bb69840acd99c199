/**
 * Bugs in src/ that the fuzzer found and that are not fixed yet (docs/robustness.md lists them all, fixed or not),
 * each with the test that reproduces it (marked todo until the fix lands) and a matcher that recognises its
 * violations, so that the fuzz runs keep failing on anything NEW while these are open. When a bug is fixed: remove
 * its entry here and set "bug" to null in its regression file.
 */
import type { Violation } from './harness.js';

export interface KnownBug {
  id: string;
  /** Where and what, for reports. */
  summary: string;
  /** Does this violation (of a run over `inputs`, with all of that run's violations in `all`) come from the bug? */
  matches(v: Violation, all: readonly Violation[], inputs: readonly Buffer[]): boolean;
}


export const KNOWN_BUGS: readonly KnownBug[] = [
];

/** Splits violations into those explained by known bugs (by id) and the rest. */
export function explain(violations: readonly Violation[], inputs: readonly Buffer[] = []): { known: Map<string, Violation[]>; unexplained: Violation[] } {
  const known = new Map<string, Violation[]>();
  const unexplained: Violation[] = [];
  for (const v of violations) {
    const bug = KNOWN_BUGS.find((b) => b.matches(v, violations, inputs));
    if (bug === undefined) unexplained.push(v);
    else {
      const list = known.get(bug.id) ?? [];
      list.push(v);
      known.set(bug.id, list);
    }
  }
  return { known, unexplained };
}
