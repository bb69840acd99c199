/**
 * Timestamps going backwards within one file: an NTP step of the capturing host's clock, packets timestamped on
 * different CPUs (small inversions), a file pieced together out of order. Reading must not fail, every packet must
 * stay in its connection, and the verdicts must be those of the same traffic with a monotonic clock. What the
 * analysis does with such time is documented in docs/robustness.md.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { readCapture } from '../capture/capture-helpers.js';
import { Conversation } from '../helpers/conversation.js';
import { SAMPLES } from '../helpers/paths.js';
import { analyzeFrameFiles, analyzeSegments, type Frame } from '../fuzz/capture-build.js';

function labels(records: readonly ConnectionRecord[]) {
  return records
    .map((r) => `${r.client.ip}:${r.client.port} > ${r.server.ip}:${r.server.port} #${r.incarnation}: ${r.ending} ${r.cause ?? '-'} ${r.closer ?? '-'} ${r.handshake}`)
    .sort();
}

function at(f: Frame, deltaNs: number): Frame {
  const total = f.tsNs + deltaNs;
  const sec = f.tsSec + Math.floor(total / 1e9);
  return { tsSec: sec, tsNs: ((total % 1e9) + 1e9) % 1e9, data: f.data };
}

/** A graceful connection whose clock steps back `stepS` seconds after its fifth packet. */
function steppedConversation(stepS: number) {
  const cv = new Conversation({ client: '192.0.2.1:40002', server: '198.51.100.2:80' });
  cv.handshake();
  cv.data('c', 100);
  cv.ack('s');
  cv.data('s', 300);
  cv.ack('c');
  cv.fin('c');
  cv.fin('s');
  cv.ack('c');
  const monotonic = cv.segments.map((s) => ({ ...s }));
  for (const s of cv.segments.slice(5)) s.tsSec -= stepS;
  return { stepped: cv.segments, monotonic };
}

const samples = fs
  .readdirSync(SAMPLES)
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .sort();

async function sampleFrames(file: string): Promise<{ frames: Frame[]; linkType: number }> {
  const { frames } = await readCapture(path.join(SAMPLES, file));
  return { frames: frames.map((f) => ({ tsSec: f.tsSec, tsNs: f.tsNs, data: Buffer.from(f.bytes, 'hex') })), linkType: frames[0]!.linkType };
}

describe('timestamps going backwards within a file', () => {
  it('a clock stepped back one hour in the middle of a graceful connection: one connection, graceful-fin', async () => {
    const { stepped, monotonic } = steppedConversation(3600);
    const { records, result } = await analyzeSegments(stepped);
    const expected = (await analyzeSegments(monotonic)).records;
    assert.equal(records.length, 1);
    assert.deepEqual(labels(records), labels(expected));
    assert.equal(records[0]!.packets.client + records[0]!.packets.server, stepped.length);
    assert.deepEqual(records[0]!.bytes, expected[0]!.bytes);
    // The capture's span: from its first frame to its latest timestamp, whatever the order.
    assert.ok(result.summary.captureStart! <= result.summary.captureEnd!, `${result.summary.captureStart} .. ${result.summary.captureEnd}`);
  });

  it('the same connection: durations are not negative', async () => {
    const { stepped } = steppedConversation(3600);
    const r = (await analyzeSegments(stepped)).records[0]!;
    assert.ok(r.durationMs >= 0, `durationMs ${r.durationMs}`);
    for (const v of [r.closeWaitMs, r.finWait2Ms]) assert.ok(v === null || v >= 0, `closeWaitMs ${r.closeWaitMs}, finWait2Ms ${r.finWait2Ms}`);
  });

  for (const file of samples) {
    it(`${file}: every other frame 300 µs earlier than written (local inversions): the verdicts of the monotonic file`, async () => {
      const { frames, linkType } = await sampleFrames(file);
      const jittered = frames.map((f, i) => (i % 2 === 1 ? at(f, -300_000) : f));
      const a = await analyzeFrameFiles([frames], { linkType });
      const b = await analyzeFrameFiles([jittered], { linkType });
      assert.deepEqual(labels(b.records), labels(a.records));
      assert.deepEqual(b.result.errors, []);
    });
  }

  it('mixed.pcap with its second half one day in the past: no crash, every packet in one record, no phantom connection', async () => {
    const { frames, linkType } = await sampleFrames('mixed.pcap');
    const half = Math.floor(frames.length / 2);
    const stepped = frames.map((f, i) => (i >= half ? { ...f, tsSec: f.tsSec - 86_400 } : f));
    const a = await analyzeFrameFiles([frames], { linkType });
    const b = await analyzeFrameFiles([stepped], { linkType });
    assert.deepEqual(b.result.errors, []);
    const packets = (rs: readonly ConnectionRecord[]) => rs.reduce((s, r) => s + r.packets.client + r.packets.server, 0);
    assert.equal(packets(b.records), b.result.summary.tcpSegments);
    assert.equal(b.records.length, a.records.length, 'as many connections as with a monotonic clock');
    const tuples = (rs: readonly ConnectionRecord[]) => rs.map((r) => `${r.client.ip}:${r.client.port}>${r.server.port}#${r.incarnation}`).sort();
    assert.deepEqual(tuples(b.records), tuples(a.records));
    assert.equal(new Set(b.records.map((r) => r.id)).size, b.records.length);
  });
});
