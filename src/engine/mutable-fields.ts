/**
 * V8 treats an object field that only its initialisation has written as a constant: optimised code that reads it
 * embeds the value and registers a dependency on the field staying constant. The first later write to the field
 * (an array that doubles, a value set once the capture ends) then deoptimises every function that read it, in the
 * middle of a run, and V8 has to compile them again. The same holds when a field that has only held objects of
 * one shape gets an object of another. On the benchmark capture such dependencies threw away the worker's
 * per-segment path and the reading thread's counting (docs/performance.md, thirteenth round).
 *
 * markMutable writes each named field twice, a stand-in and then its value back, so that V8 records the field as
 * mutable before any code is optimised against it. Call it at construction, for the fields that are replaced
 * later, with a stand-in of the same kind as the value (an empty typed array of the same type for a typed array),
 * so that what V8 knows of the field's type is kept. It costs two stores per field, once per object; the first
 * object of a shape changes the shape for all the others.
 */
export function markMutable(o: object, standIns: Readonly<Record<string, unknown>>): void {
  const fields = o as Record<string, unknown>;
  for (const key of Object.keys(standIns)) {
    // A misspelt name would add a field, and change the object's shape: fail instead.
    if (!Object.prototype.hasOwnProperty.call(o, key)) throw new Error(`markMutable: the object has no field ${key}`);
    const value = fields[key];
    if (standIns[key] === value) throw new Error(`markMutable: the stand-in for ${key} is its value`);
    fields[key] = standIns[key];
    fields[key] = value;
  }
}
