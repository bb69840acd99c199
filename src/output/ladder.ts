/**
 * The ladder diagram of one connection, drawn the way TCP teardowns are explained on a whiteboard: the client's
 * line on the left, the server's on the right, one arrow per packet, each end's state changes written beside its
 * line, and a "··· 6.0 s in CLOSE_WAIT ···" line wherever the connection sat still for a while.
 *
 *     frame        ms  client 192.0.2.10:40000                        server 198.51.100.5:9999
 *         7    10.000                 │◀──── FIN, ACK  seq=25 ack=1 ─────│ FIN_WAIT_1
 *         8    10.100      CLOSE_WAIT │───── ACK  seq=1 ack=26 ─────────▶│ FIN_WAIT_2
 *                                     ┆ ··· 6.0 s in CLOSE_WAIT ···       ┆
 *         9  6010.100        LAST_ACK │───── FIN, ACK  seq=1 ack=26 ────▶│
 *
 * Pure: returns a string. Colour only when opts.color; opts.ascii draws with - > < | : only.
 */
import type { Side, TcpState } from '../classify/labels.js';
import type { ConnectionRecord, LadderPacket } from '../classify/record.js';
import { buildRows, hasFlag, sortedChanges, waitingEnd, type Row } from './ladder-rows.js';
import {
  colors,
  formatCount,
  formatDuration,
  formatEndpoint,
  formatRelMs,
  glyphs,
  sanitize,
  toAscii,
  truncate,
  wrapText,
  type Colors,
} from './format.js';

export interface LadderOptions {
  /** Terminal width (default 100; the diagram never gets narrower than it needs for its columns). */
  width?: number;
  /** Draw a gap line where consecutive events are at least this far apart (default 1000 ms). */
  gapMs?: number;
  ascii?: boolean;
  color?: boolean;
}

export const DEFAULT_GAP_MS = 1000;

interface Pen {
  line: string;
  headRight: string;
  headLeft: string;
  vertical: string;
  gapVertical: string;
  dots: string;
  then: string;
}

const UNICODE_PEN: Pen = { line: '─', headRight: '▶', headLeft: '◀', vertical: '│', gapVertical: '┆', dots: '···', then: ' → ' };
const ASCII_PEN: Pen = { line: '-', headRight: '>', headLeft: '<', vertical: '|', gapVertical: ':', dots: '...', then: ' > ' };

/** "FIN, ACK  seq=1 ack=26 len=0 win=502": ack only when the ACK flag is set (it means nothing otherwise). */
function numbersText(p: LadderPacket): string {
  const parts = [`seq=${p.seq}`];
  if (hasFlag(p.flags, 'ACK')) parts.push(`ack=${p.ack}`);
  parts.push(`len=${p.len}`, `win=${p.win}`);
  return parts.join(' ');
}

function arrow(label: string, width: number, fromClient: boolean, pen: Pen, ellipsis: string): string {
  const room = width - 5; // a head, two line characters and the spaces around the label
  const text = truncate(label, Math.max(0, room), ellipsis);
  const lbl = text === '' ? '' : ` ${text} `;
  const rest = Math.max(2, width - 1 - [...lbl].length);
  const left = Math.floor(rest / 2);
  const right = rest - left;
  return fromClient
    ? pen.line.repeat(left) + lbl + pen.line.repeat(right) + pen.headRight
    : pen.headLeft + pen.line.repeat(left) + lbl + pen.line.repeat(right);
}

function paintArrow(c: Colors, p: LadderPacket, s: string): string {
  if (hasFlag(p.flags, 'RST')) return c.red(s);
  if (hasFlag(p.flags, 'FIN')) return c.yellow(s);
  return p.from === 'client' ? c.cyan(s) : c.magenta(s);
}

