import { copyIdRecord, idRecord, isEmptyRecord, ownValue } from '../src/idRecord';

describe('id records (prototype-less, keyed by ids from users)', () => {
  test('copyIdRecord copies every own entry, `__proto__` and `toString` included, into a new prototype-less record', () => {
    const source = idRecord<number>();
    source['__proto__'] = 1;
    source['toString'] = 2;
    source['7'] = 3;
    source['a'] = 4;
    Object.freeze(source);
    const copy = copyIdRecord(source);
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect(Object.isFrozen(copy)).toBe(false);
    expect(Object.keys(copy)).toEqual(Object.keys(source));
    expect(ownValue(copy, '__proto__')).toBe(1);
    expect(ownValue(copy, 'toString')).toBe(2);
    copy['b'] = 5;
    expect(ownValue(source, 'b')).toBeUndefined();
    expect(isEmptyRecord(copyIdRecord(idRecord()))).toBe(true);
  });
});
