/**
 * The HTML incident-review report: one self-contained file (inline CSS and SVG, no script, no font, no URL) that
 * opens from disk. A Content-Security-Policy meta tag allows nothing but its one stylesheet, by hash, so even a
 * capture crafted to inject markup could not load or run anything; every text from the capture is escaped too.
 *
 * Sections: key findings, the capture, endings at a glance (chart), endings over time (timeline), the services
 * and hosts most affected, one part per abnormal ending (meaning, kernel, applications, fix, causes, example
 * ladders), and the table of abnormal connections with a Wireshark display filter each.
 */
import { createHash } from 'node:crypto';
import { ADVICE, CAUSE_ADVICE, RST_REASON_TEXT } from '../classify/advice.js';
import { ENDINGS, isAbnormal, type AppView, type Cause, type Ending, type RstReason } from '../classify/labels.js';
import type { ConnectionRecord } from '../classify/record.js';
import { formatCount, formatDuration, formatEndpoint, isoSpanMs, plural } from '../output/format.js';
import type { RunSummary } from '../output/run-summary.js';
import { escapeHtml as h, htmlProse as hp, safeId } from './escape.js';
import {
  abnormalEndingsPresent,
  examplesOf,
  rankTally,
  timelineView,
  type AbnormalRow,
  type ReportModel,
  type TallyEntry,
} from './report-model.js';
import {
  captureDates,
  captureFacts,
  clockFromMs,
  clockTime,
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
import { CLOSER_KEYS, ENDING_COLORS, endingsChart, n1, timelineChart } from './svg-charts.js';
import { ladderSvg } from './svg-ladder.js';

const CHART_WIDTH = 900;
const TIMELINE_BARS = 120;

const CSS = `
:root{--fg:#1d2733;--muted:#5d6b7a;--faint:#8a96a3;--line:#e2e7ed;--panel:#f6f8fa;--accent:#d62d20;--link:#1d5fbf}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#e9edf2;color:var(--fg);font:15px/1.55 -apple-system,"Segoe UI","Helvetica Neue",Helvetica,Arial,"Liberation Sans",system-ui,sans-serif}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace;font-size:.88em}
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
.page{max-width:1000px;margin:24px auto;background:#fff;border-radius:10px;box-shadow:0 1px 2px rgba(16,24,40,.06),0 4px 16px rgba(16,24,40,.06);overflow:hidden}
.top{padding:30px 44px 24px;background:linear-gradient(180deg,#1f2a37 0%,#263445 100%);color:#f3f6f9}
.eyebrow{font-size:12px;letter-spacing:.14em;text-transform:uppercase;color:#9fb0c3;font-weight:600}
h1{margin:6px 0 6px;font-size:28px;line-height:1.2;font-weight:700;letter-spacing:-.01em}
.sub{margin:0;color:#c3cfdb;font-size:14px}
.sub code{color:#e6edf4}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin-top:20px}
.kpi{background:rgba(255,255,255,.07);border:1px solid rgba(255,255,255,.12);border-radius:8px;padding:10px 16px;min-width:132px}
.kpi .v{font-size:22px;font-weight:700;line-height:1.2;color:#fff}
.kpi .k{font-size:12px;color:#aebdcc;text-transform:uppercase;letter-spacing:.06em}
.kpi.bad .v{color:#ff8a80}
.kpi.warn .v{color:#ffd27a}
nav.toc{padding:10px 44px;border-bottom:1px solid var(--line);background:var(--panel);font-size:13.5px}
nav.toc a{margin-right:18px;color:var(--muted);font-weight:600}
main{padding:8px 44px 36px}
section{margin-top:30px}
h2{font-size:20px;margin:0 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line);letter-spacing:-.005em}
h3{font-size:17px;margin:0}
h4{font-size:14px;margin:18px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}
p{margin:8px 0}
.muted{color:var(--muted)}
.nw{white-space:nowrap}
.small{font-size:13px}
ul.findings{list-style:none;padding:0;margin:0;border:1px solid var(--line);border-radius:8px}
ul.findings li{display:flex;gap:16px;align-items:baseline;padding:8px 16px;border-top:1px solid var(--line)}
ul.findings li:first-child{border-top:0}
ul.findings .n{font-size:20px;font-weight:700;min-width:56px;flex-shrink:0;text-align:right;font-variant-numeric:tabular-nums}
ul.findings .what{display:block;font-weight:600}
ul.findings .what code{margin-left:6px;color:var(--muted);font-weight:400}
ul.findings .detail{display:block;color:var(--muted);font-size:13px}
.ok{padding:12px 16px;border-radius:8px;background:#e8f5ec;border:1px solid #b9dfc6;color:#1f6b3d}
.callout{padding:10px 14px;border-radius:8px;margin:10px 0;font-size:14px}
.callout.error{background:#fdecea;border:1px solid #f5c2bd;color:#8c1d13}
.callout.warn{background:#fff7e6;border:1px solid #f3dca6;color:#6b4a00}
.callout ul{margin:4px 0 0;padding-left:20px}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:8px 0}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);background:var(--panel);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{width:150px;text-transform:none;letter-spacing:0;font-size:13.5px;background:none;color:var(--muted)}
tr.total td{font-weight:700;border-top:2px solid var(--line)}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:7px;vertical-align:baseline}
.tag{display:inline-block;padding:1px 8px;border-radius:10px;background:#eef1f5;color:#33404d;font-size:12px;font-weight:600;white-space:nowrap}
.tag.bad{background:#fdecea;color:#a11d12}
.chip{display:inline-block;margin:1px 6px 1px 0;font-size:12.5px;white-space:nowrap}
.chartbox{border:1px solid var(--line);border-radius:8px;padding:14px 14px 8px;background:#fff}
svg.chart,svg.ladder{display:block;max-width:100%;height:auto;fill:#33404d}
svg text{font-family:inherit;font-size:12px}
svg .label{font-size:12.5px}
svg .strong,svg .flags{font-weight:700}
svg .legend{font-size:12px}
svg .inbar{font-size:11px;font-weight:700;fill:#fff}
svg .count{font-size:12.5px;font-weight:700}
svg .tick,svg .peak,svg .meta{font-size:11px;fill:#6b7785}
svg .tick,svg .meta,svg .nums,svg .state,svg .endaddr{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
svg .meta.strong{fill:#1d2733}
svg .state{font-size:10.5px;font-weight:700}
svg .pktlabel{font-size:12px}
svg .nums{font-size:11.5px}
svg .note{font-style:italic;font-size:11.5px;fill:#b5186e}
svg .endname{font-size:12px;font-weight:700;letter-spacing:.1em;fill:#5d6b7a}
svg .endaddr{font-size:12.5px;fill:#1d2733}
svg .gaptext{font-size:12px}
svg .omitted{font-style:italic;fill:#6b7785}
svg.mini{display:inline-block;vertical-align:middle}
details{margin:8px 0}
summary{cursor:pointer;padding:4px 0}
@media print{details>summary{display:none}}
article.ending{border:1px solid var(--line);border-radius:10px;margin:18px 0 26px;overflow:hidden}
article.ending>header{display:flex;align-items:center;gap:12px;padding:12px 18px;background:var(--panel);border-bottom:1px solid var(--line)}
article.ending>header .bar{width:6px;align-self:stretch;border-radius:3px}
article.ending>header .count{margin-left:auto;font-weight:700;font-size:15px;white-space:nowrap}
article.ending .body{padding:6px 18px 14px}
dl.advice{display:grid;grid-template-columns:190px 1fr;gap:8px 18px;margin:12px 0}
dl.advice dt{font-weight:700;font-size:13.5px;color:#33404d}
dl.advice dd{margin:0;font-size:14px}
dl.advice .seen{display:block;margin-top:4px;color:var(--muted);font-size:13px}
figure.example{margin:16px 0 8px;border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fcfdfe}
figure.example figcaption{margin-bottom:8px}
figure.example .ex-title{font-weight:700;font-size:14.5px}
figure.example .ex-facts{color:var(--muted);font-size:13px}
figure.example .explain{font-size:13.5px;margin:8px 0 4px}
.filter code{display:inline-block;background:#f1f4f7;border:1px solid var(--line);border-radius:5px;padding:2px 6px;font-size:12px;overflow-wrap:anywhere;color:#1d2733}
table.conns{font-size:13px}
table.conns tr.main td{border-bottom:0;padding-bottom:2px}
table.conns tr.filterrow td{padding-top:0;padding-bottom:8px}
table.conns tr.filterrow code{font-size:11.5px;color:#5d6b7a;overflow-wrap:anywhere}
table.conns tbody:target td{background:#fff7d6}
table.causes td.cause{width:150px;white-space:nowrap}
table.causes .seen{display:block;margin-top:4px;color:var(--muted);font-size:13px}
footer{padding:16px 44px 26px;color:var(--faint);font-size:12.5px;border-top:1px solid var(--line)}
@media (max-width:720px){.top,main,nav.toc,footer{padding-left:18px;padding-right:18px}dl.advice{grid-template-columns:1fr}}
@media print{body{background:#fff}.page{box-shadow:none;margin:0;max-width:none}nav.toc{display:none}figure.example,article.ending>header,.chartbox{break-inside:avoid}}
`.trim();

function cspHash(css: string): string {
  return `sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}`;
}

/** A coloured dot as an inline SVG (a CSS colour would need a style attribute, which the CSP forbids). */
function dot(color: string): string {
  return `<svg class="mini" width="10" height="10" viewBox="0 0 10 10" aria-hidden="true"><circle cx="5" cy="5" r="4.5" fill="${color}"/></svg>`;
}

function endingLabel(e: Ending): string {
  return `${dot(ENDING_COLORS[e])} <code>${h(e)}</code>`;
}

/** A small stacked bar of a service's or host's endings. */
function miniBar(t: TallyEntry): string {
  const w = 120;
  const parts: string[] = [];
  let x = 0;
  for (const e of ENDINGS) {
    const n = t.byEnding[e] ?? 0;
    if (n === 0) continue;
    const bw = (n / t.total) * w;
    parts.push(`<rect x="${n1(x)}" y="0" width="${n1(Math.max(1, bw))}" height="10" fill="${ENDING_COLORS[e]}"><title>${h(`${e}: ${n}`)}</title></rect>`);
    x += bw;
  }
  return `<svg class="mini" width="${w}" height="10" viewBox="0 0 ${w} 10" role="img" aria-label="endings">${parts.join('')}</svg>`;
}

function endingChips(t: TallyEntry): string {
  return ENDINGS.filter((e) => isAbnormal(e) && (t.byEnding[e] ?? 0) > 0)
    .sort((a, b) => (t.byEnding[b] ?? 0) - (t.byEnding[a] ?? 0))
    .map((e) => `<span class="chip">${dot(ENDING_COLORS[e])} ${h(e)} ${formatCount(t.byEnding[e]!)}</span>`)
    .join('');
}

function appViewList(m: Partial<Record<AppView, number>>): string {
  return (Object.entries(m) as [AppView, number][])
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `<code>${h(v)}</code> ×${formatCount(n)}`)
    .join(', ');
}

