/**
 * The installed command, bin/teardown: a POSIX shell launcher that starts Node on bin/teardown.js without
 * NODE_EXTRA_CA_CERTS (Node parses that bundle at every start; teardown opens no TLS connection). It must find
 * bin/teardown.js through npm's links, pass every argument and the exit status through unchanged, and actually
 * keep the variable from Node: a bundle that does not exist makes Node warn on stderr, which shows whether it
 * read the variable.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, SAMPLES } from '../helpers/paths.js';

const LAUNCHER = path.join(REPO, 'bin', 'teardown');
const CLI = path.join(REPO, 'bin', 'teardown.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teardown launcher-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Node's warning when NODE_EXTRA_CA_CERTS names a bundle it cannot load. */
const CA_WARNING = /Ignoring extra certs/;
/** The node the tests run on comes first on PATH, so that the launcher's `node` is this one. */
const env = {
  ...process.env,
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  NODE_EXTRA_CA_CERTS: path.join(dir, 'no-such-bundle.pem'),
};

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const skip = process.platform === 'win32' ? 'the launcher is a POSIX shell script' : false;

describe('the teardown command (bin/teardown)', { skip }, () => {
  it('is what package.json installs as the teardown command', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(pkg.bin.teardown, 'bin/teardown');
    assert.ok((fs.statSync(LAUNCHER).mode & 0o111) !== 0, 'executable');
  });

  it('starts Node without NODE_EXTRA_CA_CERTS, and prints what node bin/teardown.js prints', () => {
    const file = path.join(SAMPLES, 'mixed.pcap');
    const direct = run(process.execPath, [CLI, 'analyze', file, '-F', 'ndjson']);
    // The control: Node run directly reads the variable (and warns about the missing bundle).
    assert.match(direct.stderr, CA_WARNING);
    const launched = run(LAUNCHER, ['analyze', file, '-F', 'ndjson']);
    assert.equal(launched.status, 0, launched.stderr);
    assert.doesNotMatch(launched.stderr, CA_WARNING);
    assert.equal(launched.stderr, '');
    assert.ok(launched.stdout.length > 200);
    assert.equal(launched.stdout, direct.stdout);
  });

  it('finds bin/teardown.js through relative and absolute links, as npm links it into node_modules/.bin', () => {
    const bin = path.join(dir, 'project', 'node_modules', '.bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(path.relative(bin, LAUNCHER), path.join(bin, 'teardown'));
    fs.symlinkSync('teardown', path.join(bin, 'teardown-again'));
    fs.symlinkSync(path.join(bin, 'teardown-again'), path.join(dir, 'absolute'));
    const version = run(process.execPath, [CLI, '--version']).stdout;
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const link of [path.join(bin, 'teardown'), path.join(bin, 'teardown-again'), path.join(dir, 'absolute')]) {
      const r = run(link, ['--version']);
      assert.equal(r.status, 0, `${link}: ${r.stderr}`);
      assert.equal(r.stdout, version, link);
      assert.doesNotMatch(r.stderr, CA_WARNING, link);
    }
  });

  it('passes arguments with spaces and the exit status through unchanged', () => {
    const spaced = path.join(dir, 'a capture with spaces.pcap');
    fs.copyFileSync(path.join(SAMPLES, 'graceful.pcap'), spaced);
    const r = run(LAUNCHER, ['analyze', spaced, '-F', 'csv']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, run(process.execPath, [CLI, 'analyze', spaced, '-F', 'csv']).stdout);
    const missing = path.join(dir, 'no such file.pcap');
    const bad = run(LAUNCHER, ['analyze', missing]);
    const badDirect = run(process.execPath, [CLI, 'analyze', missing]);
    assert.notEqual(bad.status, 0);
    assert.equal(bad.status, badDirect.status);
    assert.match(bad.stderr, /no such file\.pcap/);
  });
});
