/**
 * The report's charts as plain inline SVG: no script, no font, no URL. Colours are presentation attributes (not
 * style attributes), so the report's Content-Security-Policy can forbid inline styles other than its one
 * stylesheet; text takes the page's fonts through classes.
 *
 *   endingsChart   one stacked bar per ending, split by who closed (client, server, both, nobody)
 *   timelineChart  one lane per ending, a bar per time bucket: a burst of RSTs at 14:02 stands out
 */
import { ENDINGS, isAbnormal, type Closer, type Ending } from '../classify/labels.js';
import type { EndingTally } from '../output/summary-table.js';
import { formatCount, formatDuration } from '../output/format.js';
import { escapeHtml } from './escape.js';
import type { TimelineView } from './report-model.js';

/** Colours per ending: abnormal endings stand out, normal ones are greys. */
export const ENDING_COLORS: Record<Ending, string> = {
  'graceful-fin': '#9aa5b1',
  'abortive-rst': '#d62d20',
  'orphan-timeout-rst': '#e8730c',
  'close-wait-stuck': '#c99400',
  'lost-state-rst': '#b5186e',
  refused: '#7b3fd1',
  unanswered: '#2f6fd6',
  'peer-unresponsive': '#0e8a9a',
  'half-closed': '#b9b2a8',
  open: '#cfd6de',
};

export type CloserKey = Closer | 'none';
export const CLOSER_KEYS: readonly CloserKey[] = ['client', 'server', 'both', 'none'];
export const CLOSER_COLORS: Record<CloserKey, string> = {
  client: '#3a7bd5',
  server: '#f29f05',
  both: '#8e5bd6',
  none: '#aab4bf',
};
export const CLOSER_LABELS: Record<CloserKey, string> = {
  client: 'client closed or reset',
  server: 'server closed or reset',
  both: 'both (simultaneous close)',
  none: 'nobody closed',
};