function sectionCapture(m: ReportModel, s: RunSummary, meta: ReportMeta): string {
  const out: string[] = ['<section id="capture"><h2>The capture</h2>'];
  const dmg = damageLines(s, meta);
  if (dmg.errors.length > 0) {
    out.push(
      `<div class="callout error"><strong>Damaged or unreadable input.</strong> Everything before the damage is in this report.<ul>${dmg.errors
        .map((e) => `<li><code>${h(e)}</code></li>`)
        .join('')}</ul></div>`,
    );
  }
  out.push('<table class="facts"><tbody>');
  out.push(
    `<tr><th>Files</th><td>${s.files
      .map((f) => `<code>${h(f.name)}</code> <span class="muted">(${h(fileLine(f))})</span>`)
      .join('<br>')}</td></tr>`,
  );
  for (const [k, v] of captureFacts(m, s, meta)) out.push(`<tr><th>${h(k)}</th><td>${h(v)}</td></tr>`);
  out.push(
    `<tr><th>Damage, drops</th><td>${
      dmg.warnings.length === 0 ? noWarningText(meta) : dmg.warnings.map((w) => `<strong>${h(w)}</strong>`).join('<br>')
    }${dmg.notes.map((n) => `<br><span class="muted">${h(n)}</span>`).join('')}</td></tr>`,
  );
  const merge = mergeCommand(s);
  if (merge !== null) {
    out.push(
      `<tr><th>Frame numbers</th><td>those of the files merged in time order, as <code>${h(merge)}</code> writes them: open that file in Wireshark to use the filters below</td></tr>`,
    );
  }
  out.push('</tbody></table></section>');
  return out.join('\n');
}

