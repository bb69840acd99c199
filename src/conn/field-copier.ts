/**
 * Copying an object's primitive fields into a Float64Array and back, compiled once per class from a freshly
 * constructed template (as makeResetter does): how a worker thread hands a connection's fields to another thread
 * through shared memory. Every number and boolean field of the template is carried, so a field added later is
 * carried too; a field the copier cannot carry (a string, an object, null) stops it at startup unless the caller
 * lists it in `skip` and carries it by hand.
 */
import { checkedFieldName } from './resetter.js';

export interface FieldCopier<T> {
  /** Words one object takes: one per field, in `fields` order. */
  readonly words: number;
  readonly fields: readonly string[];
  /** Writes the fields to `f64` from word `at` on. */
  save(o: T, f64: Float64Array, at: number): void;
  /** Reads them back (booleans as stored: 1 or 0). */
  load(o: T, f64: Float64Array, at: number): void;
}

/**
 * `int32`: every number field carried holds a 32-bit integer, and is loaded back as one (`| 0`). A number read
 * from a Float64Array may reach a field as a double, and one double in a field V8 keeps as a small integer turns
 * that field into a double field for every object of the class: the optimised code that relied on it is thrown
 * away. A worker that takes parked state back into its own connections must not pay that (conn/parked.ts).
 */
export function makeFieldCopier<T extends object>(template: T, skip: readonly string[], int32 = false): FieldCopier<T> {
  const fields: string[] = [];
  const save: string[] = [];
  const load: string[] = [];
  for (const [key, value] of Object.entries(template)) {
    if (skip.includes(key)) continue;
    const name = checkedFieldName('makeFieldCopier', key);
    const i = fields.length;
    if (typeof value === 'number') {
      save.push(`f[at + ${i}] = o.${name};`);
      load.push(int32 ? `o.${name} = f[at + ${i}] | 0;` : `o.${name} = f[at + ${i}];`);
    } else if (typeof value === 'boolean') {
      save.push(`f[at + ${i}] = o.${name} ? 1 : 0;`);
      load.push(`o.${name} = f[at + ${i}] !== 0;`);
    } else {
      throw new Error(`makeFieldCopier: field ${key} is neither a number nor a boolean; list it in skip and carry it by hand`);
    }
    fields.push(key);
  }
  return {
    words: fields.length,
    fields,
    // eslint-disable-next-line no-new-func
    save: new Function('o', 'f', 'at', save.join('\n')) as FieldCopier<T>['save'],
    // eslint-disable-next-line no-new-func
    load: new Function('o', 'f', 'at', load.join('\n')) as FieldCopier<T>['load'],
  };
}
