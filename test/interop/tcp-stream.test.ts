/**
 * Every record's `tcpStream` against tshark's `tcp.stream` for the packets of that connection, and its
 * `displayFilter` run through tshark: it must select exactly the connection's packets.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { corpusAvailable, SAMPLES } from '../helpers/paths.js';
import { analyzeTo, ZEEK_DIR } from './zeek-corpus.js';

const TSHARK = 'tshark';
const tsharkMissing = spawnSync(TSHARK, ['--version'], { stdio: 'ignore' }).status !== 0;

/** Corpus traces with port reuse, stragglers after a close, tunnels, VLAN/MPLS, IPv6 and doubled packets. */
const CORPUS_FILES = [
  'Teredo.pcap',
  'modbus-and-non-modbus-p502.pcap',
  'pop3.pcap',
  'ipv6.pcap',
  'mixed-vlan-mpls.pcap',
  'ctu-64702-888.pcap',
  'wikipedia.pcap',
];

function tshark(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(TSHARK, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tshark ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Runs jobs two at a time (tshark takes a quarter of a second to start). */
async function pool<T>(jobs: (() => Promise<T>)[], width = 2): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

function files(): string[] {
  const list = fs
    .readdirSync(SAMPLES)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort()
    .map((f) => path.join(SAMPLES, f));
  if (corpusAvailable()) for (const f of CORPUS_FILES) list.push(path.join(ZEEK_DIR, f));
  return list;
}

interface FileResult {
  file: string;
  records: ConnectionRecord[];
  /** tshark: frame number → the tcp.stream values it shows for it. */
  streams: Map<number, string>;
  /** tshark: the frames each record's display filter selects. */
  selected: number[][];
}

describe('Wireshark: tcp.stream and display filters checked with tshark', { skip: tsharkMissing ? 'tshark is not installed' : false }, () => {
  const results: FileResult[] = [];

  before(async () => {
    for (const file of files()) {
      const text = await analyzeTo(file, 'ndjson');
      const records = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as ConnectionRecord);
      const streams = new Map<number, string>();
      for (const line of (await tshark(['-r', file, '-Y', 'tcp', '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.stream'])).split('\n')) {
        const [frame, stream] = line.split('\t');
        if (frame) streams.set(Number(frame), stream ?? '');
      }
      const selected = await pool(
        records.map((r) => async () =>
          (await tshark(['-r', file, '-Y', r.displayFilter, '-T', 'fields', '-e', 'frame.number']))
            .split('\n')
            .filter((l) => l !== '')
            .map(Number),
        ),
      );
      results.push({ file, records, streams, selected });
    }
  });

  it('reads every sample, and the corpus traces where the corpus is', () => {
    assert.ok(results.length >= 10);
    assert.ok(results.every((r) => r.records.length > 0), 'every capture has connections');
    if (!corpusAvailable()) console.log(`corpus traces skipped: no corpus at ${ZEEK_DIR}`);
  });

  it('gives each connection the tcp.stream tshark shows on its packets', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { file, records, streams } of results) {
      for (const r of records) {
        const frames = [...r.ladder.map((p) => p.frame), ...r.evidence];
        const seen = new Set(frames.map((f) => streams.get(f)));
        checked++;
        if (seen.size !== 1 || !seen.has(String(r.tcpStream))) {
          wrong.push(`${path.basename(file)} #${r.id} ${r.client.port}→${r.server.port}: ours ${r.tcpStream}, tshark ${[...seen].join('/')}`);
        }
      }
    }
    assert.ok(checked >= 60, `${checked} connections`);
    assert.deepEqual(wrong, []);
  });

  it('has a display filter that selects exactly the connection’s packets', () => {
    const wrong: string[] = [];
    for (const { file, records, selected } of results) {
      records.forEach((r, i) => {
        const frames = new Set(selected[i]);
        const name = `${path.basename(file)} #${r.id}`;
        if (frames.size !== r.packets.client + r.packets.server) wrong.push(`${name}: selects ${frames.size} frames, the connection has ${r.packets.client + r.packets.server}`);
        const missing = r.ladder.map((p) => p.frame).filter((f) => !frames.has(f));
        if (missing.length > 0) wrong.push(`${name}: leaves out frames ${missing.join(', ')}`);
      });
    }
    assert.deepEqual(wrong, []);
  });

  it('separates the incarnations of a reused 4-tuple', () => {
    const reuse = results.find((r) => r.file.endsWith('port-reuse.pcap'));
    assert.ok(reuse, 'samples/port-reuse.pcap');
    const [a, b] = reuse.records.filter((r) => r.client.port === reuse.records[0]!.client.port);
    assert.ok(a && b, 'two incarnations');
    assert.notEqual(a.tcpStream, b.tcpStream);
    const i = reuse.records.indexOf(a);
    const j = reuse.records.indexOf(b);
    assert.equal(reuse.selected[i]!.filter((f) => reuse.selected[j]!.includes(f)).length, 0, 'no frame in both filters');
  });
});
