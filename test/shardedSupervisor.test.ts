/**
 * ShardedSupervisor (src/kernel/shardedSupervisor.ts): children created under supervisor
 * shards outside the shards' children records (issue #20), stopped and forgotten by the
 * supervisor itself.
 */
import { createActor, createMachine, SimulatedClock, type AnyActorRef } from 'xstate';
import { createRuntimeRoot } from '../src/kernel/runtimeRoot';
import { ShardedSupervisor } from '../src/kernel/shardedSupervisor';

const worker = createMachine({
  initial: 'working',
  states: { working: { on: { FINISH: 'finished' } }, finished: { type: 'final' } },
});

function setupSupervisor(shardSize = 4) {
  const root = createRuntimeRoot({ clock: new SimulatedClock() });
  const supervisor = new ShardedSupervisor(root, 'worker', worker, shardSize);
  return { root, supervisor };
}

describe('ShardedSupervisor', () => {
  test("children join the system as their shard's children under kind:id, and the shards retire once every child is released", () => {
    const { root, supervisor } = setupSupervisor(4);
    const refs = supervisor.spawnMany(Array.from({ length: 10 }, (_, i) => ({ id: `w${i}`, input: {} })));
    expect(root.system.get('worker:w7')).toBe(refs[7]);
    expect(refs[7]?.id).toBe('worker:w7');
    const shard = (refs[0] as unknown as { _parent: AnyActorRef })._parent;
    expect(shard.id).toBe('workers-0');
    expect((refs[3] as unknown as { _parent: AnyActorRef })._parent).toBe(shard);
    expect((refs[4] as unknown as { _parent: AnyActorRef })._parent).not.toBe(shard);
    expect(supervisor.size).toBe(10);
    expect(supervisor.shards).toBe(3);
    for (const ref of refs.slice(0, 4)) ref.send({ type: 'FINISH' });
    supervisor.release(['w0', 'w1', 'w2', 'w3']);
    expect(shard.getSnapshot().status).toBe('done');
    expect(supervisor.shards).toBe(2);
    expect(supervisor.get('w0')).toBeUndefined();
    expect(supervisor.get('w4')).toBe(refs[4]);
    root.stop();
  });

  test('a live child released is stopped, and its system id is free at once', () => {
    const { root, supervisor } = setupSupervisor();
    const [first] = supervisor.spawnMany([{ id: 'w', input: {} }]);
    supervisor.release(['w']);
    expect(first?.getSnapshot().status).toBe('stopped');
    expect(root.system.get('worker:w')).toBeUndefined();
    const again = supervisor.spawn('w', {});
    expect(root.system.get('worker:w')).toBe(again);
    expect(again.getSnapshot().status).toBe('active');
    root.stop();
  });

  test('when one child cannot be created (its system id is taken), spawnMany throws and leaves none of the batch', () => {
    const { root, supervisor } = setupSupervisor();
    const squatter = createActor(createMachine({}), { parent: root, systemId: 'worker:b' }).start();
    expect(() =>
      supervisor.spawnMany([
        { id: 'a', input: {} },
        { id: 'b', input: {} },
        { id: 'c', input: {} },
      ]),
    ).toThrow(/system ID/i);
    expect(supervisor.size).toBe(0);
    expect(supervisor.shards).toBe(1);
    expect(root.system.get('worker:a')).toBeUndefined();
    expect(root.system.get('worker:b')).toBe(squatter);
    expect(supervisor.spawn('a', {}).getSnapshot().status).toBe('active');
    root.stop();
  });

  test('the host stopping stops every live child and shard', () => {
    const { root, supervisor } = setupSupervisor(2);
    const refs = supervisor.spawnMany(Array.from({ length: 5 }, (_, i) => ({ id: `w${i}`, input: {} })));
    root.stop();
    expect(refs.map((r) => r.getSnapshot().status)).toEqual(['stopped', 'stopped', 'stopped', 'stopped', 'stopped']);
    expect(supervisor.shards).toBe(0);
  });

  test('a started child no longer holds its start options (its input): 460 bytes of hidden-class metadata per actor otherwise', () => {
    const { root, supervisor } = setupSupervisor();
    const input = { big: 'input' };
    const child = supervisor.spawn('w', input) as unknown as { options: Record<string, unknown> };
    expect(child.options['input']).toBeUndefined();
    root.stop();
  });
});
