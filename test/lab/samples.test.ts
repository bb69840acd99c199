/**
 * The classifier pinned to the real kernel: every connection of every capture in samples/ (made by the scenario lab
 * between two network namespaces) must get the ending, cause, closer and appView its manifest entry records — what
 * the kernel did on the wire and what the applications really observed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Manifest } from '../../lab/manifest.js';
import { compareWithManifest, recordsOf } from '../helpers/manifest-check.js';
import { SAMPLES } from '../helpers/paths.js';

const manifestPath = path.join(SAMPLES, 'manifest.json');
const manifest: Manifest | null = fs.existsSync(manifestPath) ? JSON.parse(fs.readFileSync(manifestPath, 'utf8')) : null;

describe('samples/ against the real kernel (samples/manifest.json)', () => {
  it('the manifest exists and lists captures', () => {
    assert.ok(manifest, 'samples/manifest.json is missing: run `npm run lab` as root');
    assert.ok(manifest.captures.length >= 15, `only ${manifest.captures.length} captures`);
  });
  for (const entry of manifest?.captures ?? []) {
    it(`${entry.file}: ${entry.title}`, async () => {
      const records = await recordsOf(path.join(SAMPLES, entry.file));
      const problems = compareWithManifest(entry, records);
      assert.deepEqual(problems, []);
    });
  }
});