function sectionFindings(m: ReportModel): string {
  const out: string[] = ['<section id="findings"><h2>Key findings</h2>'];
  const list = findings(m);
  if (m.total === 0) {
    out.push('<p class="muted">No connections in this report.</p>');
  } else if (list.length === 0) {
    out.push(`<p class="ok">No abnormal endings: all ${plural(m.total, 'connection')} in this report closed gracefully, are half-closed or still open.</p>`);
  } else {
    out.push(
      `<p>${formatCount(m.abnormal)} of ${plural(m.total, 'connection')} (${percent(m.abnormal, m.total)}) ended abnormally, in ${plural(list.length, 'way')}:</p>`,
    );
    out.push('<ul class="findings">');
    for (const f of list) {
      const bits: string[] = [];
      if (f.closers !== '') bits.push(`closed by ${f.closers}`);
      if (f.causes !== '') bits.push(`causes: ${f.causes}`);
      if (f.services !== '') bits.push(`services: ${f.services}`);
      bits.push(`ended ${f.when}`);
      out.push(
        `<li><span class="n">${formatCount(f.count)}</span><div><span class="what">${dot(ENDING_COLORS[f.ending])} <a href="#ending-${safeId(f.ending)}">${h(f.title)}</a><code>${h(f.ending)}</code></span>` +
          `<span class="detail">${h(bits.join(' · '))}</span></div></li>`,
      );
    }
    out.push('</ul>');
  }
  out.push('</section>');
  return out.join('\n');
}