/** Places `text` inside a field of `width` columns: next to the client line, the server line, or centred. */
function place(text: string, width: number, where: Side | null): string {
  const n = [...text].length;
  if (n >= width) return text;
  if (where === 'client') return ` ${text}`.padEnd(width);
  if (where === 'server') return `${text} `.padStart(width);
  const left = Math.floor((width - n) / 2);
  return ' '.repeat(left) + text + ' '.repeat(width - n - left);
}

/** The verdict and the facts above the diagram. */
function headerLines(r: ConnectionRecord, width: number, c: Colors, ascii: boolean | undefined): string[] {
  const g = glyphs(ascii);
  const out: string[] = [];
  const push = (text: string, paint: (s: string) => string = (x) => x): void => {
    for (const l of wrapText(text, width)) out.push(paint(l));
  };
  const where = [`Connection #${r.id}`, `client ${formatEndpoint(r.client)} ${g.arrow} server ${formatEndpoint(r.server)}`];
  if (r.incarnation > 1) where.push(`incarnation ${r.incarnation}`);
  if (r.tunnel !== '') where.push(`in ${r.tunnel}`);
  push(where.join('  '), c.bold);
  const conf = r.confidenceReasons.length > 0 ? `${r.confidence} (${r.confidenceReasons.join('; ')})` : r.confidence;
  push(`Ending: ${r.ending}  cause: ${r.cause ?? g.dash}  closer: ${r.closer ?? g.dash}  confidence: ${conf}`);
  const facts = [
    `Started ${r.start}`,
    `lasted ${formatDuration(r.durationMs)}`,
    `handshake ${r.handshake}`,
    `packets ${formatCount(r.packets.client)} client, ${formatCount(r.packets.server)} server`,
    `bytes ${formatCount(r.bytes.client)} client, ${formatCount(r.bytes.server)} server`,
  ];
  if (r.closeWaitMs !== null) facts.push(`close-wait ${formatDuration(r.closeWaitMs)}`);
  if (r.finWait2Ms !== null) facts.push(`fin-wait-2 ${formatDuration(r.finWait2Ms)}`);
  if (r.rstReason !== null) facts.push(`reset reason ${r.rstReason}`);
  push(facts.join(', '));
  push(`App sees: client ${r.appView.client}, server ${r.appView.server}; final states: client ${r.endpoints.client.state}, server ${r.endpoints.server.state}`);
  push(r.evidence.length > 0 ? `Evidence: frames ${r.evidence.join(' ')}` : 'Evidence: none');
  if (r.anomalies.length > 0) push(`Anomalies: ${r.anomalies.join('; ')}`);
  out.push('');
  push(r.explanation);
  return out;
}

/**
 * Draws one connection's ladder: the header (verdict, facts, explanation), then the diagram. The ladder in the
 * record is bounded (handshake and teardown); when it holds fewer packets than the connection had, a line says so.
 */
