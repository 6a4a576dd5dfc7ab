import fc from 'fast-check';
import { deleteKey, entryCount, keyPosition, keysOf, packedSlot, setValue, valueOf, type PackedEntries } from '../src/swarm/model/packedEntries';

describe('packed entries (the swarm shards: keys and values alternating)', () => {
  test('`__proto__`, `toString` and numeric ids are keys like any other, kept in the order first set', () => {
    const entries: PackedEntries<number> = [];
    for (const [key, value] of [
      ['__proto__', 1],
      ['toString', 2],
      ['10', 3],
      ['2', 4],
    ] as const)
      setValue(entries, key, value);
    expect(keysOf(entries)).toEqual(['__proto__', 'toString', '10', '2']);
    expect(valueOf(entries, '__proto__')).toBe(1);
    expect(valueOf(entries, 'constructor')).toBeUndefined();
    expect(valueOf(undefined, 'x')).toBeUndefined();
    setValue(entries, 'toString', 5);
    expect(entries).toEqual(['__proto__', 1, 'toString', 5, '10', 3, '2', 4]);
    expect(deleteKey(entries, '10')).toBe(true);
    expect(deleteKey(entries, '10')).toBe(false);
    expect(entries).toEqual(['__proto__', 1, 'toString', 5, '2', 4]);
    expect(entryCount(entries)).toBe(3);
  });

  test('a value equal to a key is not taken for one (string values: the pair indexes)', () => {
    const entries: PackedEntries<string> = [];
    setValue(entries, 'a', 'b');
    setValue(entries, 'b', 'a');
    expect(keyPosition(entries, 'b')).toBe(2);
    expect(valueOf(entries, 'b')).toBe('a');
    expect(deleteKey(entries, 'a')).toBe(true);
    expect(entries).toEqual(['b', 'a']);
  });

  test('behaves as a Map under any sequence of sets and deletes', () => {
    const key = fc.constantFrom('a', 'b', 'c', '__proto__', 'toString', '0', '1', '');
    const op = fc.oneof(fc.record({ set: key, value: fc.string() }), fc.record({ del: key }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const entries: PackedEntries<string> = [];
        const map = new Map<string, string>();
        for (const o of ops) {
          if ('set' in o) {
            setValue(entries, o.set, o.value);
            map.set(o.set, o.value);
          } else expect(deleteKey(entries, o.del)).toBe(map.delete(o.del));
        }
        expect(keysOf(entries)).toEqual([...map.keys()]);
        for (const k of ['a', 'b', 'c', '__proto__', 'toString', '0', '1', '', 'x']) expect(valueOf(entries, k)).toBe(map.get(k));
        expect(entryCount(entries)).toBe(map.size);
      }),
    );
  });

  test('packedSlot gives a writer the shard in a slot: created for undefined or null (JSON), an old record converted in place, a packed one as it is', () => {
    const legacy = Object.assign(Object.create(null) as Record<string, number>, { b: 2 });
    Object.defineProperty(legacy, '__proto__', { value: 1, enumerable: true });
    const packed: PackedEntries<number> = ['a', 1];
    const slots = [undefined, null, legacy, packed] as unknown as (PackedEntries<number> | undefined)[];
    expect(packedSlot(slots, 0)).toEqual([]);
    expect(packedSlot(slots, 1)).toEqual([]);
    const converted = packedSlot(slots, 2);
    expect(converted).toEqual(['b', 2, '__proto__', 1]);
    expect(slots[2]).toBe(converted);
    expect(packedSlot(slots, 3)).toBe(packed);
    expect(slots.slice(0, 2)).toEqual([[], []]);
  });
});
