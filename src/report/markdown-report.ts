/**
 * The Markdown incident-review report, for pasting into a postmortem document: GitHub-flavoured Markdown tables,
 * and the diagrams as text in ```text blocks (bar chart and timeline with block characters, ladders in ASCII as
 * `teardown analyze -c ID --ascii` draws them). Same sections and the same model as the HTML report.
 */
import { ADVICE, CAUSE_ADVICE, RST_REASON_TEXT } from '../classify/advice.js';
import { ENDINGS, isAbnormal, type AppView, type Cause, type RstReason } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { formatCount, formatDuration, formatEndpoint, plural } from '../output/format.js';
import { renderLadder } from '../output/ladder.js';
import type { RunSummary } from '../output/run-summary.js';
import type { EndingTally } from '../output/summary-table.js';
import { escapeMarkdown as md, markdownCode as code, markdownFence, markdownProse as prose } from './escape.js';
import {
  abnormalEndingsPresent,
  examplesOf,
  rankTally,
  timelineView,
  type AbnormalRow,
  type BoundedTally,
  type ReportModel,
  type TimelineView,
} from './report-model.js';
import {
  captureDates,
  captureFacts,
  clockFromMs,
  clockTime,
  closerList,
  closersOf,
  damageLines,
  fileLine,
  spanText,
  findings,
  listAllCommand,
  mergeCommand,
  noWarningText,
  percent,
  timelineSpan,
  DEFAULT_TOP_N,
  type ReportMeta,
} from './report-text.js';
import { CLOSER_KEYS, clockLabel, tickStep } from './svg-charts.js';

const TEXT_BAR_WIDTH = 40;
const TEXT_TIMELINE_COLUMNS = 60;
const LABEL_WIDTH = 19;
const LADDER_WIDTH = 100;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(head: string[], align: ('l' | 'r')[], rows: string[][]): string[] {
  return [row(head), row(align.map((a) => (a === 'r' ? '--:' : '---'))), ...rows.map(row)];
}

function fence(body: string): string[] {
  return [markdownFence(body)];
}

// ------------------------------------------------------------------------------------------------ text charts

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `value / max` of `width` characters, in eighths of a character. */
function textBar(value: number, max: number, width: number): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]!;
}

/** One bar per ending present, with the closer split written after it. */
export function textEndingsChart(t: EndingTally): string {
  const rows = ENDINGS.filter((e) => (t.byEnding.get(e)?.total ?? 0) > 0);
  const max = Math.max(0, ...rows.map((e) => t.byEnding.get(e)!.total));
  return rows
    .map((e) => {
      const c = t.byEnding.get(e)!;
      const bar = textBar(c.total, max, TEXT_BAR_WIDTH).padEnd(TEXT_BAR_WIDTH + 1);
      return `${(isAbnormal(e) ? '! ' : '  ') + e.padEnd(LABEL_WIDTH)} ${bar}${formatCount(c.total).padStart(6)}  ${closerList(c)}`;
    })
    .join('\n');
}

