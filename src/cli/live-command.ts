/**
 * `teardown live` and `teardown interfaces`: argument parsing and wiring only (the session lives in src/live, the
 * capture in src/capture/live-source.ts). Each register function adds its command to a yargs parser; the exit
 * status goes to `setStatus` (default: process.exitCode).
 */
import type { Argv } from 'yargs';
import { analyzerOptions } from './analyze-command.js';
import { LiveCaptureError } from '../capture/live-errors.js';
import { listInterfaces, type LiveInterface } from '../capture/live-source.js';
import { toAscii } from '../output/format.js';
import { newTable } from '../output/table-style.js';
import { DEFAULT_RST_BURST } from '../live/rst-burst.js';
import { LIVE_FORMATS, runLive, type LiveArgs, type LiveFormat } from '../live/run-live.js';
import { parseFileSize } from '../live/savefile.js';
import { ANALYSIS_OPTIONS, checkAnalysisOptions } from './common-options.js';
import { EXIT } from './exit-codes.js';

export type SetStatus = (code: number) => void;

const defaultSetStatus: SetStatus = (code) => {
  process.exitCode = code;
};

/** libpcap's buffer (kernel ring) by default, KiB. */
export const DEFAULT_BUFFER_KIB = 8192;

function seconds(v: unknown, name: string, min: number, allowZero: boolean): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (!allowZero && v === 0)) {
    throw new Error(`--${name} must be a number of seconds ${allowZero ? '≥' : '>'} ${min}`);
  }
}

function wholeNumber(v: unknown, name: string, min: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
}

export function registerLiveCommand<T>(y: Argv<T>, setStatus: SetStatus = defaultSetStatus): Argv<T> {
  return y.command(
    'live',
    'Capture on an interface and report connection endings as they happen (needs libpcap and root or CAP_NET_RAW)',
    (b) =>
      b
        .option('interface', { alias: 'i', type: 'string', demandOption: true, describe: 'interface to capture on ("any": all of them)' })
        .option('filter', { alias: 'f', type: 'string', default: '', describe: 'capture filter in libpcap syntax, as for tcpdump (e.g. "tcp port 443")' })
        .option('write', { alias: 'w', type: 'string', describe: 'also save the captured packets to this pcap file' })
        .option('file-size', {
          alias: 'C',
          type: 'string',
          describe: 'with --write: start a new file (FILE1, FILE2, …) once one is larger than this many million bytes (k/m/g suffix: KiB/MiB/GiB), as tcpdump -C',
        })
        .option('format', { alias: 'F', choices: LIVE_FORMATS, default: 'table' as LiveFormat, describe: 'a line per connection, or one JSON record per line' })
        .option('only', { choices: ['abnormal'] as const, describe: 'print only abnormal endings (the closing tables count all)' })
        .option('duration', { type: 'number', describe: 'stop after this many seconds' })
        .option('count', { alias: 'c', type: 'number', describe: 'stop after this many packets' })
        .options(ANALYSIS_OPTIONS)
        .option('rst-burst', {
          type: 'number',
          default: DEFAULT_RST_BURST.count,
          describe: 'alert when this many RSTs hit one service within --rst-window seconds (0: never)',
        })
        .option('rst-window', { type: 'number', default: DEFAULT_RST_BURST.windowS, describe: 'seconds of the RST burst window' })
        .option('buffer-size', { alias: 'B', type: 'number', default: DEFAULT_BUFFER_KIB, describe: "libpcap's capture buffer in KiB, as tcpdump -B" })
        .option('limit', { type: 'number', default: 50, describe: 'abnormal connections listed in the closing table' })
        .option('color', { type: 'boolean', describe: 'colour the output (default: on a terminal)' })
        .option('ascii', { type: 'boolean', default: false, describe: 'draw with ASCII only' })
        .check((a) => {
          if (typeof a.interface !== 'string' || a.interface === '') throw new Error('--interface needs a name (teardown interfaces lists them)');
          checkAnalysisOptions(a);
          seconds(a.duration, 'duration', 0, false);
          seconds(a['rst-window'], 'rst-window', 0, false);
          wholeNumber(a.count, 'count', 1);
          wholeNumber(a['rst-burst'], 'rst-burst', 0);
          wholeNumber(a['buffer-size'], 'buffer-size', 1);
          if (a['file-size'] !== undefined) {
            if (a.write === undefined) throw new Error('--file-size rotates the savefile: it needs --write');
            if (parseFileSize(a['file-size']) === null) throw new Error(`--file-size: "${a['file-size']}" is not a size (e.g. 100, 0.5, 512k, 64m)`);
          }
          return true;
        }),
    async (a) => {
      const args: LiveArgs = {
        iface: a.interface,
        filter: a.filter,
        write: a.write ?? null,
        fileSizeBytes: a['file-size'] === undefined ? null : parseFileSize(a['file-size']),
        format: a.format,
        analyzer: analyzerOptions({
          closeWaitThreshold: a['close-wait-threshold'],
          finTimeout: a['fin-timeout'],
          maxConnections: a['max-connections'],
        }),
        rstBurst: a['rst-burst'] === 0 ? null : { count: a['rst-burst'], windowS: a['rst-window'] },
        duration: a.duration ?? null,
        count: a.count ?? null,
        bufferBytes: a['buffer-size'] * 1024,
        color: a.color ?? 'auto',
        ascii: a.ascii,
        limit: a.limit,
      };
      if (a.only !== undefined) args.only = a.only;
      setStatus(await runLive(args, { stdout: process.stdout, stderr: process.stderr, env: process.env }));
    },
  ) as unknown as Argv<T>;
}

/** "192.0.2.1/24, 2001:db8::1/64" */
function addressesText(i: LiveInterface): string {
  return i.addresses.map((a) => (a.prefix === null ? a.addr : `${a.addr}/${a.prefix}`)).join(', ');
}

/** The device list as a table (or JSON). Exported for tests. */
export function renderInterfaces(ifaces: LiveInterface[], format: 'table' | 'json', ascii = false): string {
  if (format === 'json') return JSON.stringify(ifaces, null, 2);
  if (ifaces.length === 0) return 'No interface can be captured on (libpcap lists none this process may open).';
  const t = newTable(['interface', 'addresses', 'notes'], ['left', 'left', 'left'], { ascii });
  for (const i of ifaces) {
    const notes = [i.loopback ? 'loopback' : '', i.description ?? ''].filter((n) => n !== '').join('; ');
    t.push([i.name, addressesText(i), notes]);
  }
  const out = t.toString();
  return ascii ? toAscii(out) : out;
}

export function registerInterfacesCommand<T>(y: Argv<T>, setStatus: SetStatus = defaultSetStatus): Argv<T> {
  return y.command(
    'interfaces',
    'List the interfaces live capture can use, with their addresses',
    (b) =>
      b
        .option('format', { alias: 'F', choices: ['table', 'json'] as const, default: 'table' as 'table' | 'json', describe: 'output format' })
        .option('ascii', { type: 'boolean', default: false, describe: 'draw with ASCII only' }),
    (a) => {
      try {
        process.stdout.write(`${renderInterfaces(listInterfaces(), a.format, a.ascii)}\n`);
        setStatus(EXIT.ok);
      } catch (err) {
        if (!(err instanceof LiveCaptureError)) throw err;
        process.stderr.write(`teardown: ${err.describe()}\n`);
        setStatus(EXIT.damaged);
      }
    },
  ) as unknown as Argv<T>;
}
