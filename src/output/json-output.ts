/**
 * `--format json` and `--format ndjson`.
 *
 * json writes one document, `{"version":1,"connections":[…],"summary":{…}}`, one record per line, each record
 * written as soon as it is handed over; the summary closes the document because its counters are final only
 * after the last packet (key order does not change what JSON.parse returns). ndjson writes one record per
 * line and nothing else, so `tail -f | jq` works while a capture is being read.
 *
 * Fields are written in the order ConnectionRecord declares them, whatever order the record object was built
 * in: orderedRecord() rebuilds the record field by field, and the compiler checks that it names every field.
 */
import type {
  ConnectionRecord,
  EndSummary,
  Endpoint,
  LadderPacket,
  StateChange,
} from '../classify/record.js';
import type { RunSummary } from './run-summary.js';
import { StreamWriter, type RecordSink, type TextOut } from './sink.js';

/** Version of the JSON document layout; changes when a field changes meaning or disappears. */
export const JSON_OUTPUT_VERSION = 1;

function endpoint(e: Endpoint): Endpoint {
  return { ip: e.ip, port: e.port };
}

function stateChange(s: StateChange): StateChange {
  return { state: s.state, rel: s.rel, frame: s.frame };
}

function endSummary(e: EndSummary): EndSummary {
  return {
    state: e.state,
    states: e.states.map(stateChange),
    retransmissions: e.retransmissions,
    keepAlives: e.keepAlives,
    zeroWindows: e.zeroWindows,
    finFrame: e.finFrame,
    finAcked: e.finAcked,
    rstFrames: e.rstFrames.slice(),
  };
}

function ladderPacket(p: LadderPacket): LadderPacket {
  return {
    frame: p.frame,
    time: p.time,
    rel: p.rel,
    from: p.from,
    flags: p.flags,
    seq: p.seq,
    ack: p.ack,
    len: p.len,
    win: p.win,
    note: p.note,
  };
}

/** A copy of the record with its fields (and nested fields) in declaration order, and nothing else. */
export function orderedRecord(r: ConnectionRecord): ConnectionRecord {
  return {
    id: r.id,
    client: endpoint(r.client),
    server: endpoint(r.server),
    start: r.start,
    end: r.end,
    durationMs: r.durationMs,
    packets: { client: r.packets.client, server: r.packets.server },
    bytes: { client: r.bytes.client, server: r.bytes.server },
    handshake: r.handshake,
    midstream: r.midstream,
    ending: r.ending,
    cause: r.cause,
    closer: r.closer,
    closeWaitMs: r.closeWaitMs,
    finWait2Ms: r.finWait2Ms,
    rstReason: r.rstReason,
    confidence: r.confidence,
    confidenceReasons: r.confidenceReasons.slice(),
    appView: { client: r.appView.client, server: r.appView.server },
    evidence: r.evidence.slice(),
    explanation: r.explanation,
    tunnel: r.tunnel,
    incarnation: r.incarnation,
    tcpStream: r.tcpStream,
    displayFilter: r.displayFilter,
    zeekConnState: r.zeekConnState,
    zeekHistory: r.zeekHistory,
    zeekConn: r.zeekConn && {
      duration: r.zeekConn.duration,
      origBytes: r.zeekConn.origBytes,
      respBytes: r.zeekConn.respBytes,
      missedBytes: r.zeekConn.missedBytes,
    },
    endpoints: { client: endSummary(r.endpoints.client), server: endSummary(r.endpoints.server) },
    anomalies: r.anomalies.slice(),
    ladder: r.ladder.map(ladderPacket),
  };
}

/** One record as a single line of JSON (no trailing newline). */
export function recordToJson(r: ConnectionRecord): string {
  return JSON.stringify(orderedRecord(r));
}

/**
 * `--format json`: the header goes out with the first record (or at finish when there is none), each record on
 * its own line, then the summary and the closing brace.
 */
export function createJsonWriter(out: TextOut): RecordSink {
  const w = new StreamWriter(out);
  let count = 0;
  const head = `{"version":${JSON_OUTPUT_VERSION},"connections":[`;
  return {
    write(record) {
      const text = recordToJson(record);
      const ok = w.write(count === 0 ? `${head}\n${text}` : `,\n${text}`);
      count++;
      return ok;
    },
    drain: () => w.drain(),
    finish(summary: RunSummary) {
      const open = count === 0 ? head : '\n';
      return w.flush(`${open}],"summary":${JSON.stringify(summary)}}\n`);
    },
  };
}

/** `--format ndjson`: one record per line, each handed to the stream as soon as it is written. */
export function createNdjsonWriter(out: TextOut): RecordSink {
  const w = new StreamWriter(out);
  return {
    write: (record) => w.write(`${recordToJson(record)}\n`),
    drain: () => w.drain(),
    // Nothing closes an ndjson stream; wait only until what was written has been accepted.
    finish: () => w.flush(''),
  };
}