function sectionGlance(m: ReportModel): string {
  const out: string[] = ['<section id="glance"><h2>Endings at a glance</h2>'];
  if (m.total === 0) {
    out.push('<p class="muted">No connections in this report.</p></section>');
    return out.join('\n');
  }
  out.push(`<div class="chartbox">${endingsChart(m.endings, { width: CHART_WIDTH })}</div>`);
  out.push('<details><summary class="small muted">The counts as a table</summary><table class="glance"><thead><tr><th>ending</th><th>meaning</th>');
  for (const k of CLOSER_KEYS) out.push(`<th class="num">${k === 'none' ? 'no closer' : h(k)}</th>`);
  out.push('<th class="num">total</th></tr></thead><tbody>');
  for (const e of ENDINGS) {
    const c = m.endings.byEnding.get(e);
    if (c === undefined || c.total === 0) continue;
    const link = isAbnormal(e) ? `<a href="#ending-${safeId(e)}">${h(ADVICE[e].title)}</a>` : h(ADVICE[e].title);
    out.push(`<tr><td>${endingLabel(e)}</td><td>${link}</td>`);
    for (const k of CLOSER_KEYS) out.push(`<td class="num">${c[k] === 0 ? '<span class="muted">0</span>' : formatCount(c[k])}</td>`);
    out.push(`<td class="num"><strong>${formatCount(c.total)}</strong></td></tr>`);
  }
  const t = m.endings.total;
  out.push(`<tr class="total"><td>total</td><td></td>${CLOSER_KEYS.map((k) => `<td class="num">${formatCount(t[k])}</td>`).join('')}<td class="num">${formatCount(t.total)}</td></tr>`);
  out.push('</tbody></table></details>');
  out.push('</section>');
  return out.join('\n');
}