const LEVELS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** One row per ending, one character per bucket, each row scaled to its own peak; an axis of clock times. */
export function textTimeline(v: TimelineView): string {
  const lanes = ENDINGS.map((e, i) => ({ e, i })).filter(({ i }) => v.counts.some((c) => c[i]! > 0));
  const n = v.counts.length;
  const pad = ' '.repeat(LABEL_WIDTH + 3);
  const out: string[] = [];
  for (const { e, i } of lanes) {
    const peak = Math.max(...v.counts.map((c) => c[i]!));
    const cells = v.counts.map((c) => (c[i]! === 0 ? ' ' : LEVELS[Math.min(7, Math.ceil((c[i]! / peak) * 8) - 1)]!)).join('');
    out.push(`${(isAbnormal(e) ? '! ' : '  ') + e.padEnd(LABEL_WIDTH)} │${cells}│ peak ${formatCount(peak)}`);
  }
  // Axis: the start, the middle and the end of the span, under their columns.
  const t0 = v.starts[0]!;
  const t1 = v.starts[n - 1]! + v.widthMs;
  const step = tickStep(t1 - t0, 4);
  const marks = [t0, t0 + (t1 - t0) / 2, t1];
  const labels = marks.map((ms) => clockLabel(ms, Math.min(step, v.widthMs * 4)));
  const axis = new Array<string>(n + 2).fill(' ');
  const put = (col: number, text: string): void => {
    const start = Math.max(0, Math.min(axis.length - text.length, col));
    for (let k = 0; k < text.length; k++) axis[start + k] = text[k]!;
  };
  put(0, labels[0]!);
  put(Math.round((n + 2) / 2 - labels[1]!.length / 2), labels[1]!);
  put(n + 2 - labels[2]!.length, labels[2]!);
  out.push(`${pad}└${'─'.repeat(n)}┘`);
  out.push(pad + axis.join('').trimEnd());
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------------ sections

function sectionFindings(m: ReportModel): string[] {
  const out = ['## Key findings', ''];
  const list = findings(m);
  if (m.total === 0) return [...out, 'No connections in this report.'];
  if (list.length === 0) {
    out.push(`No abnormal endings: all ${plural(m.total, 'connection')} in this report closed gracefully, are half-closed or still open.`);
    return out;
  }
  out.push(`${formatCount(m.abnormal)} of ${plural(m.total, 'connection')} (${percent(m.abnormal, m.total)}) ended abnormally:`, '');
  for (const f of list) {
    const bits: string[] = [];
    if (f.closers !== '') bits.push(`closed by ${f.closers}`);
    if (f.causes !== '') bits.push(`causes: ${f.causes}`);
    if (f.services !== '') bits.push(`services: ${f.services}`);
    bits.push(`ended ${f.when} UTC`);
    out.push(`- **${formatCount(f.count)} × ${md(f.title)}** (${code(f.ending, false)}): ${md(bits.join('; '))}`);
  }
  return out;
}

function sectionCapture(m: ReportModel, s: RunSummary, meta: ReportMeta): string[] {
  const out = ['## The capture', ''];
  const dmg = damageLines(s, meta);
  if (dmg.errors.length > 0) {
    out.push('> **Damaged or unreadable input.** Everything before the damage is in this report.', '>');
    for (const e of dmg.errors) out.push(`> - ${code(e, false)}`);
    out.push('');
  }
  const rows: string[][] = [
    ['Files', s.files.map((f) => `${code(f.name)} (${md(fileLine(f))})`).join('<br>')],
  ];
  for (const [k, v] of captureFacts(m, s, meta)) rows.push([md(k), md(v)]);
  const damage = dmg.warnings.length === 0 ? [noWarningText(meta)] : dmg.warnings.map((w) => `**${md(w)}**`);
  rows.push(['Damage, drops', [...damage, ...dmg.notes.map(md)].join('<br>')]);
  const merge = mergeCommand(s);
  if (merge !== null) rows.push(['Frame numbers', `those of the files merged in time order, as ${code(merge)} writes them`]);
  out.push(...table(['fact', 'value'], ['l', 'l'], rows));
  return out;
}

function sectionGlance(m: ReportModel): string[] {
  const out = ['## Endings at a glance', ''];
  if (m.total === 0) return [...out, 'No connections in this report.'];
  const rows: string[][] = [];
  for (const e of ENDINGS) {
    const c = m.endings.byEnding.get(e);
    if (c === undefined || c.total === 0) continue;
    rows.push([code(e), md(ADVICE[e].title), ...CLOSER_KEYS.map((k) => formatCount(c[k])), `**${formatCount(c.total)}**`]);
  }
  const t = m.endings.total;
  rows.push(['**total**', '', ...CLOSER_KEYS.map((k) => formatCount(t[k])), `**${formatCount(t.total)}**`]);
  out.push(
    ...table(
      ['ending', 'meaning', 'client closed', 'server closed', 'both', 'no closer', 'total'],
      ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  );
  out.push('', ...fence(textEndingsChart(m.endings)), '', '`!` marks the abnormal endings.');
  return out;
}

function sectionTimeline(m: ReportModel, s: RunSummary): string[] {
  const out = ['## Endings over time', ''];
  const [from, to] = timelineSpan(m, s);
  const view = timelineView(m.timeline, from, to, TEXT_TIMELINE_COLUMNS);
  if (view === null) return [...out, 'No connections in this report.'];
  out.push(
    `When each connection ended (its last packet), ${md(captureDates(s))}, UTC; one column per ${md(formatDuration(view.widthMs))}, ` +
      'each row scaled to its own peak.',
    '',
    ...fence(textTimeline(view)),
  );
  return out;
}

function tallyRows(t: BoundedTally, top: number): string[][] {
  return rankTally(t, top).map((e) => [
    code(e.key),
    formatCount(e.total),
    e.abnormal > 0 ? `**${formatCount(e.abnormal)}** (${percent(e.abnormal, e.total)})` : '0',
    formatCount(e.abnormalClosedHere),
    ENDINGS.filter((x) => isAbnormal(x) && (e.byEnding[x] ?? 0) > 0)
      .sort((a, b) => (e.byEnding[b] ?? 0) - (e.byEnding[a] ?? 0))
      .map((x) => `${md(x)} ${formatCount(e.byEnding[x]!)}`)
      .join(', ') || '—',
  ]);
}

function restNote(t: BoundedTally, shown: number, what: string): string[] {
  const parts: string[] = [];
  const more = t.entries.size - shown;
  if (more > 0) parts.push(`… and ${plural(more, `more ${what}`)}.`);
  if (t.dropped > 0) parts.push(`Counts are approximate: ${plural(t.dropped, `less affected ${what}`)} were dropped from the tally to bound memory.`);
  return parts.length === 0 ? [] : ['', md(parts.join(' '))];
}

function sectionAffected(m: ReportModel, meta: ReportMeta): string[] {
  const top = meta.topN ?? DEFAULT_TOP_N;
  const out = ['## Services and hosts most affected', ''];
  if (m.total === 0) return [...out, 'No connections in this report.'];
  const services = tallyRows(m.services, top);
  out.push('**Services** (server address and port)', '');
  out.push(...table(['service', 'connections', 'abnormal', 'closed or reset by the server', 'abnormal endings'], ['l', 'r', 'r', 'r', 'l'], services));
  out.push(...restNote(m.services, services.length, 'service'));
  const hosts = tallyRows(m.hosts, top);
  out.push('', '**Hosts** (either end)', '');
  out.push(...table(['host', 'connections', 'abnormal', 'closed or reset by this host', 'abnormal endings'], ['l', 'r', 'r', 'r', 'l'], hosts));
  out.push(...restNote(m.hosts, hosts.length, 'host'));
  return out;
}

function appViewList(m: Partial<Record<AppView, number>>): string {
  return (Object.entries(m) as [AppView, number][])
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${code(v, false)} ×${formatCount(n)}`)
    .join(', ');
}

function example(r: ConnectionRecord): string[] {
  const verdict = r.cause === null ? r.ending : `${r.ending}, ${r.cause}`;
  const out = [
    `#### Connection #${r.id}: ${code(formatEndpoint(r.client), false)} → ${code(formatEndpoint(r.server), false)} (${md(verdict)}${
      r.closer === null ? '' : `, closed by ${md(r.closer)}`
    })`,
    '',
    ...fence(renderLadder(r, { ascii: true, width: LADDER_WIDTH })),
  ];
  const filter = r.displayFilter;
  out.push('', `Wireshark display filter: ${code(filter, false)}`);
  return out;
}

function sectionEndings(m: ReportModel): string[] {
  const out = ['## Abnormal endings', ''];
  const present = abnormalEndingsPresent(m);
  if (present.length === 0) return [...out, 'None in this report.'];
  for (const e of present) {
    const a = ADVICE[e];
    const f = m.facts.get(e)!;
    const c = m.endings.byEnding.get(e)!;
    out.push(`### ${md(a.title)} (${code(e, false)}): ${plural(f.count, 'connection')}`, '');
    const when = f.firstEndMs === f.lastEndMs ? `at ${clockFromMs(f.firstEndMs)}` : `between ${clockFromMs(f.firstEndMs)} and ${clockFromMs(f.lastEndMs)}`;
    const closers = closersOf(c);
    const facts = closers === '' ? [`Ended ${when} UTC`] : [`Closed or reset by ${closers}`, `ended ${when} UTC`];
    if (f.maxCloseWaitMs !== null) facts.push(`longest CLOSE_WAIT ${formatDuration(f.maxCloseWaitMs)}`);
    if (f.maxFinWait2Ms !== null) facts.push(`longest FIN_WAIT_2 ${formatDuration(f.maxFinWait2Ms)}`);
    out.push(`${md(facts.join('; '))}.`, '');
    out.push(`**What it means.** ${prose(a.meaning)}`, '');
    const reasons = (Object.entries(f.byRstReason) as [RstReason, number][]).sort((x, y) => y[1] - x[1]);
    out.push(`**Why the kernel did it.** ${prose(a.kernel)}`);
    for (const [r, n] of reasons) out.push(`- reset reason ${code(r, false)} ×${formatCount(n)}: ${prose(RST_REASON_TEXT[r])}`);
    out.push('');
    out.push(`**What the applications saw.** ${prose(a.app)} Here: client ${appViewList(f.appView.client)}; server ${appViewList(f.appView.server)}.`, '');
    out.push(`**How to fix it.** ${prose(a.fix)}`, '');
    const causes = (Object.entries(f.byCause) as [Cause, number][]).sort((x, y) => y[1] - x[1]);
    if (causes.length > 0) {
      out.push(
        ...table(
          ['cause', 'connections', 'what happened', 'fix'],
          ['l', 'r', 'l', 'l'],
          causes.map(([cause, n]) => [code(cause), formatCount(n), prose(CAUSE_ADVICE[cause].meaning), prose(CAUSE_ADVICE[cause].fix)]),
        ),
        '',
      );
    }
    const examples = examplesOf(m, e);
    for (const r of examples) out.push(...example(r), '');
    if (f.count > examples.length && examples.length > 0) {
      out.push(`${plural(f.count - examples.length, 'more connection')} ended this way: see the table below.`, '');
    }
  }
  while (out[out.length - 1] === '') out.pop();
  return out;
}

