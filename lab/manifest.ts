import type { AppView, Cause, Closer, Ending } from '../src/classify/labels.js';

/**
 * samples/manifest.json: for every capture the lab made, what ran, and for every connection in it the expected
 * labels (checked against the capture when it was made) and what each application really observed.
 */

export interface Manifest {
  generated: GeneratedInfo;
  captures: CaptureEntry[];
}

export interface GeneratedInfo {
  /** `uname -r` of the kernel that produced the captures. */
  kernel: string;
  node: string;
  /** First line of `tcpdump --version`. */
  tcpdump: string;
  dumpcap: string;
  tshark: string;
  /** ISO 8601 time of the (last) lab run that wrote this manifest. */
  date: string;
}

export type CaptureFormat = 'pcap' | 'pcapng';
export type LinkTypeName = 'EN10MB' | 'LINUX_SLL2';

export interface CaptureEntry {
  file: string;
  format: CaptureFormat;
  linkType: LinkTypeName;
  scenario: string;
  title: string;
  /** What the server and the client did, in plain words. */
  ran: string;
  /** The capture command as run inside the client namespace (file name shortened). */
  capturedWith: string;
  /** The namespaced sysctls in force in each namespace (read back after setting). */
  sysctls: { server: Record<string, number>; client: Record<string, number> };
  /** nftables rules the scenario used, per namespace, and when. */
  nft: string[];
  /** ISO 8601 time when the capture started: the origin of every `t` in `observed`. */
  startedAt: string;
  /** Wall time from the capture start to the lab's stop request (SIGINT). */
  captureSeconds: number;
  /**
   * The stop time the file itself records, in seconds since `startedAt`: pcapng isb_endtime (see `notes` for the
   * unit dumpcap writes it in). Null for pcap, which records none: there the capture ends with its last packet.
   */
  recordedEnd: number | null;
  packets: number;
  connections: ConnectionEntry[];
  /** What the kernel did differently from the first design, or other remarks about this capture. */
  notes: string[];
}

export interface ObservedEvent {
  /** Seconds since the capture started (negative: before it, as in the midstream scenario). */
  t: number;
  event: string;
  [detail: string]: unknown;
}

export interface ConnectionEntry {
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  /** 1, or 2 for the second connection on the same 4-tuple (port reuse). */
  incarnation: number;
  /** What the recipe did, in a few words ("server writes 26 B and closes; client closes 5 s after EOF"). */
  recipe: string;
  ending: Ending;
  cause: Cause | null;
  closer: Closer | null;
  /** First error code the app got (ECONNRESET, EPIPE, ETIMEDOUT, ECONNREFUSED), else EOF if it saw end of stream, else none. */
  appView: { client: AppView; server: AppView };
  observed: { client: ObservedEvent[]; server: ObservedEvent[] };
  /** What the capture shows for this connection, with Wireshark frame numbers. */
  wire: string;
  /** Frame numbers (1-based, as Wireshark counts) of this connection's first and last packet. */
  frames: { first: number; last: number; count: number };
}
