/**
 * One connection's teardown as an SVG ladder diagram: the client's line on the left, the server's on the right,
 * one slanted arrow per kept packet (flags, relative seq/ack, len, the note), each end's state changes as labels
 * beside its line, and a break in the lines wherever the connection sat still ("6.0 s in CLOSE_WAIT"), so that a
 * minute of silence takes no more room than a packet.
 *
 * The same rows as the terminal ladder (src/output/ladder.ts): packets in frame order with the state changes
 * they caused, and rows for changes no kept packet explains (a timer, or a packet the bounded trace left out).
 */
import type { Side, TcpState } from '../classify/labels.js';
import type { ConnectionRecord, LadderPacket } from '../classify/record.js';
import { formatDuration, formatEndpoint } from '../output/format.js';
import { buildRows, hasFlag, SIDES, sortedChanges, waitingEnd, type Key, type PacketRow, type StateRow } from '../output/ladder-rows.js';
import { escapeHtml } from './escape.js';
import { n1, textWidth } from './svg-charts.js';

export interface SvgLadderOptions {
  /** Width of the drawing in px (default 760). */
  width?: number;
  /** Arrows drawn at most (default 40): the first and the last packets are kept, a marker tells how many are not. */
  maxArrows?: number;
  /** Gaps at least this long always get a break (default 1000 ms); shorter ones get one when they dominate. */
  gapMs?: number;
}

export const DEFAULT_MAX_ARROWS = 40;

interface OmittedRow {
  kind: 'omitted';
  key: Key;
  count: number;
}

type Row = PacketRow | StateRow | OmittedRow;

/** Keeps the first and the last rows when there are more than `max`, with a marker for the ones left out. */
function capRows(rows: (PacketRow | StateRow)[], max: number): Row[] {
  const packets = rows.filter((r) => r.kind === 'packet').length;
  if (packets <= max) return rows;
  const head = Math.max(1, Math.floor(max / 3));
  const tail = Math.max(1, max - head);
  let seen = 0;
  const headEnd = rows.findIndex((r) => r.kind === 'packet' && ++seen > head);
  seen = 0;
  let tailStart = rows.length;
  for (let i = rows.length - 1; i >= 0; i--) {
    if (rows[i]!.kind === 'packet' && ++seen > tail) break;
    tailStart = i;
  }
  const left = rows.slice(headEnd, tailStart).filter((r) => r.kind === 'packet').length;
  const marker: OmittedRow = { kind: 'omitted', key: rows[headEnd]!.key, count: left };
  return [...rows.slice(0, headEnd), marker, ...rows.slice(tailStart)];
}


/**
 * An end still waiting when the capture ended (in CLOSE_WAIT or FIN_WAIT_2 with a measured duration): the wait
 * goes on after the last packet, up to the end of the capture, and the diagram shows it.
 */
function trailingWait(r: ConnectionRecord): { side: Side; state: TcpState; endRel: number } | null {
  let best: { side: Side; state: TcpState; endRel: number } | null = null;
  for (const side of SIDES) {
    const ep = r.endpoints[side];
    const ms = ep.state === 'CLOSE_WAIT' ? r.closeWaitMs : ep.state === 'FIN_WAIT_2' ? r.finWait2Ms : null;
    if (ms === null) continue;
    let enter: number | null = null;
    for (const ch of ep.states) if (ch.state === ep.state) enter = ch.rel;
    if (enter === null) continue;
    const cand = { side, state: ep.state, endRel: enter + ms / 1000 };
    if (best === null || (cand.state === 'CLOSE_WAIT' && best.state !== 'CLOSE_WAIT')) best = cand;
  }
  return best;
}

/** Arrow colour by what the packet does to the connection. */
function packetColor(p: LadderPacket): string {
  if (hasFlag(p.flags, 'RST')) return '#d62d20';
  if (hasFlag(p.flags, 'FIN')) return '#c77700';
  if (hasFlag(p.flags, 'SYN')) return '#2f6fd6';
  return p.len > 0 ? '#3d4b5c' : '#7d8a99';
}

