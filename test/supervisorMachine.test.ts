/**
 * The supervisor shard chart (machines/supervisor.machine.ts) used on its own, without the
 * runtime's `ShardedSupervisor` (which folds XState's `xstate.error.actor.<id>` into
 * `CHILD_FAILED`): a child that crashes is reported with its id and error, and the shard
 * and the crashed child's siblings stay up.
 */
import { createActor, createMachine, setup } from 'xstate';
import { supervisorMachine } from '../machines/supervisor.machine';

const child = setup({
  types: { input: {} as { crashes: boolean }, context: {} as { crashes: boolean }, events: {} as { type: 'POKE' } },
  actions: {
    crashIfAsked: ({ context }) => {
      // A non-Error, as user code may throw.
      if (context.crashes) throw 'boom' as unknown as Error;
    },
  },
}).createMachine({
  context: ({ input }) => ({ crashes: input.crashes }),
  initial: 'idle',
  states: { idle: { on: { POKE: { target: 'poked', actions: 'crashIfAsked' } } }, poked: {} },
});

describe('supervisorMachine on its own', () => {
  test("a crashing child is reported by XState's error event with its id and error; the shard and its siblings stay up", () => {
    const failures: { childId: string; error: unknown }[] = [];
    const shard = createActor(
      supervisorMachine.provide({
        actors: { child },
        actions: { reportChildFailure: (_, params) => failures.push(params) },
      }),
      { input: { kind: 'worker' } },
    ).start();
    shard.send({
      type: 'CHILDREN_REQUESTED',
      children: [
        { id: 'calm', input: { crashes: false } },
        { id: 'fragile', input: { crashes: true } },
      ],
    });
    const children = shard.getSnapshot().children as Record<string, { send(e: { type: 'POKE' }): void; getSnapshot(): { status: string; value: unknown } }>;
    children['fragile']?.send({ type: 'POKE' });
    children['calm']?.send({ type: 'POKE' });
    expect(failures).toEqual([{ childId: 'fragile', error: 'boom' }]);
    expect(shard.getSnapshot().status).toBe('active');
    expect(shard.getSnapshot().value).toBe('supervising');
    expect(children['calm']?.getSnapshot()).toMatchObject({ status: 'active', value: 'poked' });
    expect(children['fragile']?.getSnapshot().status).toBe('error');
    shard.send({ type: 'SUPERVISOR_RETIRED' });
    expect(shard.getSnapshot().status).toBe('done');
  });

  test('a shard without the reporting action provided keeps going when a child crashes', () => {
    const shard = createActor(
      supervisorMachine.provide({
        actors: {
          child: createMachine({
            entry: () => {
              throw new Error('at start');
            },
          }),
        },
      }),
      { input: { kind: 'worker' } },
    ).start();
    shard.send({ type: 'CHILDREN_REQUESTED', children: [{ id: 'broken' }] });
    expect(shard.getSnapshot().status).toBe('active');
  });
});
