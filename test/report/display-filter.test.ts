/**
 * The Wireshark display filter a report shows for a connection (the record's own) selects exactly its packets,
 * and the report's frame range spans them: checked with tshark on the mixed sample.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { isAbnormal } from '../../src/classify/labels.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { frameRange } from '../../src/report/display-filter.js';
import { SAMPLES } from '../helpers/paths.js';
import { analyzeFiles } from './report-helpers.js';

const TSHARK = '/usr/bin/tshark';
const MIXED = path.join(SAMPLES, 'mixed.pcap');

describe('the filters select exactly the connection (tshark)', { skip: fs.existsSync(TSHARK) ? false : `${TSHARK} is not installed` }, () => {
  let abnormal: ConnectionRecord[] = [];
  before(async () => {
    abnormal = (await analyzeFiles([MIXED])).records.filter((r) => isAbnormal(r.ending));
  });

  function framesOf(filter: string): number[] {
    const r = spawnSync(TSHARK, ['-n', '-r', MIXED, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l.trim() !== '').map(Number);
  }

  it('the mixed sample has abnormal connections of several kinds', () => {
    assert.ok(abnormal.length >= 10, `${abnormal.length} abnormal`);
  });

  it('the filter a report shows: as many frames as the record counts, its evidence and ladder among them', () => {
    for (const r of abnormal) {
      const frames = framesOf(r.displayFilter);
      assert.equal(frames.length, r.packets.client + r.packets.server, `#${r.id}: ${r.displayFilter}`);
      const set = new Set(frames);
      for (const f of r.evidence) assert.ok(set.has(f), `#${r.id}: evidence frame ${f}`);
      for (const p of r.ladder) assert.ok(set.has(p.frame), `#${r.id}: ladder frame ${p.frame}`);
      // The frames column: from the first to the last frame tshark finds for the connection.
      assert.deepEqual(frameRange(r), { first: frames[0], last: frames[frames.length - 1] }, `#${r.id}`);
    }
  });
});