const STATE_COLORS: Partial<Record<TcpState, { fill: string; stroke: string; text: string }>> = {
  ESTABLISHED: { fill: '#e6f4ea', stroke: '#4c9a6a', text: '#1f6b3d' },
  CLOSE_WAIT: { fill: '#fdebe3', stroke: '#d9622b', text: '#a83d0c' },
  FIN_WAIT_1: { fill: '#fff4de', stroke: '#d09a2a', text: '#8a5a00' },
  FIN_WAIT_2: { fill: '#fff4de', stroke: '#d09a2a', text: '#8a5a00' },
  CLOSING: { fill: '#fff4de', stroke: '#d09a2a', text: '#8a5a00' },
  LAST_ACK: { fill: '#fff4de', stroke: '#d09a2a', text: '#8a5a00' },
  TIME_WAIT: { fill: '#ecedfd', stroke: '#6c6fd6', text: '#3c3fa8' },
};
const STATE_DEFAULT = { fill: '#f0f3f6', stroke: '#9aa6b2', text: '#4a5866' };

/** "+43.196 ms", "+6.010 s", "+2 min 3 s" since the connection's first packet. */
function relLabel(rel: number): string {
  if (rel < 1) return `+${(rel * 1000).toFixed(3)} ms`;
  if (rel < 60) return `+${rel.toFixed(3)} s`;
  return `+${formatDuration(rel * 1000)}`;
}

function numbersText(p: LadderPacket): string {
  const parts = [`seq=${p.seq}`];
  if (hasFlag(p.flags, 'ACK')) parts.push(`ack=${p.ack}`);
  parts.push(`len=${p.len}`);
  if (p.win === 0 && !hasFlag(p.flags, 'RST')) parts.push('win=0');
  return parts.join(' ');
}

const ROW_H = 42;
const STATE_ROW_H = 30;
const GAP_H = 34;
const OMIT_H = 30;
const SLANT = 12;
const META_W = 92;
const PILL_COL_W = 104;
const HEADER_H = 58;

/**
 * The SVG of one connection's ladder (a <svg> element, no XML prolog). Every text from the record is escaped.
 * Returns an SVG with a one-line message when the record kept no packet and no state.
 */
