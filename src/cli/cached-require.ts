/**
 * Loading the CLI's bundles (build/bundle.ts) with V8's code cache: how bin/teardown.js loads the CLI, and how a
 * parallel run's worker loads its code.
 *
 * Why: a run spends its first 0.1 s starting Node and loading code, before it reads a byte (docs/performance.md).
 * A bundle saves resolving and reading a hundred modules; a code cache saves parsing and compiling it, and the
 * bytecode of every function the build's training run called (the cache is written at the end of that run, so it
 * holds what was compiled lazily during it too). Node 20 has no compile cache of its own for CommonJS.
 *
 * The cache is `FILE.cache` beside the bundle, written only by the build (TEARDOWN_WRITE_CODE_CACHE=1); at run
 * time it is only read. V8 checks it against the source, its own version and its flags, and rejects it when any
 * differs (another Node, or `node --some-flag`): the bundle then compiles as it would have without one.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** Suffix of a bundle's code cache file. */
export const CODE_CACHE_SUFFIX = '.cache';

/** What became of a bundle's code cache when it was loaded. */
export type CodeCacheStatus = 'accepted' | 'rejected' | 'absent';

/** Set in the environment of the build's training run: every bundle loaded writes its cache as the thread ends. */
export const WRITE_CODE_CACHE_ENV = 'TEARDOWN_WRITE_CODE_CACHE';
/** Set to 1 to have each load say on stderr what became of its cache (for checking an install). */
export const REPORT_CODE_CACHE_ENV = 'TEARDOWN_CODE_CACHE_REPORT';

export interface CachedModule {
  exports: unknown;
  cache: CodeCacheStatus;
}

/**
 * Runs the CommonJS bundle `file` as require() would (its own exports, module, require, __filename and
 * __dirname; its requires resolve from its folder), compiled with its code cache when there is one.
 */
export function requireCached(file: string): CachedModule {
  const source = fs.readFileSync(file, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(file + CODE_CACHE_SUFFIX);
  } catch {
    // No cache (not built with one, or removed): compile as usual.
  }
  // The same wrapper Node puts around a CommonJS module, on one line so that line numbers in stacks stay right.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const cache: CodeCacheStatus = cachedData === undefined ? 'absent' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
  if (process.env[REPORT_CODE_CACHE_ENV] === '1') process.stderr.write(`teardown: code cache of ${path.basename(file)}: ${cache}\n`);
  if (process.env[WRITE_CODE_CACHE_ENV] === '1') {
    // At the end, so that the cache holds the functions the run compiled, not only the bundle's top level.
    process.once('exit', () => fs.writeFileSync(file + CODE_CACHE_SUFFIX, script.createCachedData()));
  }
  const mod = { exports: {} as unknown };
  const run = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: { exports: unknown }, f: string, d: string) => void;
  run.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  return { exports: mod.exports, cache };
}
