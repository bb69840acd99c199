/**
 * The SVG drawings as text: one arrow per kept packet, the gap annotations with state names, the cap on
 * arrows, escaping of anything from the capture, and chart shapes that follow the counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDINGS } from '../../src/classify/labels.js';
import type { LadderPacket } from '../../src/classify/record.js';
import { addToEndingTally, newEndingTally } from '../../src/output/summary-table.js';
import { endingsChart, timelineChart } from '../../src/report/svg-charts.js';
import { ladderSvg } from '../../src/report/svg-ladder.js';
import type { TimelineView } from '../../src/report/report-model.js';
import { SCENARIO_FRAMES as F, change, closeWaitScenario, endSummary, ladderPacket, makeRecord } from '../helpers/records.js';

const count = (text: string, re: RegExp): number => (text.match(re) ?? []).length;

describe('ladderSvg', () => {
  it('one arrow per kept packet, the flags and numbers on it, the states beside the lines', () => {
    const r = closeWaitScenario(6);
    const svg = ladderSvg(r);
    assert.match(svg, /^<svg [^>]*class="ladder"/);
    assert.equal(count(svg, /<g class="pkt/g), r.ladder.length);
    assert.equal(count(svg, /<polygon /g), r.ladder.length, 'an arrow head each');
    for (const p of r.ladder) assert.match(svg, new RegExp(`>frame ${p.frame}<`));
    assert.match(svg, />FIN, ACK<\/tspan><tspan class="nums" dx="8">seq=25 ack=11 len=0</);
    for (const st of ['CLOSE_WAIT', 'LAST_ACK', 'FIN_WAIT_2', 'TIME_WAIT']) assert.match(svg, new RegExp(`>${st}<`));
  });

  it('a long silence is a break in the lines, named after the waiting end\'s state', () => {
    const svg = ladderSvg(closeWaitScenario(6));
    assert.match(svg, /<tspan class="strong">6\.0 s<\/tspan> in CLOSE_WAIT/);
    assert.match(svg, /stroke-dasharray/);
    const quick = ladderSvg(closeWaitScenario(0.0005));
    assert.doesNotMatch(quick, /in CLOSE_WAIT</);
  });

  it('a wait that lasts to the end of the capture is drawn after the last packet', () => {
    const base = closeWaitScenario(6);
    // Cut the scenario after the client's ACK of the FIN: the client stays in CLOSE_WAIT, 8.6 s to the end.
    const ladder = base.ladder.filter((p) => p.frame <= F.cliAck);
    const r = {
      ...base,
      ladder,
      closeWaitMs: 8600,
      endpoints: {
        client: endSummary({ state: 'CLOSE_WAIT', states: [change('SYN_SENT', F.syn, 0), change('ESTABLISHED', F.synAck, 0.0005), change('CLOSE_WAIT', F.srvFin, 0.01)] }),
        server: endSummary({ state: 'FIN_WAIT_2', states: [change('FIN_WAIT_1', F.srvFin, 0.01), change('FIN_WAIT_2', F.cliAck, 0.0101)] }),
      },
    };
    const svg = ladderSvg(r);
    assert.match(svg, /<tspan class="strong">8\.6 s<\/tspan> in CLOSE_WAIT, until the capture ended/);
    assert.match(svg, />end of capture</);
  });

  it('caps the arrows, keeping the first and the last packets, and says how many are left out', () => {
    const ladder: LadderPacket[] = Array.from({ length: 100 }, (_, i) =>
      ladderPacket({ frame: i + 1, rel: i * 0.001, from: i % 2 === 0 ? 'client' : 'server', flags: 'ACK' }),
    );
    const svg = ladderSvg(makeRecord({ ladder }), { maxArrows: 40 });
    assert.equal(count(svg, /<g class="pkt/g), 40);
    assert.match(svg, />… 60 packets not drawn …</);
    assert.match(svg, />frame 1</);
    assert.match(svg, />frame 100</);
  });

  it('escapes whatever the record carries', () => {
    const evil = '<script>alert(1)</script>';
    const r = makeRecord({
      client: { ip: '"><x', port: 1 },
      ladder: [ladderPacket({ frame: 1, from: 'client', flags: `SYN${evil}`, note: evil })],
    });
    const svg = ladderSvg(r);
    assert.doesNotMatch(svg, /<script|<x|"><x/);
    assert.match(svg, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it('a record without packets still gives an SVG that says so', () => {
    const svg = ladderSvg(makeRecord({ ladder: [] }));
    assert.match(svg, /no packets were kept/);
  });
});

describe('charts', () => {
  it('endingsChart: one segment per ending and closer that occurs, totals at the ends', () => {
    const t = newEndingTally();
    const recs = [
      makeRecord({ id: 1, ending: 'graceful-fin', closer: 'client' }),
      makeRecord({ id: 2, ending: 'graceful-fin', closer: 'server' }),
      makeRecord({ id: 3, ending: 'abortive-rst', closer: 'server' }),
      makeRecord({ id: 4, ending: 'refused', closer: null }),
    ];
    for (const r of recs) addToEndingTally(t, r);
    const svg = endingsChart(t);
    assert.equal(count(svg, /<rect [^>]*><title>/g), 4, 'four non-empty segments');
    assert.equal(count(svg, /<g class="row/g), 3);
    assert.match(svg, /<text class="count"[^>]*>2<\/text>/);
    assert.equal(endingsChart(newEndingTally()), '');
  });

  it('timelineChart: one bar per non-empty bucket and ending, one lane per ending present', () => {
    const counts = [0, 1, 2].map(() => new Array<number>(ENDINGS.length).fill(0));
    counts[0]![ENDINGS.indexOf('graceful-fin')] = 5;
    counts[2]![ENDINGS.indexOf('graceful-fin')] = 1;
    counts[2]![ENDINGS.indexOf('abortive-rst')] = 3;
    const start = Date.UTC(2026, 0, 1, 14, 2);
    const v: TimelineView = { fromMs: start, toMs: start + 3000, widthMs: 1000, starts: [start, start + 1000, start + 2000], counts };
    const svg = timelineChart(v);
    assert.equal(count(svg, /<g class="lane/g), 2);
    assert.equal(count(svg, /<rect [^>]*><title>/g), 3);
    assert.match(svg, /abortive-rst: 3 \(14:02:02/);
    assert.match(svg, />peak 5</);
  });
});
