/**
 * Live alerts: what needs attention now, before the connection is classified. Two kinds:
 *  - close-wait: one end has sat in CLOSE_WAIT (the peer's FIN received, its own application has not closed)
 *    longer than --close-wait-threshold, by the wall clock, with nothing on the wire to show it;
 *  - rst-burst: at least --rst-burst RSTs on the connections of one service within --rst-window seconds.
 * Each alert is one line: text for people, or one JSON object per line with `--format ndjson`.
 */
import type { Endpoint } from '../classify/record.js';
import { colors, formatDuration, formatEndpoint, glyphs } from '../output/format.js';

export interface CloseWaitAlert {
  alert: 'close-wait';
  /** ISO 8601 UTC wall-clock time of the alert. */
  time: string;
  /** The connection's id (the id its record will have). */
  id: number;
  client: Endpoint;
  server: Endpoint;
  /** The end in CLOSE_WAIT: its application has read EOF and not closed the socket. */
  side: 'client' | 'server';
  /** Seconds since that end got (and acknowledged) the peer's FIN, to the alert. */
  closeWaitS: number;
  /** Seconds since that end last sent data (or since the FIN, whichever is later). */
  silentS: number;
  /** Frame of the peer's FIN. */
  finFrame: number;
}

export interface RstBurstAlert {
  alert: 'rst-burst';
  time: string;
  /** The service: the server end of the connections. */
  service: Endpoint;
  /** RSTs within `windowS` seconds that triggered the alert. */
  rsts: number;
  /** Seconds from the first to the last of them. */
  spanS: number;
  /** Of those, sent by the server and by clients. */
  fromServer: number;
  fromClient: number;
  /** RSTs on this service since they began (a whole window without one starts the count again). */
  total: number;
  /** Frames of the first and last RST of the burst. */
  firstFrame: number;
  lastFrame: number;
}

export type LiveAlert = CloseWaitAlert | RstBurstAlert;

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** One JSON line (no newline): fields in declaration order, seconds rounded to milliseconds. */
export function alertToJson(a: LiveAlert): string {
  if (a.alert === 'close-wait') {
    return JSON.stringify({
      alert: a.alert,
      time: a.time,
      id: a.id,
      client: { ip: a.client.ip, port: a.client.port },
      server: { ip: a.server.ip, port: a.server.port },
      side: a.side,
      closeWaitS: round3(a.closeWaitS),
      silentS: round3(a.silentS),
      finFrame: a.finFrame,
    });
  }
  return JSON.stringify({
    alert: a.alert,
    time: a.time,
    service: { ip: a.service.ip, port: a.service.port },
    rsts: a.rsts,
    spanS: round3(a.spanS),
    fromServer: a.fromServer,
    fromClient: a.fromClient,
    total: a.total,
    firstFrame: a.firstFrame,
    lastFrame: a.lastFrame,
  });
}

/** One line of text for a terminal or a log. */
export function alertToText(a: LiveAlert, opts: { color?: boolean; ascii?: boolean } = {}): string {
  const c = colors(opts.color);
  const g = glyphs(opts.ascii);
  const clock = a.time.slice(11, 23);
  const head = c.bold(c.yellow(`ALERT ${a.alert}`));
  if (a.alert === 'close-wait') {
    const peer = a.side === 'client' ? 'server' : 'client';
    return (
      `${clock} ${head} #${a.id} ${formatEndpoint(a.client)} ${g.arrow} ${formatEndpoint(a.server)}: the ${a.side} has been in ` +
      `CLOSE_WAIT for ${formatDuration(a.closeWaitS * 1000)} (silent ${formatDuration(a.silentS * 1000)}) since the ${peer}'s FIN ` +
      `(frame ${a.finFrame}): its application has read EOF but not closed the socket`
    );
  }
  const who: string[] = [];
  if (a.fromServer > 0) who.push(`${a.fromServer} from the server`);
  if (a.fromClient > 0) who.push(`${a.fromClient} from clients`);
  return (
    `${clock} ${head} ${formatEndpoint(a.service)}: ${a.rsts} RSTs within ${formatDuration(a.spanS * 1000)} ` +
    `(${who.join(', ')}; frames ${a.firstFrame}${g.ellipsis}${a.lastFrame}; ${a.total} on this service since they began)`
  );
}
