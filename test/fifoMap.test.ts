import fc from 'fast-check';
import { FifoMap } from '../src/kernel/fifoMap';
import { RecentIds, RecentMap } from '../src/kernel/recentIds';

type Op = { kind: 'set'; key: number; value: number } | { kind: 'delete'; key: number } | { kind: 'shift' } | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'shift' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

/** The reference: a Map, whose order is what FifoMap keeps (a key set again is deleted first, so it moves last). */
function apply(reference: Map<number, number>, map: FifoMap<number, number>, o: Op): void {
  switch (o.kind) {
    case 'set':
      reference.delete(o.key);
      reference.set(o.key, o.value);
      map.set(o.key, o.value);
      return;
    case 'delete':
      expect(map.delete(o.key)).toBe(reference.delete(o.key));
      return;
    case 'shift': {
      const oldest = reference.keys().next();
      if (!oldest.done) reference.delete(oldest.value);
      expect(map.shift()).toBe(oldest.done ? undefined : oldest.value);
      return;
    }
    case 'clear':
      reference.clear();
      map.clear();
  }
}

function expectSame(reference: Map<number, number>, map: FifoMap<number, number>): void {
  expect(map.size).toBe(reference.size);
  expect([...map.valuesInOrder()]).toEqual([...reference.values()]);
  const first = reference.entries().next();
  expect(map.oldestKey()).toBe(first.done ? undefined : first.value[0]);
  expect(map.oldestValue()).toBe(first.done ? undefined : first.value[1]);
  for (let key = 0; key <= 40; key++) {
    expect(map.has(key)).toBe(reference.has(key));
    expect(map.get(key)).toBe(reference.get(key));
  }
}

describe('FifoMap', () => {
  it('keeps the entries and order a Map keeps when a key set again is moved last', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const reference = new Map<number, number>();
        const map = new FifoMap<number, number>();
        for (const o of ops) {
          apply(reference, map, o);
          expectSame(reference, map);
        }
      }),
      { numRuns: 60 },
    );
  });

  // Past the 1 024-slot thresholds, where the consumed prefix is dropped and stale slots rebuilt.
  it('stays right through its compactions, one key at a time and out of order', () => {
    const reference = new Map<number, number>();
    const map = new FifoMap<number, number>();
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      const key = Math.floor(random() * 3000);
      const r = random();
      apply(reference, map, r < 0.5 ? { kind: 'set', key, value: i } : r < 0.8 ? { kind: 'delete', key } : { kind: 'shift' });
      if (i % 997 === 0) expectSame(reference, map);
    }
    expect([...map.valuesInOrder()]).toEqual([...reference.values()]);
    for (const [key, value] of reference) expect(map.get(key)).toBe(value);
  });

  it('holds object keys, and keeps no slot for a key deleted long ago', () => {
    const map = new FifoMap<object, string>();
    const keys = Array.from({ length: 5000 }, () => ({}));
    for (const [i, key] of keys.entries()) {
      map.set(key, `v${i}`);
      // Every key but the first deleted out of order: the head never passes them.
      if (i > 0) map.delete(key);
    }
    expect(map.size).toBe(1);
    expect(map.oldestKey()).toBe(keys[0]);
    expect((map as unknown as { keys: unknown[] }).keys.length).toBeLessThan(2000);
  });
});

describe('RecentMap', () => {
  it('keeps the last `capacity` keys; one set again is the newest, one deleted and set again is not forgotten early', () => {
    const recent = new RecentMap<number>(3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) recent.set(key, i);
    recent.set('a', 10); // newest now: 'b' is the oldest
    recent.set('d', 3);
    expect(['a', 'b', 'c', 'd'].filter((k) => recent.has(k))).toEqual(['a', 'c', 'd']);
    expect(recent.get('a')).toBe(10);
    // Deleted, then set again: it takes a new place (a ring kept the old slot and forgot it at the wrap).
    recent.delete('c');
    recent.set('c', 4);
    recent.set('e', 5);
    expect(['a', 'c', 'd', 'e'].filter((k) => recent.has(k))).toEqual(['c', 'd', 'e']);
    expect(recent.size).toBe(3);
  });

  it('RecentIds forgets an id on delete and the oldest beyond capacity', () => {
    const ids = new RecentIds(2);
    ids.add('x');
    ids.add('y');
    ids.delete('x');
    ids.add('z');
    expect([ids.has('x'), ids.has('y'), ids.has('z'), ids.size]).toEqual([false, true, true, 2]);
    ids.add('w');
    expect([ids.has('y'), ids.has('z'), ids.has('w')]).toEqual([false, true, true]);
  });
});
