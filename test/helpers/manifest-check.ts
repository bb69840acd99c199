/**
 * Checking the analyzer against a lab manifest (samples/manifest.json, or the one a fresh lab run returns): the
 * records of a capture, and their differences from the labels its manifest entry records.
 */
import assert from 'node:assert/strict';
import type { CaptureEntry, Manifest } from '../../lab/manifest.js';
import { DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import { analyzeCaptures } from '../../src/analysis/run.js';
import type { ConnectionRecord } from '../../src/classify/record.js';

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

/**
 * The labels a manifest expects, by scenario, client port and incarnation (the same in every run: the lab fixes
 * the client ports), as one line of text each, for comparing two manifests.
 */
export function expectedLabels(captures: readonly CaptureEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of captures) {
    for (const k of c.connections) {
      out.set(
        `${c.scenario} ${k.client.port} #${k.incarnation}`,
        `${k.ending} / ${k.cause ?? '-'} / ${k.closer ?? '-'}; appView ${k.appView.client} / ${k.appView.server}`,
      );
    }
  }
  return out;
}
