/**
 * `--format csv`: one flat row per connection, for pasting into a spreadsheet.
 *
 * RFC 4180: CRLF line ends, a header row, and a field is quoted when it holds a comma, a double quote, CR or
 * LF, with inner quotes doubled. Missing values (null) are empty fields. Column names are part of the interface.
 */
import type { ConnectionRecord } from '../classify/record.js';
import { StreamWriter, type RecordSink, type TextOut } from './sink.js';

export const CSV_COLUMNS = [
  'id',
  'client_ip',
  'client_port',
  'server_ip',
  'server_port',
  'start',
  'end',
  'duration_ms',
  'packets_client',
  'packets_server',
  'bytes_client',
  'bytes_server',
  'handshake',
  'ending',
  'cause',
  'closer',
  'close_wait_ms',
  'fin_wait2_ms',
  'rst_reason',
  'confidence',
  'app_client',
  'app_server',
  'evidence',
  'tunnel',
  'incarnation',
  'explanation',
  'tcp_stream',
  'zeek_conn_state',
  'zeek_history',
  'display_filter',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

type CsvValue = string | number | null;

/** The record's value for every column (the compiler checks that each column has one). */
export function csvValues(r: ConnectionRecord): Record<CsvColumn, CsvValue> {
  return {
    id: r.id,
    client_ip: r.client.ip,
    client_port: r.client.port,
    server_ip: r.server.ip,
    server_port: r.server.port,
    start: r.start,
    end: r.end,
    duration_ms: r.durationMs,
    packets_client: r.packets.client,
    packets_server: r.packets.server,
    bytes_client: r.bytes.client,
    bytes_server: r.bytes.server,
    handshake: r.handshake,
    ending: r.ending,
    cause: r.cause,
    closer: r.closer,
    close_wait_ms: r.closeWaitMs,
    fin_wait2_ms: r.finWait2Ms,
    rst_reason: r.rstReason,
    confidence: r.confidence,
    app_client: r.appView.client,
    app_server: r.appView.server,
    evidence: r.evidence.join(' '),
    tunnel: r.tunnel,
    incarnation: r.incarnation,
    explanation: r.explanation,
    tcp_stream: r.tcpStream,
    zeek_conn_state: r.zeekConnState,
    zeek_history: r.zeekHistory,
    display_filter: r.displayFilter,
  };
}

/** One field, quoted only when RFC 4180 requires it. */
export function csvField(value: CsvValue): string {
  if (value === null) return '';
  const s = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row, with its CRLF. */
export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export function csvHeader(): string {
  return csvRow(CSV_COLUMNS);
}

export function recordToCsvRow(r: ConnectionRecord): string {
  const v = csvValues(r);
  return csvRow(CSV_COLUMNS.map((c) => v[c]));
}

/** `--format csv`: the header first (also for an empty run), then one row per record as it comes. */
export function createCsvWriter(out: TextOut): RecordSink {
  const w = new StreamWriter(out);
  let headerWritten = false;
  const header = (): string => {
    if (headerWritten) return '';
    headerWritten = true;
    return csvHeader();
  };
  return {
    write: (record) => w.write(header() + recordToCsvRow(record)),
    drain: () => w.drain(),
    finish: () => w.flush(header()),
  };
}