export function ladderSvg(r: ConnectionRecord, opts: SvgLadderOptions = {}): string {
  const width = Math.max(560, opts.width ?? 760);
  const maxArrows = Math.max(4, opts.maxArrows ?? DEFAULT_MAX_ARROWS);
  const gapMs = opts.gapMs ?? 1000;
  const cx = META_W + PILL_COL_W;
  const sx = width - PILL_COL_W;
  const mid = (cx + sx) / 2;
  const label = `Ladder diagram of connection #${r.id}: client ${formatEndpoint(r.client)}, server ${formatEndpoint(r.server)}, ${r.ending}`;

  const changes = sortedChanges(r);
  const rows = capRows(buildRows(r, changes), maxArrows);
  const evidence = new Set(r.evidence);
  const spanMs = rows.length > 1 ? (rows[rows.length - 1]!.key.rel - rows[0]!.key.rel) * 1000 : 0;

  const body: string[] = [];
  const bands: [number, number][] = [];
  let y = HEADER_H + 8;
  let prev: Row | null = null;

  const pill = (side: Side, states: TcpState[], atY: number): void => {
    if (states.length === 0) return;
    states.forEach((st, k) => {
      const c = STATE_COLORS[st] ?? STATE_DEFAULT;
      const w = textWidth(st, 10.5, true) + 12;
      const py = atY - 9 + k * 17 - ((states.length - 1) * 17) / 2;
      const px = side === 'client' ? cx - 8 - w : sx + 8;
      body.push(
        `<rect x="${n1(px)}" y="${n1(py)}" width="${n1(w)}" height="16" rx="8" fill="${c.fill}" stroke="${c.stroke}" stroke-width="1"/>` +
          `<text class="state" x="${n1(px + w / 2)}" y="${n1(py + 11.5)}" text-anchor="middle" fill="${c.text}">${escapeHtml(st)}</text>`,
      );
    });
  };

  for (const row of rows) {
    if (prev !== null && row.kind !== 'omitted' && prev.kind !== 'omitted') {
      const gap = (row.key.rel - prev.key.rel) * 1000;
      if (gap >= gapMs || (gap >= 20 && spanMs > 0 && gap >= 0.15 * spanMs)) {
        const w = waitingEnd(changes, prev, row);
        const dur = formatDuration(gap);
        const text = w === null ? dur : `${dur} in ${w.state}`;
        const tw = textWidth(text, 12) + 20;
        const ty = y + GAP_H / 2;
        const tx = w === null ? mid - tw / 2 : w.side === 'client' ? cx + 14 : sx - 14 - tw;
        body.push(
          `<g class="gap"><rect x="${n1(tx)}" y="${n1(ty - 11)}" width="${n1(tw)}" height="22" rx="11" fill="#f6f7f9" stroke="#d5dbe2"/>` +
            `<text class="gaptext" x="${n1(tx + tw / 2)}" y="${n1(ty + 4)}" text-anchor="middle"><tspan class="strong">${escapeHtml(dur)}</tspan>${
              w === null ? '' : ` in ${escapeHtml(w.state)}`
            }</text></g>`,
        );
        bands.push([y + 2, y + GAP_H - 2]);
        y += GAP_H;
      }
    }
    prev = row;
    if (row.kind === 'omitted') {
      const text = `… ${row.count} packet${row.count === 1 ? '' : 's'} not drawn …`;
      body.push(`<text class="omitted" x="${n1(mid)}" y="${n1(y + OMIT_H / 2 + 4)}" text-anchor="middle">${escapeHtml(text)}</text>`);
      bands.push([y + 2, y + OMIT_H - 2]);
      y += OMIT_H;
      continue;
    }
    if (row.kind === 'state') {
      const ay = y + STATE_ROW_H / 2;
      body.push(`<text class="meta" x="4" y="${n1(ay + 4)}">${escapeHtml(relLabel(row.key.rel))}</text>`);
      for (const side of SIDES) {
        if (row.states[side].length === 0) continue;
        body.push(`<circle cx="${side === 'client' ? cx : sx}" cy="${n1(ay)}" r="3.5" fill="#6b7785"/>`);
        pill(side, row.states[side], ay);
      }
      y += STATE_ROW_H;
      continue;
    }
    const p = row.packet;
    const fromClient = p.from === 'client';
    const x1 = fromClient ? cx : sx;
    const x2 = fromClient ? sx : cx;
    const y1 = y + 20;
    const y2 = y1 + SLANT;
    const color = packetColor(p);
    const isEvidence = evidence.has(p.frame);
    const sw = isEvidence ? 2.2 : 1.5;
    // Arrow head along the slanted line, its tip on the receiving end's line.
    const len = Math.hypot(x2 - x1, y2 - y1);
    const ux = (x2 - x1) / len;
    const uy = (y2 - y1) / len;
    const bx = x2 - ux * 10;
    const by = y2 - uy * 10;
    const head = `${n1(x2)},${n1(y2)} ${n1(bx - uy * 4.5)},${n1(by + ux * 4.5)} ${n1(bx + uy * 4.5)},${n1(by - ux * 4.5)}`;
    const tip = `Frame ${p.frame}, ${p.time}: ${p.flags} ${numbersText(p)} win=${p.win}${p.note === '' ? '' : ` (${p.note})`}`;
    body.push(
      `<g class="pkt${isEvidence ? ' evidence' : ''}"><title>${escapeHtml(tip)}</title>` +
        `<line x1="${n1(x1)}" y1="${n1(y1)}" x2="${n1(bx)}" y2="${n1(by)}" stroke="${color}" stroke-width="${sw}"/>` +
        `<polygon points="${head}" fill="${color}"/>` +
        `<circle cx="${n1(x1)}" cy="${n1(y1)}" r="2.5" fill="${color}"/>`,
    );
    // The label sits above the whole arrow; the note, when there is one, follows the numbers.
    const ly = Math.min(y1, y2) - 5;
    const note = p.note === '' ? '' : `<tspan class="note" dx="8">${escapeHtml(p.note)}</tspan>`;
    body.push(
      `<text class="pktlabel" x="${n1(mid)}" y="${n1(ly)}" text-anchor="middle"><tspan class="flags" fill="${color}">${escapeHtml(p.flags)}</tspan>` +
        `<tspan class="nums" dx="8">${escapeHtml(numbersText(p))}</tspan>${note}</text>`,
    );
    body.push(
      `<text class="meta${isEvidence ? ' strong' : ''}" x="4" y="${n1(y1 - 1)}">frame ${p.frame}</text>` +
        `<text class="meta" x="4" y="${n1(y1 + 12)}">${escapeHtml(relLabel(p.rel))}</text></g>`,
    );
    pill('client', row.states.client, fromClient ? y1 : y2);
    pill('server', row.states.server, fromClient ? y2 : y1);
    y += ROW_H;
  }
  const trailing = trailingWait(r);
  let openEnd = -1;
  const lastRel = rows.length > 0 ? rows[rows.length - 1]!.key.rel : 0;
  if (trailing !== null && rows.length > 0) {
    const gap = (trailing.endRel - lastRel) * 1000;
    if (gap >= gapMs || (gap >= 20 && spanMs > 0 && gap >= 0.15 * spanMs)) {
      const dur = formatDuration(gap);
      const text = `${dur} in ${trailing.state}, until the capture ended`;
      const tw = textWidth(text, 12) + 20;
      const ty = y + GAP_H / 2;
      const tx = trailing.side === 'client' ? cx + 14 : sx - 14 - tw;
      body.push(
        `<g class="gap"><rect x="${n1(tx)}" y="${n1(ty - 11)}" width="${n1(tw)}" height="22" rx="11" fill="#fdf3ee" stroke="#e9b9a0"/>` +
          `<text class="gaptext" x="${n1(tx + tw / 2)}" y="${n1(ty + 4)}" text-anchor="middle"><tspan class="strong">${escapeHtml(dur)}</tspan> in ${escapeHtml(
            trailing.state,
          )}, until the capture ended</text></g>`,
      );
      y += GAP_H;
      openEnd = bands.length;
      bands.push([ty - GAP_H / 2 + 2, Number.POSITIVE_INFINITY]);
      body.push(`<text class="omitted" x="${n1(mid)}" y="${n1(y + 14)}" text-anchor="middle">end of capture</text>`);
      y += 14;
    }
  }
  if (rows.length === 0) {
    body.push(`<text class="omitted" x="${n1(mid)}" y="${n1(y + 14)}" text-anchor="middle">no packets were kept for the diagram</text>`);
    y += 30;
  }
  const bottom = y + 6;
  const height = bottom + 10;
  // The wait up to the end of the capture: the lines stay dashed to the bottom.
  if (openEnd >= 0) bands[openEnd]![1] = bottom;

  // The two lines: solid, broken (dashed) across the gaps and the left-out packets.
  const lines: string[] = [];
  for (const lx of [cx, sx]) {
    let from = HEADER_H;
    for (const [a, b] of bands) {
      lines.push(`<line x1="${lx}" y1="${n1(from)}" x2="${lx}" y2="${n1(a)}" stroke="#4a5866" stroke-width="2"/>`);
      lines.push(`<line x1="${lx}" y1="${n1(a)}" x2="${lx}" y2="${n1(b)}" stroke="#9aa6b2" stroke-width="2" stroke-dasharray="2 4"/>`);
      from = b;
    }
    if (from < bottom) lines.push(`<line x1="${lx}" y1="${n1(from)}" x2="${lx}" y2="${n1(bottom)}" stroke="#4a5866" stroke-width="2"/>`);
  }

  const head = [
    `<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${n1(height)}" width="${width}" height="${n1(height)}" role="img" aria-label="${escapeHtml(label)}">`,
    `<title>${escapeHtml(label)}</title>`,
    `<text class="endname" x="${cx}" y="18" text-anchor="middle">client</text>`,
    `<text class="endaddr" x="${cx}" y="36" text-anchor="middle">${escapeHtml(formatEndpoint(r.client))}</text>`,
    `<text class="endname" x="${sx}" y="18" text-anchor="middle">server</text>`,
    `<text class="endaddr" x="${sx}" y="36" text-anchor="middle">${escapeHtml(formatEndpoint(r.server))}</text>`,
  ];
  return [...head, ...lines, ...body, '</svg>'].join('');
}