function sectionTimeline(m: ReportModel, s: RunSummary): string {
  const out: string[] = ['<section id="timeline"><h2>Endings over time</h2>'];
  const [from, to] = timelineSpan(m, s);
  const view = timelineView(m.timeline, from, to, TIMELINE_BARS);
  const svg = view === null ? '' : timelineChart(view, { width: CHART_WIDTH });
  if (view === null || svg === '') {
    out.push('<p class="muted">No connections in this report.</p></section>');
    return out.join('\n');
  }
  out.push(
    `<p class="muted small">When each connection ended (its last packet), ${h(captureDates(s))}, UTC. One bar per ${h(
      formatDuration(view.widthMs),
    )}; each row is scaled to its own peak, so a few resets show as clearly as many graceful closes.</p>`,
  );
  out.push(`<div class="chartbox">${svg}</div></section>`);
  return out.join('\n');
}

function sectionAffected(m: ReportModel, meta: ReportMeta): string {
  const top = meta.topN ?? DEFAULT_TOP_N;
  const out: string[] = ['<section id="affected"><h2>Services and hosts most affected</h2>'];
  if (m.total === 0) {
    out.push('<p class="muted">No connections in this report.</p></section>');
    return out.join('\n');
  }
  const services = rankTally(m.services, top);
  out.push('<h4>Services (server address and port)</h4>');
  out.push(
    '<table><thead><tr><th>service</th><th class="num">connections</th><th class="num">abnormal</th><th class="num">closed or reset by the server</th><th>endings</th><th>abnormal endings</th></tr></thead><tbody>',
  );
  for (const t of services) {
    out.push(
      `<tr><td><code>${h(t.key)}</code></td><td class="num">${formatCount(t.total)}</td><td class="num">${
        t.abnormal > 0 ? `<strong>${formatCount(t.abnormal)}</strong> <span class="muted">(${percent(t.abnormal, t.total)})</span>` : '0'
      }</td><td class="num">${formatCount(t.abnormalClosedHere)}</td><td>${miniBar(t)}</td><td>${endingChips(t) || '<span class="muted">—</span>'}</td></tr>`,
    );
  }
  out.push('</tbody></table>');
  out.push(restLine(m.services.entries.size - services.length, 'service', m.services.dropped));

  const hosts = rankTally(m.hosts, top);
  out.push('<h4>Hosts (either end)</h4>');
  out.push(
    '<table><thead><tr><th>host</th><th class="num">connections</th><th class="num">abnormal</th><th class="num">closed or reset by this host</th><th>endings</th><th>abnormal endings</th></tr></thead><tbody>',
  );
  for (const t of hosts) {
    out.push(
      `<tr><td><code>${h(t.key)}</code></td><td class="num">${formatCount(t.total)}</td><td class="num">${
        t.abnormal > 0 ? `<strong>${formatCount(t.abnormal)}</strong> <span class="muted">(${percent(t.abnormal, t.total)})</span>` : '0'
      }</td><td class="num">${formatCount(t.abnormalClosedHere)}</td><td>${miniBar(t)}</td><td>${endingChips(t) || '<span class="muted">—</span>'}</td></tr>`,
    );
  }
  out.push('</tbody></table>');
  out.push(restLine(m.hosts.entries.size - hosts.length, 'host', m.hosts.dropped));
  out.push('</section>');
  return out.join('\n');
}

function restLine(more: number, what: string, dropped: number): string {
  const parts: string[] = [];
  if (more > 0) parts.push(`… and ${plural(more, `more ${what}`)}.`);
  if (dropped > 0) parts.push(`Counts are approximate: ${plural(dropped, `less affected ${what}`)} were dropped from the tally to bound memory.`);
  return parts.length === 0 ? '' : `<p class="muted small">${h(parts.join(' '))}</p>`;
}

