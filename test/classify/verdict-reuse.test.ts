/**
 * An analyzer classifies every connection into one reused verdict (classify's `into`): the records it hands out
 * must not change when the next connection is classified, and must equal those of a fresh verdict each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Analyzer, DEFAULT_ANALYZER_OPTIONS } from '../../src/analysis/analyzer.js';
import type { ConnectionRecord } from '../../src/classify/record.js';
import type { TcpSegment } from '../../src/decode/segment.js';
import { Conversation, runSegments } from '../helpers/conversation.js';

/** Three connections that end differently, with different evidence, reasons and views; interleaved in time. */
function segments(): TcpSegment[] {
  const graceful = new Conversation({ client: '192.0.2.11:40001', server: '198.51.100.80:80', t0: 1_700_000_000 });
  graceful.handshake();
  graceful.data('c', 100);
  graceful.ack('s');
  graceful.fin('s');
  graceful.ack('c');
  graceful.fin('c');
  graceful.ack('s');
  const reset = new Conversation({ client: '192.0.2.12:40002', server: '198.51.100.80:80', t0: 1_700_000_000 }).wait(0.5);
  reset.handshake();
  reset.data('c', 200);
  reset.rstAck('s');
  const midstream = new Conversation({ client: '192.0.2.13:40003', server: '198.51.100.80:80', t0: 1_700_000_001 });
  midstream.data('c', 50);
  midstream.ack('s');
  const all = [...graceful.segments, ...reset.segments, ...midstream.segments];
  all.sort((a, b) => a.tsSec - b.tsSec || a.tsNs - b.tsNs);
  all.forEach((s, i) => (s.frame = i + 1));
  return all;
}

describe('a reused verdict', () => {
  it('records handed out stay as they were, and equal records from fresh verdicts', () => {
    const out: ConnectionRecord[] = [];
    const snapshots: string[] = [];
    const analyzer = new Analyzer(DEFAULT_ANALYZER_OPTIONS, (r) => {
      out.push(r);
      snapshots.push(JSON.stringify(r));
    });
    for (const seg of segments()) {
      analyzer.noteTimestamp(seg.tsSec, seg.tsNs);
      analyzer.ingestSegment(seg);
    }
    analyzer.finish();
    assert.equal(out.length, 3);
    // Unchanged since each was handed out, although later connections were classified into the same verdict.
    out.forEach((r, i) => assert.equal(JSON.stringify(r), snapshots[i]));
    assert.deepEqual(new Set(out.map((r) => r.ending)).size, 3, out.map((r) => r.ending).join(', '));
    // The same as with a fresh verdict per connection (buildRecord through the test helper's table).
    const fresh = runSegments(segments(), { graceSeconds: 2 });
    const key = (r: ConnectionRecord) => r.client.ip;
    const byClient = new Map(fresh.map((r) => [key(r), r]));
    for (const r of out) {
      const f = byClient.get(key(r))!;
      assert.deepEqual(r.evidence, f.evidence, key(r));
      assert.deepEqual(r.confidenceReasons, f.confidenceReasons, key(r));
      assert.deepEqual(r.appView, f.appView, key(r));
      assert.equal(r.explanation, f.explanation, key(r));
    }
  });
});