function tableRow(r: AbnormalRow): string[] {
  const frames = r.firstFrame === null ? '—' : r.firstFrame === r.lastFrame ? `${r.firstFrame}` : `${r.firstFrame}–${r.lastFrame}`;
  return [
    String(r.id),
    code(clockTime(r.start)),
    code(formatEndpoint(r.client)),
    code(formatEndpoint(r.server)),
    md(r.ending),
    r.cause === null ? '—' : md(r.cause),
    md(r.closer ?? '—'),
    `${md(r.appView.client)} / ${md(r.appView.server)}`,
    frames,
    code(r.filter),
  ];
}

function sectionTable(m: ReportModel, s: RunSummary): string[] {
  const out = ['## All abnormal connections', ''];
  if (m.abnormal === 0) return [...out, 'None.'];
  out.push(
    "Earliest first. Paste a filter into Wireshark's display filter bar to see exactly that connection's packets; the frame " +
      'range separates reuses of the same addresses and ports.',
    '',
  );
  out.push(
    ...table(
      ['#', 'started (UTC)', 'client', 'server', 'ending', 'cause', 'closer', 'apps saw (client / server)', 'frames', 'Wireshark display filter'],
      ['r', 'l', 'l', 'l', 'l', 'l', 'l', 'l', 'l', 'l'],
      m.rows.map(tableRow),
    ),
  );
  const rest = m.abnormal - m.rows.length;
  if (rest > 0) {
    out.push(
      '',
      `… and ${plural(rest, 'more abnormal connection')}, not listed to keep this report readable. All of them: ` +
        `${code(listAllCommand(s), false)}.`,
    );
  }
  return out;
}