export function renderLadder(record: ConnectionRecord, opts: LadderOptions = {}): string {
  const c = colors(opts.color);
  const g = glyphs(opts.ascii);
  const pen = opts.ascii === true ? ASCII_PEN : UNICODE_PEN;
  const width = Math.max(60, opts.width ?? 100);
  const gapMs = opts.gapMs ?? DEFAULT_GAP_MS;

  const out = headerLines(record, width, c, opts.ascii);
  out.push('');
  if (record.ladder.length === 0 && record.endpoints.client.states.length === 0 && record.endpoints.server.states.length === 0) {
    out.push('(no packets were kept for the diagram)');
    return finish(out, opts.ascii);
  }

  const changes = sortedChanges(record);
  const rows = buildRows(record, changes);
  const stateLabel = (states: TcpState[]): string => states.join(pen.then);

  // Column widths, measured on plain text.
  const frameW = Math.max(5, ...rows.map((r) => (r.kind === 'packet' ? String(r.packet.frame).length : 0)));
  const timeW = Math.max(6, ...rows.map((r) => formatRelMs(r.key.rel).length));
  const clientW = Math.max(0, ...rows.map((r) => stateLabel(r.states.client).length));
  const serverW = Math.max(0, ...rows.map((r) => stateLabel(r.states.server).length));
  const prefixW = frameW + 2 + timeW + 2 + clientW + (clientW > 0 ? 1 : 0);
  const arrowW = Math.max(30, width - prefixW - 2 - (serverW > 0 ? serverW + 1 : 0));

  const prefix = (frame: string, time: string, clientState: string): string =>
    frame.padStart(frameW) + '  ' + time.padStart(timeW) + '  ' +
    (clientW > 0 ? c.bold(clientState.padStart(clientW)) + ' ' : '');
  const suffix = (serverState: string): string => (serverState === '' ? '' : ` ${c.bold(serverState)}`);
  const blankPrefix = prefix('', '', '');

  // Column titles: each endpoint above its own line (the server's on a second line when both do not fit).
  const clientTitle = `client ${formatEndpoint(record.client)}`;
  const serverTitle = `server ${formatEndpoint(record.server)}`;
  const titlePrefix = 'frame'.padStart(frameW) + '  ' + 'ms'.padStart(timeW) + '  ' + ' '.repeat(clientW + (clientW > 0 ? 1 : 0));
  const span = arrowW + 2;
  if (clientTitle.length + 1 + serverTitle.length <= span) {
    out.push(c.dim(titlePrefix) + c.bold(clientTitle + serverTitle.padStart(span - clientTitle.length)));
  } else {
    out.push(c.dim(titlePrefix) + c.bold(clientTitle));
    out.push(' '.repeat(titlePrefix.length) + c.bold(serverTitle.padStart(span)));
  }

  const total = record.packets.client + record.packets.server;
  let prev: Row | null = null;
  for (const row of rows) {
    if (prev !== null) {
      const gap = (row.key.rel - prev.key.rel) * 1000;
      if (gap >= gapMs) {
        const w = waitingEnd(changes, prev, row);
        const text = `${pen.dots} ${formatDuration(gap)}${w === null ? '' : ` in ${w.state}`} ${pen.dots}`;
        out.push(blankPrefix + pen.gapVertical + c.dim(place(text, arrowW, w === null ? null : w.side)) + pen.gapVertical);
      }
    }
    prev = row;
    const cs = stateLabel(row.states.client);
    const ss = stateLabel(row.states.server);
    if (row.kind === 'state') {
      const time = formatRelMs(row.key.rel);
      out.push(prefix('', time, cs) + pen.vertical + ' '.repeat(arrowW) + pen.vertical + suffix(ss));
      continue;
    }
    const p = row.packet;
    const flags = sanitize(p.flags);
    const note = p.note === '' ? '' : `  [${sanitize(p.note)}]`;
    const numbers = numbersText(p);
    const oneLine = `${flags}  ${numbers}${note}`;
    const fromClient = p.from === 'client';
    const head = prefix(String(p.frame), formatRelMs(p.rel), cs);
    if (oneLine.length <= arrowW - 5) {
      out.push(head + pen.vertical + paintArrow(c, p, arrow(oneLine, arrowW, fromClient, pen, g.ellipsis)) + pen.vertical + suffix(ss));
    } else {
      // Too long for one arrow: flags (and note) on the arrow, the numbers on a line below, under it.
      out.push(head + pen.vertical + paintArrow(c, p, arrow(flags + note, arrowW, fromClient, pen, g.ellipsis)) + pen.vertical + suffix(ss));
      out.push(blankPrefix + pen.vertical + place(truncate(numbers, arrowW - 2, g.ellipsis), arrowW, null) + pen.vertical);
    }
  }
  if (record.ladder.length < total) {
    out.push('');
    const note = `The diagram shows ${formatCount(record.ladder.length)} of the connection's ${formatCount(total)} packets (the handshake and the teardown).`;
    for (const l of wrapText(note, width)) out.push(c.dim(l));
  }
  return finish(out, opts.ascii);
}

function finish(lines: string[], ascii: boolean | undefined): string {
  const text = lines.join('\n');
  return ascii === true ? toAscii(text) : text;
}
