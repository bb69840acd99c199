import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  colors,
  formatBytes,
  formatCount,
  formatDuration,
  formatEndpoint,
  sanitize,
  shouldUseColor,
  stripAnsi,
  toAscii,
  wrapText,
} from '../../src/output/format.js';
import { renderAbnormalList } from '../../src/output/abnormal-list.js';
import { renderLadder } from '../../src/output/ladder.js';
import { renderServiceTable } from '../../src/output/service-table.js';
import { renderSummaryTable } from '../../src/output/summary-table.js';
import { closeWaitScenario, makeRecord } from '../helpers/records.js';

describe('formatDuration', () => {
  it('writes the examples the output is designed around', () => {
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(6000), '6.0 s');
    assert.equal(formatDuration(4 * 60_000 + 3_000), '4 min 3 s');
    assert.equal(formatDuration(2 * 3_600_000 + 5 * 60_000), '2 h 5 min');
  });
  it('keeps a decimal below 10 ms and drops zero minor units', () => {
    assert.equal(formatDuration(0.35), '0.4 ms');
    assert.equal(formatDuration(3), '3 ms');
    assert.equal(formatDuration(4 * 60_000), '4 min');
    assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), '3 d 4 h');
  });
  it('chooses the unit after rounding (no "1000 ms", no "60.0 s", no "60 min")', () => {
    assert.equal(formatDuration(999.6), '1.0 s');
    assert.equal(formatDuration(59_960), '1 min');
    assert.equal(formatDuration(3_599_600), '1 h');
  });
});

describe('numbers and endpoints', () => {
  it('groups thousands without depending on the locale', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatCount(-1000), '-1,000');
  });
  it('writes bytes in decimal units', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(3_200_000), '3.2 MB');
    assert.equal(formatBytes(45_000), '45 kB');
  });
  it('brackets IPv6 addresses, not IPv4', () => {
    assert.equal(formatEndpoint({ ip: '192.0.2.1', port: 80 }), '192.0.2.1:80');
    assert.equal(formatEndpoint({ ip: '2001:db8::1', port: 443 }), '[2001:db8::1]:443');
  });
});

describe('colour', () => {
  it('is the identity when off, and emits SGR codes only when on', () => {
    const off = colors(false);
    assert.equal(off.red('x'), 'x');
    assert.equal(colors(undefined).bold('x'), 'x');
    const on = colors(true).red('x');
    assert.notEqual(on, 'x');
    assert.match(on, /\u001b\[31m/);
    assert.equal(stripAnsi(on), 'x');
  });
  it('auto respects NO_COLOR and TERM=dumb; an explicit choice wins', () => {
    assert.equal(shouldUseColor('auto', true, {}), true);
    assert.equal(shouldUseColor('auto', false, {}), false);
    assert.equal(shouldUseColor('auto', true, { NO_COLOR: '1' }), false);
    assert.equal(shouldUseColor('auto', true, { NO_COLOR: '' }), true);
    assert.equal(shouldUseColor('auto', true, { TERM: 'dumb' }), false);
    assert.equal(shouldUseColor(true, false, { NO_COLOR: '1' }), true);
    assert.equal(shouldUseColor(false, true, {}), false);
  });
});

describe('text safety and wrapping', () => {
  it('replaces control characters and bidi overrides', () => {
    assert.equal(sanitize('a\u001b[2Jb\u0007c\u202ed'), 'a?[2Jb?c?d');
  });
  it('maps typographic characters to ASCII and nothing non-ASCII survives', () => {
    const s = toAscii('a → b — c … d · e ✓');
    assert.equal(s, 'a -> b - c ... d . e ?');
  });
  it('wraps at word boundaries within the width, keeping every word', () => {
    const text = 'The server closed first; the client read EOF but never closed its socket, so it sat in CLOSE_WAIT.';
    for (const width of [12, 20, 37, 80]) {
      const lines = wrapText(text, width);
      for (const l of lines) assert.ok(l.length <= width, `"${l}" longer than ${width}`);
      assert.deepEqual(lines.join(' ').split(' '), text.split(' '));
    }
  });
  it('splits a word longer than the width and keeps hard line breaks', () => {
    assert.deepEqual(wrapText('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
    assert.deepEqual(wrapText('one\ntwo three', 20), ['one', 'two three']);
  });
});

describe('colour in the renderers', () => {
  it('adds escape codes and nothing else (layout is measured without them)', () => {
    const records = [closeWaitScenario(6), makeRecord({ id: 2, ending: 'refused', closer: null }), makeRecord({ id: 3 })];
    const renderers: Array<(o: { color?: boolean }) => string> = [
      (o) => renderLadder(records[0]!, o),
      (o) => renderSummaryTable(records, o),
      (o) => renderServiceTable(records, o),
      (o) => renderAbnormalList(records, o),
    ];
    for (const render of renderers) {
      const coloured = render({ color: true });
      assert.notEqual(coloured, render({}));
      assert.equal(stripAnsi(coloured), render({}));
    }
  });
});
