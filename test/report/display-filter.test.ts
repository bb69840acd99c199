/**
 * The Wireshark display filters of the report select exactly one connection's packets: checked with tshark on
 * the mixed sample, against the packet counts and evidence frames of the records.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { isAbnormal } from '../../src/classify/labels.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { displayFilter, frameRange, recordFilter } from '../../src/report/display-filter.js';
import { SAMPLES } from '../helpers/paths.js';
import { analyzeFiles } from './report-helpers.js';

const TSHARK = '/usr/bin/tshark';
const MIXED = path.join(SAMPLES, 'mixed.pcap');

describe('displayFilter text', () => {
  it('IPv4 and IPv6 fields, both ports, the frame range', () => {
    assert.equal(
      displayFilter({ ip: '192.0.2.1', port: 40001 }, { ip: '192.0.2.2', port: 9999 }, { first: 3, last: 17 }),
      'ip.addr==192.0.2.1 && ip.addr==192.0.2.2 && tcp.port==40001 && tcp.port==9999 && frame.number >= 3 && frame.number <= 17',
    );
    assert.equal(
      displayFilter({ ip: '2001:db8::1', port: 5 }, { ip: '2001:db8::2', port: 5 }, null),
      'ipv6.addr==2001:db8::1 && ipv6.addr==2001:db8::2 && tcp.port==5',
    );
  });
  it('refuses anything that is not an address', () => {
    assert.equal(displayFilter({ ip: '1.2.3.4 || 1', port: 1 }, { ip: '192.0.2.2', port: 2 }, null), null);
  });
});

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

  for (const which of ['the report filter', 'the filter built from the kept packets'] as const) {
    it(`${which}: as many frames as the record counts, its evidence and ladder among them`, () => {
      for (const r of abnormal) {
        const filter = which === 'the report filter' ? recordFilter(r) : displayFilter(r.client, r.server, frameRange(r));
        assert.ok(filter !== null);
        const frames = framesOf(filter);
        assert.equal(frames.length, r.packets.client + r.packets.server, `#${r.id}: ${filter}`);
        const set = new Set(frames);
        for (const f of r.evidence) assert.ok(set.has(f), `#${r.id}: evidence frame ${f}`);
        for (const p of r.ladder) assert.ok(set.has(p.frame), `#${r.id}: ladder frame ${p.frame}`);
      }
    });
  }
});
