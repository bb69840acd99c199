import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../src/classify/record.js';
import { renderLadder } from '../../src/output/ladder.js';
import { SCENARIO_FRAMES as F, change, closeWaitScenario, ladderPacket } from '../helpers/records.js';

const ARROW_LINE = /^\s*(\d+)\s+(\d+\.\d{3})\s.*[│|]/;

/** Frame numbers of the arrow lines, top to bottom. */
function drawnFrames(text: string): number[] {
  return text.split('\n').flatMap((l) => {
    const m = ARROW_LINE.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

function lineOf(text: string, frame: number): string {
  const line = text.split('\n').find((l) => ARROW_LINE.exec(l)?.[1] === String(frame));
  assert.ok(line !== undefined, `no line for frame ${frame}`);
  return line;
}

function gapLines(text: string): string[] {
  return text.split('\n').filter((l) => /[┆:] *(···|\.\.\.) /.test(l));
}

/** Moves every packet and state change at or after `fromRel` later by `bySec` seconds. */
function delayFrom(r: ConnectionRecord, fromRel: number, bySec: number): ConnectionRecord {
  const shift = (rel: number): number => (rel >= fromRel ? rel + bySec : rel);
  return {
    ...r,
    ladder: r.ladder.map((p) => ({ ...p, rel: shift(p.rel) })),
    endpoints: {
      client: { ...r.endpoints.client, states: r.endpoints.client.states.map((s) => ({ ...s, rel: shift(s.rel) })) },
      server: { ...r.endpoints.server, states: r.endpoints.server.states.map((s) => ({ ...s, rel: shift(s.rel) })) },
    },
  };
}

describe('ladder', () => {
  const closeWaitSec = 6;
  const record = closeWaitScenario(closeWaitSec);
  const text = renderLadder(record);

  it('draws every packet once, in frame order, with its relative time in ms', () => {
    assert.deepEqual(drawnFrames(text), record.ladder.map((p) => p.frame));
    for (const p of record.ladder) {
      assert.equal(ARROW_LINE.exec(lineOf(text, p.frame))![2], (p.rel * 1000).toFixed(3));
    }
  });

  it('draws frames in order even when the ladder is handed over shuffled', () => {
    const shuffled = { ...record, ladder: [...record.ladder].reverse() };
    assert.deepEqual(drawnFrames(renderLadder(shuffled)), record.ladder.map((p) => p.frame));
  });

  it('points each arrow from its sender and writes flags and numbers on it', () => {
    for (const p of record.ladder) {
      const l = lineOf(text, p.frame);
      assert.ok(p.from === 'client' ? l.includes('▶') && !l.includes('◀') : l.includes('◀') && !l.includes('▶'), l);
      assert.ok(l.includes(p.flags), l);
      assert.ok(l.includes(`seq=${p.seq} `), l);
      assert.ok(l.includes(`len=${p.len} `), l);
      assert.ok(l.includes(`win=${p.win}`), l);
      // ack is written only when the ACK flag is set.
      assert.equal(l.includes('ack='), p.flags.includes('ACK'), l);
    }
  });

  it('names the state the waiting end sat in during a long gap, with its length', () => {
    const gaps = gapLines(text);
    assert.equal(gaps.length, 1, gaps.join('\n'));
    assert.ok(gaps[0]!.includes(`${closeWaitSec.toFixed(1)} s in CLOSE_WAIT`), gaps[0]);
    // The gap sits between the client's ACK of the server's FIN and the client's own FIN.
    const lines = text.split('\n');
    const at = lines.indexOf(gaps[0]!);
    assert.equal(ARROW_LINE.exec(lines[at - 1]!)?.[1], String(F.cliAck));
    assert.equal(ARROW_LINE.exec(lines[at + 1]!)?.[1], String(F.cliFin));
  });

  it('names the server state when the server is the one that waited', () => {
    // The server's last ACK comes 2.5 s late: it was in TIME_WAIT (its FIN_WAIT_2 ended with the client's FIN).
    const late = delayFrom(record, record.ladder.find((p) => p.frame === F.srvAck)!.rel, 2.5);
    const gaps = gapLines(renderLadder(late));
    assert.equal(gaps.length, 2);
    assert.ok(gaps[1]!.includes('2.5 s in TIME_WAIT'), gaps[1]);
  });

  it('writes a bare duration for an idle established connection', () => {
    // 4.1 s between the request and the reply, both ends ESTABLISHED; the close-wait is short here.
    const base = closeWaitScenario(0.2);
    const idle = delayFrom(base, base.ladder.find((p) => p.frame === F.resp)!.rel, 4.1);
    const gaps = gapLines(renderLadder(idle));
    assert.equal(gaps.length, 1);
    assert.match(gaps[0]!, /··· 4\.1 s ···/);
  });

  it('draws no gap below the threshold, and more with a lower one', () => {
    assert.equal(gapLines(renderLadder(closeWaitScenario(0.5))).length, 0);
    assert.equal(gapLines(renderLadder(closeWaitScenario(0.5), { gapMs: 400 })).length, 1);
  });

  it('writes each end\'s state changes beside its own line', () => {
    for (const side of ['client', 'server'] as const) {
      for (const ch of record.endpoints[side].states) {
        const l = lineOf(text, ch.frame);
        const first = l.indexOf('│');
        const last = l.lastIndexOf('│');
        const at = l.indexOf(ch.state);
        assert.ok(at >= 0, `${ch.state} missing on frame ${ch.frame}: ${l}`);
        assert.ok(side === 'client' ? at < first : at > last, `${side} ${ch.state} on the wrong side: ${l}`);
      }
    }
  });

  it('puts a state change that no drawn packet caused on its own line, in time order', () => {
    // The server's orphaned socket times out 1.5 s after the client's ACK: CLOSED, frame not in the ladder.
    const tAck = record.ladder.find((p) => p.frame === F.cliAck)!.rel;
    const orphan: ConnectionRecord = {
      ...record,
      endpoints: {
        ...record.endpoints,
        server: { ...record.endpoints.server, states: [...record.endpoints.server.states, change('CLOSED', 0, tAck + 1.5)] },
      },
    };
    const lines = renderLadder(orphan).split('\n');
    const at = lines.findIndex((l) => /│ CLOSED$/.test(l) && !ARROW_LINE.test(l));
    assert.ok(at > 0, lines.join('\n'));
    const before = lines.slice(0, at).filter((l) => ARROW_LINE.test(l)).pop()!;
    const after = lines.slice(at + 1).find((l) => ARROW_LINE.test(l))!;
    assert.equal(ARROW_LINE.exec(before)![1], String(F.cliAck));
    assert.equal(ARROW_LINE.exec(after)![1], String(F.cliFin));
  });

  it('opens with the verdict and the explanation', () => {
    const head = text.split('\n').slice(0, 12).join(' ');
    for (const s of ['#1', 'close-wait-stuck', 'closer: server', 'confidence: high', '192.0.2.2:40001', '198.51.100.5:443']) {
      assert.ok(head.includes(s), `missing "${s}"`);
    }
    for (const w of record.explanation.split(' ')) assert.ok(text.includes(w), w);
  });

  it('keeps notes, and puts the numbers on a second line when the arrow is too short', () => {
    const r = closeWaitScenario(6, {});
    r.ladder = [...r.ladder, ladderPacket({ frame: 60, rel: 6.2, from: 'client', flags: 'RST', seq: 12, note: 'out-of-window RST' })];
    const narrow = renderLadder(r, { width: 80 });
    assert.deepEqual(drawnFrames(narrow), r.ladder.map((p) => p.frame));
    assert.ok(lineOf(narrow, 60).includes('[out-of-window RST]'));
    assert.ok(narrow.includes('seq=12 len=0 win=64240'));
    for (const l of narrow.split('\n')) assert.ok([...l].length <= 80, `${[...l].length}: ${l}`);
    assert.ok(narrow.split('\n').some((l) => /^\s+│\s+seq=/.test(l)), 'numbers on their own line');
  });

  it('says how many packets the diagram leaves out', () => {
    const r = closeWaitScenario(6, { packets: { client: 500, server: 700 } });
    assert.ok(renderLadder(r).includes(`${r.ladder.length} of the connection's 1,200 packets`));
  });

  it('brackets IPv6 endpoints in the column titles', () => {
    const r = closeWaitScenario(6, { client: { ip: '2001:db8::7', port: 40001 }, server: { ip: '2001:db8::5', port: 443 } });
    const t = renderLadder(r);
    assert.ok(t.includes('client [2001:db8::7]:40001') && t.includes('server [2001:db8::5]:443'));
  });

  it('has no escape codes unless colour is on; ASCII mode is pure ASCII', () => {
    assert.ok(!text.includes('\u001b['));
    const coloured = renderLadder(record, { color: true });
    assert.ok(coloured.includes('\u001b['));
    const ascii = renderLadder(record, { ascii: true });
    assert.ok(/^[\x20-\x7e\n]*$/.test(ascii));
    assert.deepEqual(drawnFrames(ascii), record.ladder.map((p) => p.frame));
    assert.ok(gapLines(ascii)[0]!.includes('... 6.0 s in CLOSE_WAIT ...'));
  });

  it('copes with an empty ladder', () => {
    const empty = closeWaitScenario(6, { ladder: [] });
    empty.endpoints = { client: { ...empty.endpoints.client, states: [] }, server: { ...empty.endpoints.server, states: [] } };
    assert.match(renderLadder(empty), /no packets were kept/);
  });
});