function exampleFigure(r: ConnectionRecord, inTable: boolean): string {
  const verdict = r.cause === null ? r.ending : `${r.ending} (${r.cause})`;
  const facts = [`started ${clockTime(r.start)}`, `lasted ${formatDuration(r.durationMs)}`];
  if (r.closeWaitMs !== null) facts.push(`CLOSE_WAIT ${formatDuration(r.closeWaitMs)}`);
  if (r.finWait2Ms !== null) facts.push(`FIN_WAIT_2 ${formatDuration(r.finWait2Ms)}`);
  if (r.rstReason !== null) facts.push(`reset reason ${r.rstReason}`);
  facts.push(`applications saw: client ${r.appView.client}, server ${r.appView.server}`);
  if (r.evidence.length > 0) facts.push(`evidence: frame${r.evidence.length > 1 ? 's' : ''} ${r.evidence.join(', ')}`);
  if (r.confidence !== 'high') facts.push(`confidence ${r.confidence}${r.confidenceReasons.length > 0 ? ` (${r.confidenceReasons.join('; ')})` : ''}`);
  if (r.incarnation > 1) facts.push(`incarnation ${r.incarnation} of this 4-tuple`);
  if (r.tunnel !== '') facts.push(`carried in ${r.tunnel}`);
  const filter = r.displayFilter;
  const total = r.packets.client + r.packets.server;
  const idLink = inTable ? `<a href="#conn-${r.id}">Connection #${r.id}</a>` : `Connection #${r.id}`;
  return [
    `<figure class="example" id="ladder-${r.id}">`,
    '<figcaption>',
    `<div class="ex-title">${idLink} · <span class="mono">${h(formatEndpoint(r.client))} → ${h(formatEndpoint(r.server))}</span> · <span class="tag bad">${h(verdict)}</span>${
      r.closer === null ? '' : ` · closed by ${h(r.closer)}`
    }</div>`,
    `<div class="ex-facts">${h(facts.join(' · '))}</div>`,
    '</figcaption>',
    ladderSvg(r),
    `<p class="explain">${hp(r.explanation)}</p>`,
    `<p class="filter small">Wireshark display filter: <code>${h(filter)}</code></p>`,
    r.ladder.length < total
      ? `<p class="muted small">The diagram shows ${formatCount(r.ladder.length)} of the connection's ${formatCount(total)} packets: the handshake and the teardown.</p>`
      : '',
    '</figure>',
  ].join('\n');
}

