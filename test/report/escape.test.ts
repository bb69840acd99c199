/**
 * Untrusted text in the reports: a file name, an address or a note crafted to be markup must come out as text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  escapeHtml,
  escapeMarkdown,
  htmlProse,
  markdownCode,
  markdownFence,
  markdownProse,
  safeId,
} from '../../src/report/escape.js';

const HOSTILE = `<img src=x onerror="alert(1)">&amp;'"\u202e\u0007`;

describe('escapeHtml', () => {
  it('leaves no markup, entity or control character', () => {
    const out = escapeHtml(HOSTILE);
    assert.doesNotMatch(out, /[<>"']/);
    assert.match(out, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;&amp;amp;&#39;&quot;/);
    assert.doesNotMatch(out, /[\u202e\u0007]/);
  });
  it('htmlProse makes code of backtick spans only, and escapes inside them too', () => {
    assert.equal(htmlProse('run `ss -tan <x>` now'), 'run <code>ss -tan &lt;x&gt;</code> now');
    assert.equal(htmlProse('a lone ` stays'), 'a lone ` stays');
  });
  it('safeId keeps letters, digits, - and _ only', () => {
    assert.equal(safeId('abortive-rst'), 'abortive-rst');
    assert.equal(safeId('a"b<c d'), 'a-b-c-d');
  });
});

describe('escapeMarkdown', () => {
  it('neutralises emphasis, links, HTML, table pipes and line-start markers', () => {
    const out = escapeMarkdown('# *bold* _it_ [link](x) <b>|</b> ~~s~~ `c` & 1. x');
    assert.equal(out, '\\# \\*bold\\* \\_it\\_ \\[link\\](x) \\<b\\>\\|\\</b\\> \\~\\~s\\~\\~ \\`c\\` \\& 1. x');
  });
  it('leaves underscores inside words alone, so state names read as they are', () => {
    assert.equal(escapeMarkdown('CLOSE_WAIT and FIN_WAIT_2'), 'CLOSE_WAIT and FIN_WAIT_2');
    assert.equal(escapeMarkdown('__tcp_close()'), '\\_\\_tcp_close()');
  });
  it('keeps a table row on one line', () => {
    assert.doesNotMatch(escapeMarkdown('a\nb\r\nc'), /[\r\n]/);
    assert.equal(escapeMarkdown('1. first'), '1\\. first');
    assert.equal(escapeMarkdown('- item'), '\\- item');
  });
  it('markdownProse turns backtick spans into code spans and escapes the rest', () => {
    assert.equal(markdownProse('find it with `ss -tanp state close-wait` *now*'), 'find it with `ss -tanp state close-wait` \\*now\\*');
  });
});

describe('markdownCode and fenced blocks', () => {
  it('a code span survives backticks and pipes inside it', () => {
    assert.equal(markdownCode('a`b'), '``a`b``');
    assert.equal(markdownCode('`x`'), '`` `x` ``');
    assert.equal(markdownCode('a || b'), '`a \\|\\| b`');
    assert.equal(markdownCode('a || b', false), '`a || b`');
  });
  it('a line of backticks cannot close a fence early', () => {
    const lines = markdownFence('ok\n```\n  ````\nend').split('\n');
    assert.equal(lines[0], '`````text');
    assert.equal(lines[lines.length - 1], '`````');
    assert.deepEqual(lines.slice(1, -1), ['ok', '```', '  ````', 'end']);
    assert.equal(markdownFence('plain').split('\n')[0], '```text');
  });
});