/** A coordinate with at most one decimal: short, and stable across platforms. */
export function n1(x: number): string {
  const r = Math.round(x * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Rough width of text in the page's sans-serif font at `px` pixels (for layout; no font metrics at hand). */
export function textWidth(text: string, px: number, mono = false): number {
  return [...text].length * px * (mono ? 0.61 : 0.56);
}

function svgOpen(width: number, height: number, cls: string, label: string): string {
  return (
    `<svg class="${cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n1(width)} ${n1(height)}" ` +
    `width="${n1(width)}" height="${n1(height)}" role="img" aria-label="${escapeHtml(label)}">` +
    `<title>${escapeHtml(label)}</title>`
  );
}

// ------------------------------------------------------------------------------------------------ endings

export interface EndingsChartOptions {
  width?: number;
}

/**
 * Horizontal stacked bars, one row per ending present (ENDINGS order), each split by closer, with the total at
 * the end of the bar and a legend above. Returns "" when there is nothing to draw.
 */
export function endingsChart(t: EndingTally, opts: EndingsChartOptions = {}): string {
  const rows = ENDINGS.filter((e) => (t.byEnding.get(e)?.total ?? 0) > 0);
  if (rows.length === 0) return '';
  const width = Math.max(480, opts.width ?? 760);
  const labelW = 150;
  const countW = 56;
  const barX = labelW + 10;
  const barW = width - barX - countW;
  const legendH = 30;
  const rowH = 26;
  const barH = 16;
  const height = legendH + rows.length * rowH + 6;
  const max = Math.max(...rows.map((e) => t.byEnding.get(e)!.total));
  const out: string[] = [svgOpen(width, height, 'chart chart-endings', 'Connections per ending, split by who closed')];

  // Legend: only the closers that occur.
  const present = CLOSER_KEYS.filter((k) => rows.some((e) => t.byEnding.get(e)![k] > 0));
  let lx = barX;
  for (const k of present) {
    out.push(
      `<rect x="${n1(lx)}" y="8" width="12" height="12" rx="2" fill="${CLOSER_COLORS[k]}"/>` +
        `<text class="legend" x="${n1(lx + 17)}" y="18">${escapeHtml(CLOSER_LABELS[k])}</text>`,
    );
    lx += 17 + textWidth(CLOSER_LABELS[k], 12) + 26;
  }

  rows.forEach((e, i) => {
    const c = t.byEnding.get(e)!;
    const y = legendH + i * rowH;
    const cy = y + rowH / 2;
    const abnormal = isAbnormal(e);
    out.push(`<g class="row${abnormal ? ' abnormal' : ''}">`);
    out.push(`<circle cx="8" cy="${n1(cy)}" r="4.5" fill="${ENDING_COLORS[e]}"/>`);
    out.push(`<text class="label${abnormal ? ' strong' : ''}" x="${n1(labelW)}" y="${n1(cy + 4)}" text-anchor="end">${escapeHtml(e)}</text>`);
    out.push(`<rect x="${n1(barX)}" y="${n1(cy - barH / 2)}" width="${n1(barW)}" height="${barH}" rx="3" fill="#f1f4f7"/>`);
    let x = barX;
    for (const k of CLOSER_KEYS) {
      const v = c[k];
      if (v === 0) continue;
      const w = Math.max(2, (v / max) * barW);
      out.push(
        `<rect x="${n1(x)}" y="${n1(cy - barH / 2)}" width="${n1(w)}" height="${barH}" fill="${CLOSER_COLORS[k]}">` +
          `<title>${escapeHtml(`${e}, ${CLOSER_LABELS[k]}: ${formatCount(v)}`)}</title></rect>`,
      );
      const label = formatCount(v);
      // A bar of one closer only needs the total at its end.
      if (v !== c.total && textWidth(label, 11) + 6 <= w) {
        out.push(`<text class="inbar" x="${n1(x + w / 2)}" y="${n1(cy + 4)}" text-anchor="middle">${label}</text>`);
      }
      x += w;
    }
    out.push(`<text class="count" x="${n1(x + 6)}" y="${n1(cy + 4)}">${formatCount(c.total)}</text>`);
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('');
}

// ------------------------------------------------------------------------------------------------ timeline

const TICK_STEPS_MS: readonly number[] = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** A tick step that puts at most `maxTicks` ticks across the span. */
export function tickStep(spanMs: number, maxTicks: number): number {
  for (const s of TICK_STEPS_MS) if (spanMs / s <= maxTicks) return s;
  let s = 86_400_000;
  while (spanMs / s > maxTicks) s *= 2;
  return s;
}

/** Clock time (UTC) at the precision a tick step needs: "14:02", "14:02:30", "14:02:30.5", "14:02:30.250". */
export function clockLabel(ms: number, stepMs: number): string {
  const iso = new Date(Math.floor(ms)).toISOString();
  if (stepMs >= 60_000) return iso.slice(11, 16);
  if (stepMs >= 1000) return iso.slice(11, 19);
  const digits = stepMs >= 100 ? 1 : stepMs >= 10 ? 2 : 3;
  return iso.slice(11, 20 + digits);
}

export interface TimelineChartOptions {
  width?: number;
}

/**
 * One lane per ending present (ENDINGS order), a bar per bucket, each lane scaled to its own peak (written at the
 * lane's end) so that a handful of RSTs are as visible as ten thousand graceful closes. Times are UTC.
 */
export function timelineChart(v: TimelineView, opts: TimelineChartOptions = {}): string {
  const lanes = ENDINGS.map((e, i) => ({ e, i })).filter(({ i }) => v.counts.some((c) => c[i]! > 0));
  if (lanes.length === 0 || v.starts.length === 0) return '';
  const width = Math.max(480, opts.width ?? 760);
  const labelW = 150;
  const peakW = 64;
  const plotX = labelW + 10;
  const plotW = width - plotX - peakW;
  const laneH = 34;
  const top = 6;
  const axisH = 26;
  const height = top + lanes.length * laneH + axisH;
  const t0 = v.starts[0]!;
  const t1 = v.starts[v.starts.length - 1]! + v.widthMs;
  const span = Math.max(1, t1 - t0);
  const x = (ms: number): number => plotX + ((ms - t0) / span) * plotW;
  const bw = (v.widthMs / span) * plotW;
  const label = `Connection endings over time, per ending, in buckets of ${formatDuration(v.widthMs)} (UTC)`;
  const out: string[] = [svgOpen(width, height, 'chart chart-timeline', label)];

  // Tick grid first, under the bars.
  const step = tickStep(span, Math.max(2, Math.floor(plotW / 90)));
  const firstTick = Math.ceil(t0 / step) * step;
  const axisY = top + lanes.length * laneH;
  for (let tk = firstTick, guard = 0; tk <= t1 && guard < 200; tk += step, guard++) {
    const tx = x(tk);
    out.push(`<line class="grid" x1="${n1(tx)}" y1="${top}" x2="${n1(tx)}" y2="${n1(axisY + 4)}" stroke="#e3e8ee" stroke-width="1"/>`);
    out.push(`<text class="tick" x="${n1(tx)}" y="${n1(axisY + 17)}" text-anchor="middle">${escapeHtml(clockLabel(tk, step))}</text>`);
  }

  lanes.forEach(({ e, i }, li) => {
    const y0 = top + li * laneH;
    const base = y0 + laneH - 6;
    const peak = Math.max(...v.counts.map((c) => c[i]!));
    const abnormal = isAbnormal(e);
    out.push(`<g class="lane${abnormal ? ' abnormal' : ''}">`);
    out.push(`<text class="label${abnormal ? ' strong' : ''}" x="${n1(labelW)}" y="${n1(base - 4)}" text-anchor="end">${escapeHtml(e)}</text>`);
    out.push(`<line x1="${n1(plotX)}" y1="${n1(base + 0.5)}" x2="${n1(plotX + plotW)}" y2="${n1(base + 0.5)}" stroke="#c9d1da" stroke-width="1"/>`);
    v.counts.forEach((c, b) => {
      const n = c[i]!;
      if (n === 0) return;
      const h = Math.max(2, (n / peak) * (laneH - 10));
      const bx = x(v.starts[b]!);
      const w = Math.max(1.5, bw - (bw > 4 ? 1 : 0));
      const when = `${clockLabel(v.starts[b]!, Math.min(v.widthMs, 1000))} + ${formatDuration(v.widthMs)}`;
      out.push(
        `<rect x="${n1(bx)}" y="${n1(base - h)}" width="${n1(w)}" height="${n1(h)}" fill="${ENDING_COLORS[e]}">` +
          `<title>${escapeHtml(`${e}: ${formatCount(n)} (${when})`)}</title></rect>`,
      );
    });
    out.push(`<text class="peak" x="${n1(plotX + plotW + 8)}" y="${n1(base - 4)}">peak ${formatCount(peak)}</text>`);
    out.push('</g>');
  });
  out.push(`<line x1="${n1(plotX)}" y1="${n1(axisY + 4)}" x2="${n1(plotX + plotW)}" y2="${n1(axisY + 4)}" stroke="#8895a3" stroke-width="1"/>`);
  out.push('</svg>');
  return out.join('');
}
