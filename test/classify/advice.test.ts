import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ADVICE, CAUSE_ADVICE, RST_REASON_TEXT } from '../../src/classify/advice.js';
import { APP_VIEWS, CAUSES, ENDINGS } from '../../src/classify/labels.js';
import { REPO } from '../helpers/paths.js';

const DOC = fs.readFileSync(path.join(REPO, 'docs', 'taxonomy.md'), 'utf8');
const DOC_LINES = DOC.split('\n');

/**
 * RstReason is a type-only union, so its members are read from the source of labels.ts: the list then comes from
 * the vocabulary itself, not from the keys of the table under test.
 */
function rstReasonsFromLabels(): string[] {
  const src = fs.readFileSync(path.join(REPO, 'src', 'classify', 'labels.ts'), 'utf8');
  const start = src.indexOf('export type RstReason =');
  assert.ok(start >= 0, 'labels.ts declares RstReason');
  const end = src.indexOf(';', start);
  assert.ok(end > start, 'the RstReason union ends with a semicolon');
  const names: string[] = [];
  for (const m of src.slice(start, end).matchAll(/'([A-Z_]+)'/g)) {
    if (m[1] !== undefined) names.push(m[1]);
  }
  return names;
}

const RST_REASONS = rstReasonsFromLabels();

/** Sentence ends: a full stop, question or exclamation mark followed by white space or the end of the text. */
function sentenceCount(text: string): number {
  return (text.match(/[.!?](?=\s|$)/g) ?? []).length;
}

function assertShortText(text: string, where: string): void {
  assert.equal(typeof text, 'string', where);
  assert.ok(text.trim().length > 0, `${where} is empty`);
  assert.equal(text, text.trim(), `${where} has leading or trailing white space`);
  assert.ok(!/[\u0000-\u001f\u007f]/.test(text), `${where} contains a control character`);
  assert.ok(/[.!?)`]$/.test(text) || where.endsWith('.title'), `${where} does not end a sentence`);
  const n = sentenceCount(text);
  assert.ok(n <= 3, `${where} has ${n} sentences (at most 3)`);
  assert.ok(text.length <= 420, `${where} is ${text.length} characters long`);
}

/** The heading lines of the document (ATX headings outside code fences). */
function headings(): string[] {
  const out: string[] = [];
  let inFence = false;
  for (const line of DOC_LINES) {
    if (line.startsWith('```')) {
      inFence = !inFence;
      continue;
    }
    if (!inFence && /^#{1,6} /.test(line)) out.push(line);
  }
  return out;
}

