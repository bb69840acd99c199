/**
 * What the terminal tables are made of — the ending × closer counts, the per-service counts and the earliest
 * abnormal connections — filled one classified connection at a time, and mergeable: worker threads that each
 * follow a share of the connections fill one each, and the shares add up to what one pass over all would give.
 */
import type { ClassifiedConnection } from '../classify/classified.js';
import { addClassifiedToAbnormal, mergeAbnormal, newAbnormalCollector, type AbnormalCollector } from './abnormal-list.js';
import { addClassifiedToServiceTally, mergeServiceTally, newServiceTally, type ServiceTally } from './service-table.js';
import { addToEndingTally, mergeEndingTally, newEndingTally, type EndingTally } from './summary-table.js';

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

/** Adds another share's digest into `d` (`other` must not be used afterwards: parts of it move into `d`). */
export function mergeTableDigest(d: TableDigest, other: TableDigest): void {
  mergeEndingTally(d.endings, other.endings);
  mergeServiceTally(d.services, other.services);
  mergeAbnormal(d.abnormal, other.abnormal);
}
