/**
 * The status line of `teardown live`: one line on standard error, redrawn every second, only when standard error
 * is a terminal (a log or a pipe gets no carriage returns). Other messages go above it: the line is cleared, the
 * message printed, the line drawn again.
 */
import { formatCount, glyphs, plural, toAscii, truncate } from '../output/format.js';

export interface StatusFacts {
  iface: string;
  frames: number;
  /** Kernel drops from libpcap's statistics (pcap_stats ps_drop), or null when the source cannot tell. */
  dropped: number | null;
  /** Connections held by the connection table now. */
  active: number;
  /** Connections with one end in CLOSE_WAIT now. */
  inCloseWait: number;
  /** Connections classified so far, and how many of them ended abnormally. */
  endings: number;
  abnormal: number;
  alerts: number;
  elapsedS: number;
}

function clock(s: number): string {
  const t = Math.max(0, Math.floor(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}

export function statusText(f: StatusFacts, ascii = false): string {
  const g = glyphs(ascii);
  const parts = [
    `${f.iface} ${clock(f.elapsedS)}`,
    plural(f.frames, 'packet'),
    `kernel drops ${f.dropped === null ? 'n/a' : formatCount(f.dropped)}`,
    `${formatCount(f.active)} active`,
  ];
  if (f.inCloseWait > 0) parts.push(`${formatCount(f.inCloseWait)} in CLOSE_WAIT`);
  parts.push(`${plural(f.endings, 'ending')} (${formatCount(f.abnormal)} abnormal)`);
  if (f.alerts > 0) parts.push(plural(f.alerts, 'alert'));
  const text = parts.join(` ${g.dot} `);
  return ascii ? toAscii(text) : text;
}

export interface StatusOut {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class StatusLine {
  private current = '';
  readonly enabled: boolean;

  constructor(private readonly out: StatusOut) {
    this.enabled = out.isTTY === true;
  }

  /** Draws (or redraws) the line, cut to the terminal's width. */
  show(text: string): void {
    if (!this.enabled) return;
    // A pseudo-terminal without a size reports 0 columns: take the usual width then.
    const width = Math.max(20, (this.out.columns || 100) - 1);
    this.current = truncate(text, width);
    this.out.write(`\r\u001b[K${this.current}`);
  }

  /** Prints a full line (newline added) above the status line. */
  print(line: string): void {
    if (this.enabled && this.current !== '') this.out.write(`\r\u001b[K${line}\n${this.current}`);
    else this.out.write(`${line}\n`);
  }

  /** Runs `write` (output to another stream on the same terminal) with the line out of the way. */
  around(write: () => void): void {
    const shown = this.enabled && this.current !== '';
    if (shown) this.out.write('\r\u001b[K');
    write();
    if (shown) this.out.write(this.current);
  }

  /** Removes the line (before the final report). */
  clear(): void {
    if (this.enabled && this.current !== '') this.out.write('\r\u001b[K');
    this.current = '';
  }
}
