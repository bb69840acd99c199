/**
 * The rows of a ladder diagram, shared by the terminal ladder (output/ladder.ts) and the SVG ladder of reports
 * (report/svg-ladder.ts): the packets in frame order with the state changes they caused, rows for the changes no
 * packet explains, and who was waiting in which state during a gap.
 */
import type { Side, TcpState } from '../classify/labels.js';
import type { ConnectionRecord, LadderPacket, StateChange } from '../classify/record.js';

/** Where an event sits in time: relative seconds, then frame number. */
export interface Key {
  rel: number;
  frame: number;
}

export function compareKey(a: Key, b: Key): number {
  return a.rel - b.rel || a.frame - b.frame;
}

export interface PacketRow {
  kind: 'packet';
  key: Key;
  packet: LadderPacket;
  states: Record<Side, TcpState[]>;
}

/** State changes caused by no packet in the ladder (a timeout, or a packet the bounded ladder left out). */
export interface StateRow {
  kind: 'state';
  key: Key;
  states: Record<Side, TcpState[]>;
}

export type Row = PacketRow | StateRow;
/** Any row kind a renderer adds (e.g. "packets left out") besides packets and state changes. */
export interface OtherRow {
  kind: string;
  key: Key;
}

export const SIDES: readonly Side[] = ['client', 'server'];

/** Does a flags text ("FIN, ACK") name this flag? */
export function hasFlag(flags: string, flag: string): boolean {
  return flags.split(',').some((f) => f.trim() === flag);
}

/** Each end's state changes in time order. */
export function sortedChanges(r: ConnectionRecord): Record<Side, StateChange[]> {
  return {
    client: r.endpoints.client.states.slice().sort(compareKey),
    server: r.endpoints.server.states.slice().sort(compareKey),
  };
}

/** The packets in frame order, with the state changes they caused, and rows for the changes no packet explains. */
export function buildRows(r: ConnectionRecord, changes: Record<Side, StateChange[]>): Row[] {
  const packets = r.ladder.slice().sort((a, b) => a.frame - b.frame);
  const byFrame = new Map<number, PacketRow>();
  const rows: PacketRow[] = packets.map((p) => {
    const row: PacketRow = { kind: 'packet', key: { rel: p.rel, frame: p.frame }, packet: p, states: { client: [], server: [] } };
    if (!byFrame.has(p.frame)) byFrame.set(p.frame, row);
    return row;
  });
  const loose: StateRow[] = [];
  for (const side of SIDES) {
    for (const ch of changes[side]) {
      const row = byFrame.get(ch.frame);
      if (row !== undefined) {
        row.states[side].push(ch.state);
        continue;
      }
      let s = loose.find((x) => x.key.rel === ch.rel && x.key.frame === ch.frame);
      if (s === undefined) {
        s = { kind: 'state', key: { rel: ch.rel, frame: ch.frame }, states: { client: [], server: [] } };
        loose.push(s);
      }
      s.states[side].push(ch.state);
    }
  }
  loose.sort((a, b) => compareKey(a.key, b.key));
  // Merge: packets keep their frame order; a loose row goes before the first packet that comes after it.
  const out: Row[] = [];
  let i = 0;
  for (const p of rows) {
    while (i < loose.length && compareKey(loose[i]!.key, p.key) < 0) out.push(loose[i++]!);
    out.push(p);
  }
  while (i < loose.length) out.push(loose[i++]!);
  return out;
}

/** The state `side` was in just after the event at `key` (null when nothing is known yet). */
export function stateAfter(changes: StateChange[], key: Key): TcpState | null {
  let state: TcpState | null = null;
  for (const ch of changes) {
    if (compareKey(ch, key) > 0) break;
    state = ch.state;
  }
  return state;
}

/** States worth naming in a gap: an established connection sitting idle is just a gap. */
export function isNotable(s: TcpState | null): s is TcpState {
  return s !== null && s !== 'ESTABLISHED';
}

/**
 * Who was waiting during the gap before `next`, and in what state: the end that acted next (sent the packet,
 * or changed state), unless it was merely ESTABLISHED and the other end sat in a closing state.
 */
export function waitingEnd(
  changes: Record<Side, StateChange[]>,
  prev: Row | OtherRow,
  next: Row | OtherRow,
): { side: Side; state: TcpState } | null {
  let actor: Side;
  if (next.kind === 'packet') actor = (next as PacketRow).packet.from;
  else if (next.kind === 'state') actor = (next as StateRow).states.client.length > 0 ? 'client' : 'server';
  else return null;
  const other: Side = actor === 'client' ? 'server' : 'client';
  const mine = stateAfter(changes[actor], prev.key);
  if (isNotable(mine)) return { side: actor, state: mine };
  const theirs = stateAfter(changes[other], prev.key);
  if (isNotable(theirs)) return { side: other, state: theirs };
  return null;
}

