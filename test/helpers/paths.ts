import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root: tests are run from it (npm test), whatever folder the compiled files sit in. */
export const REPO = process.env.TEARDOWN_REPO ?? process.cwd();
export const SAMPLES = path.join(REPO, 'samples');
/** The shared corpus of real public captures with Zeek's conn.log for each (lies beside the clone, never copied). */
export const CORPUS = path.resolve(REPO, '..', 'shared', 'corpus');

export function corpusAvailable(): boolean {
  return fs.existsSync(path.join(CORPUS, 'MANIFEST.md'));
}