/** Rows of the "At a glance" table: ending, cause ('—' when none), wire, reasons, appView. */
function glanceRows(): string[][] {
  const begin = DOC_LINES.findIndex((l) => l.startsWith('## At a glance'));
  assert.ok(begin >= 0, 'docs/taxonomy.md has an "At a glance" section');
  const rows: string[][] = [];
  for (let i = begin + 1; i < DOC_LINES.length; i++) {
    const line = DOC_LINES[i] ?? '';
    if (line.startsWith('## ')) break;
    if (!line.startsWith('| `')) continue;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

/** The label a heading is about: its first word, when that word is a label in backticks ("### `open` — …"). */
function headingLabel(heading: string): string | undefined {
  return /^#{1,6} `([a-z-]+)`/.exec(heading)?.[1];
}

function unquote(cell: string): string {
  return cell.replace(/^`|`$/g, '');
}

describe('advice texts', () => {
  it('RstReason members are found in labels.ts', () => {
    assert.ok(RST_REASONS.length >= 5, `only ${RST_REASONS.length} RstReason members parsed`);
    assert.equal(new Set(RST_REASONS).size, RST_REASONS.length, 'RstReason members are unique');
  });

  it('every Ending has a title, meaning, kernel, app and fix text, and nothing else', () => {
    assert.deepEqual(Object.keys(ADVICE).sort(), [...ENDINGS].sort());
    for (const ending of ENDINGS) {
      const a = ADVICE[ending];
      assert.deepEqual(Object.keys(a).sort(), ['app', 'fix', 'kernel', 'meaning', 'title'], ending);
      assertShortText(a.title, `${ending}.title`);
      assert.ok(a.title.length <= 60, `${ending}.title is too long for a table cell`);
      assertShortText(a.meaning, `${ending}.meaning`);
      assertShortText(a.kernel, `${ending}.kernel`);
      assertShortText(a.app, `${ending}.app`);
      assertShortText(a.fix, `${ending}.fix`);
    }
  });

  it('every Cause has a meaning, kernel, app and fix text, and nothing else', () => {
    assert.deepEqual(Object.keys(CAUSE_ADVICE).sort(), [...CAUSES].sort());
    for (const cause of CAUSES) {
      const a = CAUSE_ADVICE[cause];
      assert.deepEqual(Object.keys(a).sort(), ['app', 'fix', 'kernel', 'meaning'], cause);
      assertShortText(a.meaning, `${cause}.meaning`);
      assertShortText(a.kernel, `${cause}.kernel`);
      assertShortText(a.app, `${cause}.app`);
      assertShortText(a.fix, `${cause}.fix`);
    }
  });

  it('every RstReason has a text, and there is no text for a name outside the vocabulary', () => {
    assert.deepEqual(Object.keys(RST_REASON_TEXT).sort(), [...RST_REASONS].sort());
    const table: Record<string, string> = RST_REASON_TEXT;
    for (const reason of RST_REASONS) {
      assertShortText(table[reason] ?? '', `RST_REASON_TEXT.${reason}`);
    }
  });

  it('titles are distinct', () => {
    const titles = ENDINGS.map((e) => ADVICE[e].title);
    assert.equal(new Set(titles).size, titles.length);
  });
});

describe('docs/taxonomy.md', () => {
  const heads = headings();

  it('has exactly one section heading for every ending', () => {
    for (const ending of ENDINGS) {
      const hit = heads.filter((h) => headingLabel(h) === ending);
      assert.equal(hit.length, 1, `headings for \`${ending}\`: ${JSON.stringify(hit)}`);
    }
  });

  it('has exactly one section heading for every cause', () => {
    for (const cause of CAUSES) {
      const hit = heads.filter((h) => headingLabel(h) === cause);
      assert.equal(hit.length, 1, `headings for \`${cause}\`: ${JSON.stringify(hit)}`);
    }
  });

  it('places each cause under the ending it belongs to', () => {
    // A cause heading is one level below its ending's heading and follows it; the ending is the one the cause's
    // heading line names ("cause of `graceful-fin`").
    for (const cause of CAUSES) {
      const idx = heads.findIndex((h) => headingLabel(h) === cause);
      const line = heads[idx] ?? '';
      const owner = ENDINGS.find((e) => line.includes(`cause of \`${e}\``));
      assert.ok(owner !== undefined, `the heading of ${cause} names its ending`);
      const ownerIdx = heads.findIndex((h) => headingLabel(h) === owner);
      assert.ok(ownerIdx >= 0 && ownerIdx < idx, `${cause} comes after ${owner}`);
      const level = (h: string): number => (h.match(/^#+/)?.[0] ?? '').length;
      assert.equal(level(line), level(heads[ownerIdx] ?? '') + 1, `${cause} is one level below ${owner}`);
      for (let j = ownerIdx + 1; j < idx; j++) {
        const between = heads[j] ?? '';
        assert.ok(level(between) > level(heads[ownerIdx] ?? ''), `no other ending between ${owner} and ${cause}`);
      }
    }
  });

  it('explains every RstReason in the reset-reason table', () => {
    for (const reason of RST_REASONS) {
      assert.ok(
        DOC_LINES.some((l) => l.startsWith(`| \`${reason}\` |`)),
        `no row for ${reason} in the reset-reason table`,
      );
    }
  });

  it('lists every ending and cause in the "At a glance" table', () => {
    const rows = glanceRows();
    for (const ending of ENDINGS) {
      assert.ok(rows.some((r) => unquote(r[0] ?? '') === ending), `no row for ${ending}`);
    }
    for (const cause of CAUSES) {
      assert.ok(rows.some((r) => unquote(r[1] ?? '') === cause), `no row for ${cause}`);
    }
  });

  it('agrees with the advice on the nearest reset reason', () => {
    // The reasons named in the table's fourth column must appear in the kernel text of the matching advice.
    for (const row of glanceRows()) {
      const ending = unquote(row[0] ?? '');
      const cause = unquote(row[1] ?? '');
      const reasons = [...(row[3] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] ?? '');
      if (reasons.length === 0) continue;
      const kernel = (CAUSES as readonly string[]).includes(cause)
        ? CAUSE_ADVICE[cause as (typeof CAUSES)[number]].kernel
        : ADVICE[ending as (typeof ENDINGS)[number]].kernel;
      assert.ok(
        reasons.some((r) => kernel.includes(r)),
        `advice for ${ending}/${cause} names none of ${reasons.join(', ')}`,
      );
    }
  });

  it('agrees with the advice on what the applications saw', () => {
    // Every error or EOF named in the table's appView column appears in the advice's app text.
    const tokens = APP_VIEWS.filter((v) => v !== 'none');
    for (const row of glanceRows()) {
      const ending = unquote(row[0] ?? '');
      const cause = unquote(row[1] ?? '');
      const seen = tokens.filter((t) => new RegExp(`\\b${t}\\b`).test(row[4] ?? ''));
      const app = (CAUSES as readonly string[]).includes(cause)
        ? CAUSE_ADVICE[cause as (typeof CAUSES)[number]].app
        : ADVICE[ending as (typeof ENDINGS)[number]].app;
      for (const t of seen) {
        assert.ok(app.includes(t), `advice for ${ending}/${cause} does not mention ${t}`);
      }
    }
  });
});
