/**
 * The samples regenerated: the lab runs every scenario again in fresh network namespaces (into a temporary folder,
 * never samples/), and the analyzer must give every fresh connection the labels the fresh manifest records — what
 * the kernel did this time. The fresh manifest's expected labels must also equal those of the committed
 * samples/manifest.json, so that a change in kernel behaviour (or a recipe changed without regenerating the
 * samples) shows up here. Needs root and the lab's tools; skipped otherwise.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LabError, runLab, SCENARIO_NAMES } from '../../lab/lab.js';
import type { Manifest } from '../../lab/manifest.js';
import { compareWithManifest, expectedLabels, recordsOf } from '../helpers/manifest-check.js';
import { SAMPLES } from '../helpers/paths.js';

/** The whole run takes about 15 s; every scenario has its own 45 s limit inside the lab. */
const RUN_TIMEOUT_MS = 180_000;
const TOOLS = ['ip', 'nft', 'tcpdump', 'dumpcap', 'tshark'] as const;

function onPath(tool: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function whySkip(): string | false {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'needs root: the lab creates network namespaces, nftables rules and packet captures (run the tests as root)';
  }
  const missing = TOOLS.filter((t) => !onPath(t));
  if (missing.length > 0) return `the lab needs ${missing.join(', ')} on PATH (Debian: iproute2 nftables tcpdump wireshark-common tshark)`;
  return false;
}

/** Name, size and modification time of every file in samples/: the run must leave them all as they were. */
function samplesSnapshot(): string[] {
  return fs
    .readdirSync(SAMPLES)
    .sort()
    .map((f) => {
      const st = fs.statSync(path.join(SAMPLES, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    });
}

const skip = whySkip();
const committedPath = path.join(SAMPLES, 'manifest.json');

describe('the lab regenerates every scenario, and the analyzer agrees with the fresh captures', { skip }, () => {
  let outDir = '';
  let fresh: Manifest | null = null;
  let failure: string | null = null;
  let committedText = '';
  let samplesBefore: string[] = [];
  const log: string[] = [];

  before(
    async () => {
      committedText = fs.readFileSync(committedPath, 'utf8');
      samplesBefore = samplesSnapshot();
      outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-regen-'));
      const started = Date.now();
      try {
        fresh = await runLab({ outDir, log: (l) => void log.push(l) });
      } catch (err) {
        // Reported by the first test, with the lab's own account of what failed.
        failure =
          err instanceof LabError
            ? `${err.message}${err.keptDir !== null ? `\n(captures kept in ${err.keptDir})` : ''}`
            : err instanceof Error
              ? (err.stack ?? err.message)
              : String(err);
      }
      log.push(`regeneration: ${((Date.now() - started) / 1000).toFixed(1)} s wall time`);
    },
    { timeout: RUN_TIMEOUT_MS },
  );

  after(() => {
    if (outDir !== '') fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('the lab ran every scenario and every check held', (t) => {
    for (const l of log) t.diagnostic(l);
    assert.equal(failure, null, failure ?? '');
    assert.ok(fresh);
    assert.deepEqual(
      fresh.captures.map((c) => c.scenario),
      [...SCENARIO_NAMES],
    );
    for (const c of fresh.captures) assert.ok(fs.existsSync(path.join(outDir, c.file)), `${c.file} was not written`);
  });

  for (const name of SCENARIO_NAMES) {
    it(`${name}: the analyzer gives the fresh capture the labels the fresh manifest records`, async () => {
      assert.ok(fresh, 'no fresh manifest (see the first test)');
      const entry = fresh.captures.find((c) => c.scenario === name);
      assert.ok(entry, `${name} is not in the fresh manifest`);
      const records = await recordsOf(path.join(outDir, entry.file));
      assert.deepEqual(compareWithManifest(entry, records), []);
    });
  }

  it('the fresh expected labels equal those of the committed samples/manifest.json', () => {
    assert.ok(fresh, 'no fresh manifest (see the first test)');
    const committed = JSON.parse(committedText) as Manifest;
    const was = expectedLabels(committed.captures);
    const now = expectedLabels(fresh.captures);
    const diff: string[] = [];
    for (const [k, v] of now) {
      const old = was.get(k);
      if (old === undefined) diff.push(`${k}: only in the fresh run (${v})`);
      else if (old !== v) diff.push(`${k}: committed ${old}, fresh ${v}`);
    }
    for (const [k, v] of was) if (!now.has(k)) diff.push(`${k}: only in the committed manifest (${v})`);
    assert.deepEqual(diff, []);
    assert.ok(now.size >= SCENARIO_NAMES.length, `only ${now.size} connections`);
  });

  it('samples/ was not touched', () => {
    assert.deepEqual(samplesSnapshot(), samplesBefore);
    assert.equal(fs.readFileSync(committedPath, 'utf8'), committedText);
  });
});
