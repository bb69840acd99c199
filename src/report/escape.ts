/**
 * Escaping for the reports. Everything that comes from a capture (addresses, notes, file names) or from the
 * command line (the title) is untrusted: a crafted file name must not become markup in the HTML report, nor
 * break a table or a code span in the Markdown report.
 */

/** Control characters (C0, DEL, C1) and the bidirectional overrides that can make text lie about what it says. */
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Replaces control characters (but keeps TAB and LF) by U+FFFD, so that they show up rather than act. */
export function stripUnsafe(text: string): string {
  return text.replace(UNSAFE_CHARS, '\ufffd');
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for HTML and SVG element content and for quoted attribute values. */
export function escapeHtml(text: string): string {
  return stripUnsafe(text).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/**
 * Markdown inline text (a paragraph or a GFM table cell), escaped so that nothing in it becomes markup, yet
 * still readable as plain text (a postmortem document may be read raw): backslash-escapes the characters that
 * open markup anywhere (\\ ` * [ ] < > | ~ &), an underscore only where it could start or end emphasis (GFM
 * ignores `_` inside words, so CLOSE_WAIT stays as it is), and a line-start marker (# + - = 1.). Newlines
 * become spaces: a cell or an item stays on one line.
 */
export function escapeMarkdown(text: string): string {
  const s = stripUnsafe(text)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\\`*[\]<>|~&]/g, (ch) => `\\${ch}`)
    .replace(/_/g, (ch, i: number, all: string) => {
      const before = all[i - 1] ?? ' ';
      const after = all[i + 1] ?? ' ';
      return /[A-Za-z0-9]/.test(before) && /[A-Za-z0-9]/.test(after) ? ch : '\\_';
    });
  return s.replace(/^(\s*)([#+=-]|\d+[.)])/, (_m, sp: string, mark: string) =>
    /^\d/.test(mark) ? `${sp}${mark.slice(0, -1)}\\${mark.slice(-1)}` : `${sp}\\${mark}`,
  );
}

/**
 * Prose of our own (advice texts, explanations) that marks commands with backticks: the `…` parts become code
 * spans, the rest is escaped as escapeMarkdown does. Addresses interpolated into explanations cannot hold a
 * backtick, and an unpaired one is simply escaped.
 */
export function markdownProse(text: string): string {
  const parts = text.split(/`([^`]*)`/);
  return parts.map((p, i) => (i % 2 === 1 ? markdownCode(p, false) : escapeMarkdown(p))).join('');
}

/** The same for HTML: escaped text with the `…` parts as <code> elements. */
export function htmlProse(text: string): string {
  const parts = text.split(/`([^`]*)`/);
  return parts.map((p, i) => (i % 2 === 1 ? `<code>${escapeHtml(p)}</code>` : escapeHtml(p))).join('');
}

/**
 * A Markdown code span. A code span cannot hold a backslash escape, so the fence is made longer than the longest
 * run of backticks inside; '|' is escaped for GFM tables, which split cells before they parse code spans.
 */
export function markdownCode(text: string, inTable = true): string {
  let body = stripUnsafe(text).replace(/[\r\n\t]+/g, ' ');
  if (inTable) body = body.replace(/\|/g, '\\|');
  let longest = 0;
  for (const run of body.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  const pad = body.startsWith('`') || body.endsWith('`') || body === '' ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

/**
 * A fenced code block (```text … ```) around `body`. The fence is made longer than any run of backticks inside,
 * so no line of the body can close it early (a closing fence must be at least as long as the opening one);
 * control characters are replaced.
 */
export function markdownFence(body: string, info = 'text'): string {
  const clean = stripUnsafe(body);
  let longest = 0;
  for (const run of clean.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${clean}\n${fence}`;
}

/** A string safe as an HTML id or fragment (letters, digits, '-' and '_' only). */
export function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '-');
}
