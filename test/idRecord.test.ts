import { idRecord, isEmptyRecord, ownValue } from '../src/idRecord';

describe('id records (prototype-less, keyed by ids from users)', () => {
  test('`__proto__` and `toString` are own keys like any other; inherited members are never values', () => {
    const record = idRecord<number>();
    expect(isEmptyRecord(record)).toBe(true);
    record['__proto__'] = 1;
    record['toString'] = 2;
    expect(Object.getPrototypeOf(record)).toBeNull();
    expect(Object.keys(record)).toEqual(['__proto__', 'toString']);
    expect(ownValue(record, '__proto__')).toBe(1);
    expect(ownValue(record, 'toString')).toBe(2);
    expect(isEmptyRecord(record)).toBe(false);
    expect(ownValue({}, 'toString')).toBeUndefined();
    expect(ownValue(undefined, 'a')).toBeUndefined();
  });
});
