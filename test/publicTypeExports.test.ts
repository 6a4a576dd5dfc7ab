/**
 * Types of the public API that a user needs to name: what the conflict chart emits, and the
 * records option of `SnapshotWriter` with what it stores. Checked by the typecheck
 * (`npx tsc --noEmit -p .`, which includes test/): on a tree without these exports this
 * file does not compile (TS2305), whatever jest says.
 */
import { z } from 'zod';
import type { ConflictMachineEmitted as RootEmitted, RecordsDelta as RootDelta, SnapshotRecordsOptions as RootRecordsOptions, StoredRecord as RootStoredRecord } from '../src';
import type { ConflictMachineEmitted } from '../src/entries/machines';
import type { RecordsDelta, SnapshotRecordsOptions, SnapshotWriterOptions, StoredRecord } from '../src/entries/store';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('public type exports', () => {
  test('the conflict chart emitted events are named from neuroflux and neuroflux/machines', () => {
    const same: Same<RootEmitted, ConflictMachineEmitted> = true;
    const emitted: ConflictMachineEmitted[] = [{ type: 'HUMAN_DECISION_AWAITED' }, { type: 'MESSAGE_IGNORED', event: 'VOTE_RECEIVED' }];
    expect(same).toBe(true);
    expect(emitted.map((e) => e.type)).toEqual(['HUMAN_DECISION_AWAITED', 'MESSAGE_IGNORED']);
  });

  test("SnapshotWriter's records option and what it stores are named from neuroflux and neuroflux/store", () => {
    const records: SnapshotRecordsOptions<{ n: number }> = { itemSchema: z.object({ n: z.number() }), current: (id) => (id === 'a' ? { n: 1 } : undefined) };
    const option: SnapshotWriterOptions<unknown, never, { n: number }>['records'] = records;
    const stored: StoredRecord<{ n: number }> = { id: 'a', item: { n: 1 } };
    const delta: RecordsDelta<{ n: number }> = { puts: [stored], removes: ['b'] };
    const same: [
      Same<RootRecordsOptions<number>, SnapshotRecordsOptions<number>>,
      Same<RootDelta<number>, RecordsDelta<number>>,
      Same<RootStoredRecord<number>, StoredRecord<number>>,
    ] = [true, true, true];
    expect(same).toEqual([true, true, true]);
    expect(option?.current('a')).toEqual({ n: 1 });
    expect(delta.puts.map((r) => r.id)).toEqual(['a']);
  });
});
