/**
 * The CLI as it runs: from its bundle, loaded with its code cache (build/bundle.ts, src/cli/cached-require.ts).
 * A cache V8 rejects would cost every run its start-up gain without a word, so the installed one is checked here;
 * and a bundle must load and run the same with a cache that is stale, damaged or missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { CODE_CACHE_SUFFIX, REPORT_CODE_CACHE_ENV, requireCached, WRITE_CODE_CACHE_ENV } from '../../src/cli/cached-require.js';
import { REPO, SAMPLES } from '../helpers/paths.js';

const CLI = path.join(REPO, 'bin', 'teardown.js');
const BUNDLE = path.join(REPO, 'dist', 'bundle');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown-bundle-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled CLI', () => {
  it('loads the main bundle and the worker bundle with their code caches accepted', () => {
    for (const f of ['main.js', 'shard-worker-code.js']) assert.ok(fs.existsSync(path.join(BUNDLE, f + CODE_CACHE_SUFFIX)), `${f}'s cache built`);
    // --jobs 2 on a sample: the parallel run, so that a worker loads its bundle too.
    const r = cli(['analyze', '--jobs', '2', path.join(SAMPLES, 'graceful.pcap')], { [REPORT_CODE_CACHE_ENV]: '1' });
    assert.equal(r.status, 0, r.stderr);
    const said = r.stderr.trim().split('\n').sort();
    assert.deepEqual(said, ['teardown: code cache of main.js: accepted', 'teardown: code cache of shard-worker-code.js: accepted']);
  });

  it('prints what the unbundled CLI prints (dist/src/cli/main.js), in every output format', () => {
    const file = path.join(SAMPLES, 'mixed.pcap');
    const main = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
    for (const format of ['table', 'json', 'ndjson', 'csv', 'zeek', 'zeek-json']) {
      const args = ['analyze', file, '-F', format, '--color', 'false'];
      const bundled = cli(args);
      const unbundled = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(main)}).main(${JSON.stringify(args)})`], { encoding: 'utf8' });
      assert.equal(bundled.status, unbundled.status, format);
      assert.ok(bundled.stdout.length > 200, format);
      assert.equal(wallClockMasked(bundled.stdout), wallClockMasked(unbundled.stdout), format);
    }
  });

  it("keeps yargs' translations of its messages (a German locale)", () => {
    const main = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
    const env = { LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' };
    const bundled = cli(['analyze'], env);
    const unbundled = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(main)}).main(['analyze'])`], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.match(unbundled.stderr, /Nicht genügend Argumente/);
    assert.equal(bundled.stderr, unbundled.stderr);
    assert.equal(bundled.status, unbundled.status);
  });
});

/** Zeek's #open and #close lines carry the wall clock when the log was written: two runs may differ there. */
function wallClockMasked(text: string): string {
  return text.replace(/^#(open|close)\t\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/gm, '#$1\t(wall clock)');
}

describe('requireCached', () => {
  const file = path.join(dir, 'mod.js');
  fs.writeFileSync(
    file,
    "'use strict';\nconst p = require('node:path');\nexports.where = [__filename, __dirname, p.basename(__filename)];\nexports.self = this === exports;\n" +
      "module.exports.twice = (x) => x * 2;\nexports.stackLine = () => Number(/mod\\.js:(\\d+)/.exec(new Error().stack)[1]);\n",
  );
  const child = (env: NodeJS.ProcessEnv) =>
    spawnSync(
      process.execPath,
      ['-e', `const r = require(${JSON.stringify(path.join(REPO, 'dist/src/cli/cached-require.js'))}).requireCached(${JSON.stringify(file)}); console.log(JSON.stringify([r.cache, r.exports.twice(21)]))`],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );

  it('runs a module as require would: its exports, this, __filename, __dirname, require, and its line numbers', () => {
    const m = requireCached(file).exports as { where: string[]; self: boolean; twice(x: number): number; stackLine(): number };
    assert.deepEqual(m.where, [file, dir, 'mod.js']);
    assert.equal(m.self, true);
    assert.equal(m.twice(4), 8);
    assert.equal(m.stackLine(), 6);
  });

  it('says the cache is absent, then writes it at exit when asked, then accepts it', () => {
    fs.rmSync(file + CODE_CACHE_SUFFIX, { force: true });
    assert.equal(child({}).stdout.trim(), '["absent",42]');
    assert.equal(fs.existsSync(file + CODE_CACHE_SUFFIX), false, 'nothing written unless asked');
    assert.equal(child({ [WRITE_CODE_CACHE_ENV]: '1' }).stdout.trim(), '["absent",42]');
    assert.ok(fs.statSync(file + CODE_CACHE_SUFFIX).size > 0);
    assert.equal(child({}).stdout.trim(), '["accepted",42]');
  });

  it('runs the module all the same when its cache is damaged or belongs to other source', () => {
    fs.writeFileSync(file + CODE_CACHE_SUFFIX, Buffer.from('not a code cache at all'));
    assert.equal(child({}).stdout.trim(), '["rejected",42]');
    // A cache written for other source: V8 checks the source it was made from.
    const other = path.join(dir, 'other.js');
    fs.writeFileSync(other, 'module.exports.twice = (x) => x * 3;\n');
    spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(REPO, 'dist/src/cli/cached-require.js'))}).requireCached(${JSON.stringify(other)})`], {
      env: { ...process.env, [WRITE_CODE_CACHE_ENV]: '1' },
    });
    fs.copyFileSync(other + CODE_CACHE_SUFFIX, file + CODE_CACHE_SUFFIX);
    assert.equal(child({}).stdout.trim(), '["rejected",42]');
  });
});
