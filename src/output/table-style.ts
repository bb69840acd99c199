/**
 * One look for every cli-table3 table: no colours of its own (cli-table3 paints headers red and borders grey
 * by default; we colour cells ourselves, only when asked), compact rows, and an ASCII border set.
 */
import Table from 'cli-table3';

export interface TableLookOptions {
  /** Draw borders with + - | instead of box-drawing characters. */
  ascii?: boolean;
}

const ASCII_CHARS = {
  top: '-',
  'top-mid': '+',
  'top-left': '+',
  'top-right': '+',
  bottom: '-',
  'bottom-mid': '+',
  'bottom-left': '+',
  'bottom-right': '+',
  left: '|',
  'left-mid': '+',
  mid: '-',
  'mid-mid': '+',
  right: '|',
  'right-mid': '+',
  middle: '|',
} as const;

export type HAlign = 'left' | 'center' | 'right';

export function newTable(head: string[], colAligns: HAlign[], opts: TableLookOptions): Table.Table {
  return new Table({
    head,
    colAligns,
    ...(opts.ascii === true ? { chars: ASCII_CHARS, truncate: '...' } : {}),
    style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 },
  });
}
