/**
 * The close-wait watcher: once a second, by the wall clock, finds the connections where one end received the
 * peer's FIN and has neither closed nor sent data for longer than the threshold — a socket the application
 * forgot. Offline this is only judged at the end of the capture (close-wait-stuck); live, nothing arrives on the
 * wire to say so, which is why the check runs on the clock. One alert per connection.
 *
 * The test is the classifier's (classify.ts, "One FIN"): CLOSE_WAIT starts when the FIN is acknowledged (or
 * sent, if its ACK was not seen); data sent by the waiting end counts as work, keep-alives do not.
 */
import type { Connection } from '../conn/connection.js';
import { formatAddress } from '../decode/address.js';
import type { Analyzer } from '../analysis/analyzer.js';
import type { CloseWaitAlert } from './alerts.js';

export interface CloseWaitCheck {
  /** Connections with one end in CLOSE_WAIT right now (stuck or not). */
  inCloseWait: number;
}

/** What the watcher reads of a connection: its CLOSE_WAIT end, since when, and how long silent (null: none). */
export function closeWaitOf(conn: Connection, nowSec: number): { side: 'client' | 'server'; sinceSec: number; silentS: number; finFrame: number } | null {
  if (conn.finished) return null;
  const c = conn.client;
  const s = conn.server;
  if (c.hasFin === s.hasFin) return null;
  const f = c.hasFin ? c : s;
  const w = c.hasFin ? s : c;
  if (w.hasRst || f.hasRst) return null;
  // As the classifier: without the FIN's ACK and without a word from the waiting end, it may not have the FIN.
  if (!f.finAcked && w.packets === 0) return null;
  const since = f.finAcked ? f.finAckTime : f.finTime;
  const lastWork = Math.max(since, w.lastDataTime);
  return { side: c.hasFin ? 'server' : 'client', sinceSec: since, silentS: nowSec - lastWork, finFrame: f.finFrame };
}

export class CloseWaitWatcher {
  /** Ids of the connections already reported that are still in CLOSE_WAIT (rebuilt at each check: bounded). */
  private alerted = new Set<number>();

  constructor(private readonly thresholdS: number) {}

  /** Checks every connection held at wall-clock `nowSec` (the clock the frames are stamped with). */
  check(analyzer: Analyzer, nowSec: number, onAlert: (a: CloseWaitAlert) => void): CloseWaitCheck {
    let inCloseWait = 0;
    const stillAlerted = new Set<number>();
    analyzer.table.forEach((conn) => {
      const cw = closeWaitOf(conn, nowSec);
      if (cw === null) return;
      inCloseWait++;
      if (this.alerted.has(conn.id)) {
        stillAlerted.add(conn.id);
        return;
      }
      if (cw.silentS <= this.thresholdS) return;
      stillAlerted.add(conn.id);
      onAlert({
        alert: 'close-wait',
        time: new Date(nowSec * 1000).toISOString(),
        id: conn.id,
        client: { ip: formatAddress(conn.ipVersion, conn.clientAddr), port: conn.clientPort },
        server: { ip: formatAddress(conn.ipVersion, conn.serverAddr), port: conn.serverPort },
        side: cw.side,
        closeWaitS: nowSec - cw.sinceSec,
        silentS: cw.silentS,
        finFrame: cw.finFrame,
      });
    });
    this.alerted = stillAlerted;
    return { inCloseWait };
  }
}