function sectionEndings(m: ReportModel): string {
  const present = abnormalEndingsPresent(m);
  const out: string[] = ['<section id="abnormal"><h2>Abnormal endings</h2>'];
  if (present.length === 0) {
    out.push('<p class="ok">None in this report.</p></section>');
    return out.join('\n');
  }
  const tableIds = new Set(m.rows.map((r) => r.id));
  for (const e of present) {
    const a = ADVICE[e];
    const f = m.facts.get(e)!;
    const c = m.endings.byEnding.get(e)!;
    out.push(`<article class="ending" id="ending-${safeId(e)}">`);
    out.push(
      `<header><svg class="mini" width="6" height="30" viewBox="0 0 6 30" aria-hidden="true"><rect width="6" height="30" rx="3" fill="${ENDING_COLORS[e]}"/></svg>` +
        `<div><h3>${h(a.title)}</h3><code>${h(e)}</code></div><span class="count">${plural(f.count, 'connection')}</span></header>`,
    );
    out.push('<div class="body">');
    const when = f.firstEndMs === f.lastEndMs ? `at ${clockFromMs(f.firstEndMs)}` : `between ${clockFromMs(f.firstEndMs)} and ${clockFromMs(f.lastEndMs)}`;
    const closers = closersOf(c);
    const extra: string[] = [];
    if (closers !== '') extra.push(`closed or reset by ${closers}`);
    extra.push(`ended ${when} UTC`);
    if (f.maxCloseWaitMs !== null) extra.push(`longest CLOSE_WAIT ${formatDuration(f.maxCloseWaitMs)}`);
    if (f.maxFinWait2Ms !== null) extra.push(`longest FIN_WAIT_2 ${formatDuration(f.maxFinWait2Ms)}`);
    out.push(`<p class="muted small">${h(extra.join(' · '))}</p>`);
    const reasons = (Object.entries(f.byRstReason) as [RstReason, number][]).sort((x, y) => y[1] - x[1]);
    out.push('<dl class="advice">');
    out.push(`<dt>What it means</dt><dd>${hp(a.meaning)}</dd>`);
    out.push(
      `<dt>Why the kernel did it</dt><dd>${hp(a.kernel)}${
        reasons.length === 0
          ? ''
          : `<span class="seen">Reset reasons seen: ${reasons
              .map(([r, n]) => `<code>${h(r)}</code> ×${formatCount(n)} — ${hp(RST_REASON_TEXT[r])}`)
              .join('<br>')}</span>`
      }</dd>`,
    );
    out.push(
      `<dt>What the applications saw</dt><dd>${hp(a.app)}<span class="seen">Here: client ${appViewList(f.appView.client)}; server ${appViewList(
        f.appView.server,
      )}</span></dd>`,
    );
    out.push(`<dt>How to fix it</dt><dd>${hp(a.fix)}</dd>`);
    out.push('</dl>');
    const causes = (Object.entries(f.byCause) as [Cause, number][]).sort((x, y) => y[1] - x[1]);
    if (causes.length > 0) {
      out.push('<h4>Causes</h4><table class="causes"><tbody>');
      for (const [cause, n] of causes) {
        const ca = CAUSE_ADVICE[cause];
        out.push(
          `<tr><td class="cause"><code>${h(cause)}</code><br><span class="muted small">${plural(n, 'connection')}</span></td>` +
            `<td>${hp(ca.meaning)}<span class="seen"><strong>Applications:</strong> ${hp(ca.app)}</span>` +
            `<span class="seen"><strong>Fix:</strong> ${hp(ca.fix)}</span></td></tr>`,
        );
      }
      out.push('</tbody></table>');
    }
    const examples = examplesOf(m, e);
    if (examples.length > 0) {
      out.push(`<h4>${examples.length === 1 ? 'Example' : 'Examples'}</h4>`);
      for (const r of examples) out.push(exampleFigure(r, tableIds.has(r.id)));
      if (f.count > examples.length) {
        out.push(`<p class="muted small">${plural(f.count - examples.length, 'more connection')} ended this way: see <a href="#connections">the table</a>.</p>`);
      }
    }
    out.push('</div></article>');
  }
  out.push('</section>');
  return out.join('\n');
}

function rowHtml(r: AbnormalRow, ladders: Set<number>): string {
  const verdict = r.cause === null ? h(r.ending) : `${h(r.ending)} <span class="muted nw">(${h(r.cause)})</span>`;
  const frames = r.firstFrame === null ? '—' : r.firstFrame === r.lastFrame ? `${r.firstFrame}` : `${r.firstFrame}–${r.lastFrame}`;
  const id = ladders.has(r.id) ? `<a href="#ladder-${r.id}" title="ladder diagram">#${r.id}</a>` : `#${r.id}`;
  return (
    `<tbody id="conn-${r.id}"><tr class="main"><td class="num">${id}</td><td class="mono">${h(clockTime(r.start))}</td>` +
    `<td class="mono"><span class="nw">${h(formatEndpoint(r.client))} →</span> <span class="nw">${h(formatEndpoint(r.server))}</span></td>` +
    `<td>${dot(ENDING_COLORS[r.ending])} ${verdict}</td><td>${h(r.closer ?? '—')}</td>` +
    `<td>${h(r.appView.client)} / ${h(r.appView.server)}</td><td class="mono num">${frames}</td></tr>` +
    `<tr class="filterrow"><td></td><td colspan="6"><code>${h(r.filter)}</code></td></tr></tbody>`
  );
}

