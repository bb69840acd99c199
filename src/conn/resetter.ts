/**
 * Resetting pooled objects to their initial state, field by field, without writing (and forgetting to update) a
 * reset method by hand: the initial values are read from a freshly constructed template, and a function that
 * assigns each primitive field literally is compiled once per class. Literal assignments keep the stores
 * monomorphic, which a loop over keys would not.
 */
export function makeResetter<T extends object>(template: T, skip: readonly string[] = []): (obj: T) => void {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(template)) {
    if (skip.includes(key)) continue;
    const t = typeof value;
    if (value === null || t === 'number' || t === 'boolean' || t === 'string') {
      if (t === 'number' && !Number.isFinite(value as number)) throw new Error(`makeResetter: ${key} is not finite`);
      lines.push(`o.${checkedFieldName('makeResetter', key)} = ${JSON.stringify(value)};`);
    } else {
      // Objects (arrays, typed arrays, nested tracks) are the caller's to clear: say which, so none is missed.
      throw new Error(`makeResetter: field ${key} holds an object; list it in skip and reset it by hand`);
    }
  }
  // eslint-disable-next-line no-new-func
  return new Function('o', lines.join('\n')) as (obj: T) => void;
}

/** A field name fit to be compiled into code (`o.name`): anything else is refused, whoever asks (`who`). */
export function checkedFieldName(who: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) throw new Error(`${who}: odd field name ${key}`);
  return key;
}
