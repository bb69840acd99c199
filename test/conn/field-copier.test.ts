import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeFieldCopier } from '../../src/conn/field-copier.js';

class Sample {
  count = 3;
  ratio = 0.25;
  big = 4_000_000_000;
  flag = true;
  other = false;
  name = 'x';
  list: number[] = [];
}

describe('makeFieldCopier', () => {
  it('with int32, loads each number field back as a 32-bit integer (what Connection declares of its fields)', () => {
    class Ints {
      a = 0;
      b = 0;
      c = 0;
      on = false;
    }
    const copier = makeFieldCopier(new Ints(), [], true);
    const from = Object.assign(new Ints(), { a: 2 ** 31 - 1, b: -(2 ** 31), c: 999_999_999, on: true });
    const f64 = new Float64Array(4);
    copier.save(from, f64, 0);
    const to = new Ints();
    copier.load(to, f64, 0);
    assert.deepEqual({ ...to }, { ...from });
    // Beyond 32 bits it would not carry the value: the caller's declaration is what makes int32 safe.
    f64[0] = 2 ** 32 + 5;
    copier.load(to, f64, 0);
    assert.equal(to.a, 5);
  });

  it('carries every number and boolean field, in declaration order, and nothing else', () => {
    const copier = makeFieldCopier(new Sample(), ['name', 'list']);
    assert.deepEqual(copier.fields, ['count', 'ratio', 'big', 'flag', 'other']);
    assert.equal(copier.words, 5);
    const from = new Sample();
    Object.assign(from, { count: -7, ratio: 1e-9, big: 2 ** 52, flag: false, other: true, name: 'kept apart' });
    const f64 = new Float64Array(12).fill(99);
    copier.save(from, f64, 3);
    assert.deepEqual([...f64], [99, 99, 99, -7, 1e-9, 2 ** 52, 0, 1, 99, 99, 99, 99]);
    const to = new Sample();
    copier.load(to, f64, 3);
    assert.deepEqual({ ...to, name: from.name }, { ...from });
    assert.equal(to.name, 'x', 'a skipped field is left alone');
    assert.equal(typeof to.flag, 'boolean');
  });

  it('refuses a field it cannot carry unless the caller says it carries it by hand', () => {
    assert.throws(() => makeFieldCopier(new Sample(), ['list']), /field name is neither a number nor a boolean/);
    assert.throws(() => makeFieldCopier(new Sample(), ['name']), /field list is neither a number nor a boolean/);
    assert.throws(() => makeFieldCopier({ 'odd-name': 1 }, []), /odd field name/);
  });
});
