/**
 * What the terminal tables are made of — the ending × closer counts, the per-service counts and the earliest
 * abnormal connections — filled one classified connection at a time (a parallel run fills one on its reading
 * thread, from the connections its workers hand back).
 */
import type { ClassifiedConnection } from '../classify/classified.js';
import { addClassifiedToAbnormal, newAbnormalCollector, type AbnormalCollector } from './abnormal-list.js';
import { addClassifiedToServiceTally, newServiceTally, type ServiceTally } from './service-table.js';
import { addToEndingTally, newEndingTally, type EndingTally } from './summary-table.js';

export interface TableDigest {
  /** Every connection, whatever the filters (the summary table counts them all). */
  endings: EndingTally;
  /** The connections that pass the filters. */
  services: ServiceTally;
  abnormal: AbnormalCollector;
}

export function newTableDigest(abnormalLimit: number): TableDigest {
  return { endings: newEndingTally(), services: newServiceTally(), abnormal: newAbnormalCollector(abnormalLimit) };
}

/** Counts a classified connection; `keep` is the user's filter (classifiedFilter). */
export function addToTableDigest(d: TableDigest, c: ClassifiedConnection, keep: (c: ClassifiedConnection) => boolean): void {
  addToEndingTally(d.endings, c);
  if (!keep(c)) return;
  addClassifiedToServiceTally(d.services, c);
  addClassifiedToAbnormal(d.abnormal, c);
}

