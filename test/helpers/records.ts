/**
 * Builders of ConnectionRecord values for tests of the outputs (pg-protocol test-buffers style): every field
 * has a plausible default, tests override only what they check.
 */
import type { Ending, Side, TcpState } from '../../src/classify/labels.js';
import type { ConnectionRecord, EndSummary, LadderPacket, StateChange } from '../../src/classify/record.js';

/** 2024-01-15T10:00:00Z: the instant every built record's times are offsets from. */
export const BASE_MS = Date.UTC(2024, 0, 15, 10, 0, 0);

/** ISO 8601 UTC with microsecond digits for BASE + offset (in microseconds, an integer). */
export function isoAtUs(offsetUs: number): string {
  const totalUs = BASE_MS * 1000 + offsetUs;
  const sec = Math.floor(totalUs / 1_000_000);
  const us = totalUs - sec * 1_000_000;
  const whole = new Date(sec * 1000).toISOString().slice(0, 19);
  return `${whole}.${String(us).padStart(6, '0')}Z`;
}

export function endSummary(over: Partial<EndSummary> = {}): EndSummary {
  return {
    state: 'CLOSED',
    states: [],
    retransmissions: 0,
    keepAlives: 0,
    zeroWindows: 0,
    finFrame: null,
    finAcked: false,
    rstFrames: [],
    ...over,
  };
}

export function ladderPacket(over: Partial<LadderPacket> & Pick<LadderPacket, 'frame' | 'from' | 'flags'>): LadderPacket {
  const rel = over.rel ?? 0;
  return {
    time: isoAtUs(Math.round(rel * 1e6)),
    rel,
    seq: 0,
    ack: 0,
    len: 0,
    win: 64240,
    note: '',
    ...over,
  };
}

export function change(state: TcpState, frame: number, rel: number): StateChange {
  return { state, frame, rel };
}

/**
 * A record with defaults derived from its id (distinct client ports, start times one second apart), so that
 * a list of records built from different ids is already varied.
 */
export function makeRecord(over: Partial<ConnectionRecord> = {}): ConnectionRecord {
  const id = over.id ?? 1;
  const startUs = id * 1_000_000;
  const durationMs = over.durationMs ?? 250;
  const ending: Ending = over.ending ?? 'graceful-fin';
  return {
    id,
    client: { ip: `192.0.2.${(id % 250) + 1}`, port: 40000 + (id % 20000) },
    server: { ip: '198.51.100.5', port: 443 },
    start: isoAtUs(startUs),
    end: isoAtUs(startUs + Math.round(durationMs * 1000)),
    durationMs,
    packets: { client: 5, server: 4 },
    bytes: { client: 120, server: 2048 },
    handshake: 'complete',
    midstream: false,
    ending,
    cause: null,
    closer: 'client',
    closeWaitMs: null,
    finWait2Ms: null,
    rstReason: null,
    confidence: 'high',
    confidenceReasons: [],
    appView: { client: 'EOF', server: 'EOF' },
    evidence: [id * 10, id * 10 + 1],
    explanation: `Connection ${id} ended: ${ending}.`,
    tunnel: '',
    incarnation: 1,
    tcpStream: id - 1,
    displayFilter: `frame.number>=${id * 10} && frame.number<=${id * 10 + 1}`,
    zeekConnState: 'SF',
    zeekHistory: 'ShADadFf',
    zeekConn: { duration: durationMs / 1000, origBytes: 120, respBytes: 2048, missedBytes: 0 },
    endpoints: { client: endSummary(), server: endSummary({ state: 'TIME_WAIT' }) },
    anomalies: [],
    ladder: [],
    ...over,
  };
}

/** Frame numbers of the scenario below: not consecutive, as in a capture where other connections interleave. */
export const SCENARIO_FRAMES = { syn: 11, synAck: 12, ack: 15, req: 16, resp: 19, srvFin: 23, cliAck: 24, cliFin: 40, srvAck: 41 } as const;

/**
 * The daytime-server teardown: handshake, a request and a reply, the server closes first, the client
 * acknowledges and sits in CLOSE_WAIT for `closeWaitSec`, then closes; the server ends in TIME_WAIT.
 */
export function closeWaitScenario(closeWaitSec: number, over: Partial<ConnectionRecord> = {}): ConnectionRecord {
  const F = SCENARIO_FRAMES;
  const tFin = 0.01;
  const tAck = 0.0101;
  const tCliFin = tAck + closeWaitSec;
  const tEnd = tCliFin + 0.0002;
  const p = (frame: number, rel: number, from: Side, flags: string, rest: Partial<LadderPacket> = {}): LadderPacket =>
    ladderPacket({ frame, rel, from, flags, ...rest });
  const ladder = [
    p(F.syn, 0, 'client', 'SYN', { win: 64240 }),
    p(F.synAck, 0.0005, 'server', 'SYN, ACK', { ack: 1, win: 65160 }),
    p(F.ack, 0.001, 'client', 'ACK', { seq: 1, ack: 1, win: 502 }),
    p(F.req, 0.002, 'client', 'PSH, ACK', { seq: 1, ack: 1, len: 10, win: 502 }),
    p(F.resp, 0.003, 'server', 'PSH, ACK', { seq: 1, ack: 11, len: 24, win: 509 }),
    p(F.srvFin, tFin, 'server', 'FIN, ACK', { seq: 25, ack: 11, win: 509 }),
    p(F.cliAck, tAck, 'client', 'ACK', { seq: 11, ack: 26, win: 502 }),
    p(F.cliFin, tCliFin, 'client', 'FIN, ACK', { seq: 11, ack: 26, win: 502 }),
    p(F.srvAck, tEnd, 'server', 'ACK', { seq: 26, ack: 12, win: 509 }),
  ];
  const client = endSummary({
    state: 'CLOSED',
    states: [
      change('SYN_SENT', F.syn, 0),
      change('ESTABLISHED', F.synAck, 0.0005),
      change('CLOSE_WAIT', F.srvFin, tFin),
      change('LAST_ACK', F.cliFin, tCliFin),
      change('CLOSED', F.srvAck, tEnd),
    ],
    finFrame: F.cliFin,
    finAcked: true,
  });
  const server = endSummary({
    state: 'TIME_WAIT',
    states: [
      change('SYN_RECV', F.syn, 0),
      change('ESTABLISHED', F.ack, 0.001),
      change('FIN_WAIT_1', F.srvFin, tFin),
      change('FIN_WAIT_2', F.cliAck, tAck),
      change('TIME_WAIT', F.cliFin, tCliFin),
    ],
    finFrame: F.srvFin,
    finAcked: true,
  });
  return makeRecord({
    ending: 'close-wait-stuck',
    closer: 'server',
    closeWaitMs: closeWaitSec * 1000,
    finWait2Ms: closeWaitSec * 1000,
    durationMs: tEnd * 1000,
    packets: { client: 5, server: 4 },
    bytes: { client: 10, server: 24 },
    evidence: [F.srvFin, F.cliAck, F.cliFin],
    explanation:
      'The server closed first; the client read EOF but did not close its socket for a long time (CLOSE_WAIT). ' +
      'Look for a missing close() on the client side.',
    endpoints: { client, server },
    ladder,
    ...over,
  });
}

/** Rows of an ASCII cli-table3 table (lines between | borders), cells trimmed; the first row is the header. */
export function parseAsciiTable(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}