function sectionTable(m: ReportModel, s: RunSummary): string {
  const out: string[] = ['<section id="connections"><h2>All abnormal connections</h2>'];
  if (m.abnormal === 0) {
    out.push('<p class="muted">None.</p></section>');
    return out.join('\n');
  }
  out.push(
    '<p class="muted small">Earliest first, each with its Wireshark display filter underneath: paste it into the filter bar to see exactly that connection\'s packets; ' +
      'the frame range separates reuses of the same addresses and ports. Connection numbers with a link have a ladder diagram above.</p>',
  );
  const ladders = new Set<number>();
  for (const list of m.examples.values()) for (const r of list) ladders.add(r.id);
  out.push(
    '<table class="conns"><thead><tr><th class="num">#</th><th>started (UTC)</th><th>client → server</th><th>ending (cause)</th><th>closer</th><th>apps saw (client / server)</th><th class="num">frames</th></tr></thead>',
  );
  for (const r of m.rows) out.push(rowHtml(r, ladders));
  out.push('</table>');
  const rest = m.abnormal - m.rows.length;
  if (rest > 0) {
    out.push(
      `<p class="callout warn">${h(`… and ${plural(rest, 'more abnormal connection')}, not listed to keep this report readable. All of them:`)} ` +
        `<code>${h(listAllCommand(s))}</code></p>`,
    );
  }
  out.push('</section>');
  return out.join('\n');
}

/** The whole report as one HTML document. */
export function renderHtmlReport(m: ReportModel, s: RunSummary, meta: ReportMeta): string {
  const csp = `default-src 'none'; style-src '${cspHash(CSS)}'; img-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'`;
  const spanMs = s.captureStart !== null && s.captureEnd !== null ? isoSpanMs(s.captureStart, s.captureEnd) : null;
  const files = s.files.map((f) => `<code>${h(f.name)}</code>`).join(', ');
  const damaged = meta.errors.length > 0;
  const dmg = damageLines(s, meta);
  const kpis = [
    `<div class="kpi"><div class="v">${formatCount(m.total)}</div><div class="k">connections</div></div>`,
    `<div class="kpi${m.abnormal > 0 ? ' bad' : ''}"><div class="v">${formatCount(m.abnormal)}</div><div class="k">abnormal (${percent(m.abnormal, m.total)})</div></div>`,
    `<div class="kpi"><div class="v">${formatCount(s.packetsRead)}</div><div class="k">packets</div></div>`,
    `<div class="kpi"><div class="v">${h(spanMs === null ? '—' : formatDuration(spanMs))}</div><div class="k">time span</div></div>`,
    `<div class="kpi${damaged ? ' bad' : dmg.warnings.length > 0 ? ' warn' : ''}"><div class="v">${damaged ? 'damaged' : dmg.warnings.length > 0 ? 'warnings' : 'clean'}</div><div class="k">capture</div></div>`,
  ];
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${h(csp)}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${h(meta.generator)}">`,
    `<title>${h(meta.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<div class="page">',
    '<header class="top">',
    '<div class="eyebrow">TCP teardown report</div>',
    `<h1>${h(meta.title)}</h1>`,
    `<p class="sub">${files} · ${h(spanText(s))}</p>`,
    `<div class="kpis">${kpis.join('')}</div>`,
    '</header>',
    '<nav class="toc"><a href="#findings">Findings</a><a href="#capture">Capture</a><a href="#glance">At a glance</a><a href="#timeline">Over time</a><a href="#affected">Most affected</a><a href="#abnormal">Abnormal endings</a><a href="#connections">Connections</a></nav>',
    '<main>',
    sectionFindings(m),
    sectionCapture(m, s, meta),
    sectionGlance(m),
    sectionTimeline(m, s),
    sectionAffected(m, meta),
    sectionEndings(m),
    sectionTable(m, s),
    '</main>',
    `<footer>Made by ${h(meta.generator)}${meta.generatedAt === '' ? '' : ` on ${h(meta.generatedAt)}`}. Times are UTC. ` +
      'Labels and texts are explained in docs/taxonomy.md of teardown.</footer>',
    '</div>',
    '</body>',
    '</html>',
    '',
  ];
  return parts.join('\n');
}
