/**
 * A progress line on stderr for long runs, drawn only when stderr is a terminal: bytes read of the total, packets
 * per second and the time left. Redrawn at most ten times a second, on the chunk boundaries the reader reports
 * (never per packet), and erased at the end so that it leaves nothing behind in the terminal.
 */
import { formatBytes, formatCount, formatDuration } from './format.js';

export interface ProgressOut {
  write(s: string): unknown;
  columns?: number;
}

const REDRAW_MS = 100;
const BAR = 24;

export class ProgressLine {
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly out: ProgressOut,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** Reports progress; draws when a redraw is due. `total` is null when unknown (stdin). */
  update(bytesRead: number, total: number | null, frames: number): void {
    const t = this.now();
    if (t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    this.out.write(`\r${this.text(bytesRead, total, frames, t)}\x1b[K`);
    this.drawn = true;
  }

  /** The line as it would be drawn (exposed for tests). */
  text(bytesRead: number, total: number | null, frames: number, t: number = this.now()): string {
    const secs = Math.max((t - this.started) / 1000, 1e-3);
    const pps = `${formatCount(Math.round(frames / secs))} packets/s`;
    if (total === null || total <= 0) return `reading ${formatBytes(bytesRead)} · ${formatCount(frames)} packets · ${pps}`;
    const frac = Math.min(1, bytesRead / total);
    const full = Math.round(frac * BAR);
    const bar = `${'█'.repeat(full)}${'░'.repeat(BAR - full)}`;
    const eta = frac > 0 ? formatDuration(((secs / frac) * (1 - frac)) * 1000) : '—';
    return `${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(bytesRead)} of ${formatBytes(total)} · ${pps} · ${eta} left`;
  }

  /** Erases the line (call before printing the results). */
  done(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
