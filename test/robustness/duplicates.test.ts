/**
 * Duplicated packets: a SPAN port that doubles every frame, and a capture taken at two vantage points (each packet
 * seen twice, the second copy a little later, merged from two files as the command merges them). For every sample
 * capture (one teardown scenario each, real Linux stacks), the verdicts must be those of the single copy: the same
 * connections (no phantom from a copy), and for each the same ending, cause, closer and handshake.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { SAMPLES } from '../helpers/paths.js';
import { readCapture } from '../capture/capture-helpers.js';
import { analyzeFrameFiles, type Frame } from '../fuzz/capture-build.js';

interface Verdict {
  ending: string;
  cause: string | null;
  closer: string | null;
  handshake: string;
}

function verdicts(records: readonly ConnectionRecord[]): Map<string, Verdict> {
  const m = new Map<string, Verdict>();
  for (const r of records) {
    const key = `${r.client.ip}:${r.client.port} > ${r.server.ip}:${r.server.port} #${r.incarnation}`;
    assert.ok(!m.has(key), `${key} reported twice`);
    m.set(key, { ending: r.ending, cause: r.cause, closer: r.closer, handshake: r.handshake });
  }
  return m;
}

function shifted(frames: readonly Frame[], us: number): Frame[] {
  return frames.map((f) => {
    const ns = f.tsNs + us * 1000;
    return { tsSec: f.tsSec + Math.floor(ns / 1e9), tsNs: ns % 1e9, data: f.data };
  });
}

const samples = fs
  .readdirSync(SAMPLES)
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .sort();

async function load(file: string): Promise<{ frames: Frame[]; linkType: number }> {
  const { frames } = await readCapture(path.join(SAMPLES, file));
  const linkTypes = new Set(frames.map((f) => f.linkType));
  assert.equal(linkTypes.size, 1, `${file}: one link type`);
  return {
    frames: frames.map((f) => ({ tsSec: f.tsSec, tsNs: f.tsNs, data: Buffer.from(f.bytes, 'hex') })),
    linkType: [...linkTypes][0]!,
  };
}

describe('duplicated frames: verdicts unchanged, no phantom connections', () => {
  it('the samples are there', () => assert.ok(samples.length >= 15, `${samples.length} samples`));
  for (const file of samples) {
    describe(file, () => {
      it('every frame twice (a SPAN port doubling frames)', async () => {
        const { frames, linkType } = await load(file);
        const single = await analyzeFrameFiles([frames], { linkType });
        const doubled = await analyzeFrameFiles([frames.flatMap((f) => [f, f])], { linkType });
        assert.equal(doubled.result.summary.tcpSegments, 2 * single.result.summary.tcpSegments);
        assert.deepEqual(verdicts(doubled.records), verdicts(single.records));
      });
      for (const us of [100, 3000]) {
        it(`two vantage points ${us} µs apart, merged from two files`, async () => {
          const { frames, linkType } = await load(file);
          const single = await analyzeFrameFiles([frames], { linkType });
          const two = await analyzeFrameFiles([frames, shifted(frames, us)], { linkType });
          assert.deepEqual(verdicts(two.records), verdicts(single.records));
        });
      }
    });
  }
});
