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
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { SAMPLES } from '../helpers/paths.js';

export async function recordsOf(file: string): Promise<ConnectionRecord[]> {
  const out: ConnectionRecord[] = [];
  const res = await analyzeCaptures([file], DEFAULT_ANALYZER_OPTIONS, { onRecord: (r) => void out.push(r) });
  assert.deepEqual(res.errors, [], `reading ${file}`);
  return out;
}

/** Compares the records of one capture with its manifest entry; returns the differences as text. */
export function compareWithManifest(entry: Manifest['captures'][number], records: ConnectionRecord[]): string[] {
  const problems: string[] = [];
  const key = (c: { ip: string; port: number }, s: { ip: string; port: number }, inc: number) =>
    `${c.ip}:${c.port} > ${s.ip}:${s.port} #${inc}`;
  const byKey = new Map(records.map((r) => [key(r.client, r.server, r.incarnation), r]));
  for (const want of entry.connections) {
    const k = key(want.client, want.server, want.incarnation);
    const got = byKey.get(k);
    if (!got) {
      problems.push(`${entry.file}: ${k}: no such connection in the analysis (got ${[...byKey.keys()].join(', ')})`);
      continue;
    }
    byKey.delete(k);
    const diff: string[] = [];
    if (got.ending !== want.ending) diff.push(`ending ${got.ending} ≠ ${want.ending}`);
    if (got.cause !== want.cause) diff.push(`cause ${got.cause} ≠ ${want.cause}`);
    if (got.closer !== want.closer) diff.push(`closer ${got.closer} ≠ ${want.closer}`);
    if (got.appView.client !== want.appView.client) diff.push(`appView.client ${got.appView.client} ≠ ${want.appView.client}`);
    if (got.appView.server !== want.appView.server) diff.push(`appView.server ${got.appView.server} ≠ ${want.appView.server}`);
    if (diff.length > 0) problems.push(`${entry.file}: ${k} (${want.recipe}): ${diff.join('; ')}`);
  }
  for (const k of byKey.keys()) problems.push(`${entry.file}: ${k}: a connection the manifest does not list`);
  return problems;
}

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