/** The whole report as one Markdown document. */
export function renderMarkdownReport(m: ReportModel, s: RunSummary, meta: ReportMeta): string {
  const state = meta.errors.length > 0 ? 'capture damaged' : damageLines(s, meta).warnings.length > 0 ? 'capture read with warnings' : 'capture clean';
  const lines: string[] = [
    `# ${md(meta.title)}`,
    '',
    `_TCP teardown report · ${s.files.map((f) => code(f.name, false)).join(', ')} · ${md(spanText(s))}_`,
    '',
    `**${plural(m.total, 'connection')} · ${formatCount(m.abnormal)} abnormal (${percent(m.abnormal, m.total)}) · ` +
      `${plural(s.packetsRead, 'packet')} · ${state}**`,
    '',
    ...sectionFindings(m),
    '',
    ...sectionCapture(m, s, meta),
    '',
    ...sectionGlance(m),
    '',
    ...sectionTimeline(m, s),
    '',
    ...sectionAffected(m, meta),
    '',
    ...sectionEndings(m),
    '',
    ...sectionTable(m, s),
    '',
    '---',
    '',
    `_Made by ${md(meta.generator)}${meta.generatedAt === '' ? '' : ` on ${md(meta.generatedAt)}`}. Times are UTC. ` +
      'Labels and texts are explained in docs/taxonomy.md of teardown._',
    '',
  ];
  return lines.join('\n');
}
