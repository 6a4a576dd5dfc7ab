/**
 * ShardedSupervisor (src/kernel/shardedSupervisor.ts): children created under supervisor
 * shards outside the shards' children records (issue #20), stopped and forgotten by the
 * supervisor itself.
 */
import { createActor, createMachine, setup, SimulatedClock, type AnyActorLogic, type AnyActorRef, type InspectionEvent } from 'xstate';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
    // Checked before any child (or shard) was created.
    expect(supervisor.shards).toBe(0);
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

  test("a batch with a taken system id (or an id twice) creates no actor at all: the inspector hears of none, and the owner's error is thrown", () => {
    const events: InspectionEvent[] = [];
    const root = createRuntimeRoot({ clock: new SimulatedClock(), inspect: (event) => void events.push(event) });
    const supervisor = new ShardedSupervisor(root, 'worker', worker, 4, undefined, (id) => new RangeError(`taken: ${id}`));
    createActor(createMachine({}), { parent: root, systemId: 'worker:x' }).start();
    const created = () => events.filter((e) => e.type === '@xstate.actor' && (e.actorRef as AnyActorRef).id.startsWith('worker:')).length;
    expect(() =>
      supervisor.spawnMany([
        { id: 'a', input: {} },
        { id: 'x', input: {} },
      ]),
    ).toThrow(new RangeError('taken: x'));
    expect(() =>
      supervisor.spawnMany([
        { id: 'b', input: {} },
        { id: 'c', input: {} },
        { id: 'b', input: {} },
      ]),
    ).toThrow(new RangeError('taken: b'));
    expect(created()).toBe(0);
    expect(supervisor.size).toBe(0);
    expect(root.system.get('worker:a')).toBeUndefined();
    supervisor.spawnMany([
      { id: 'a', input: {} },
      { id: 'b', input: {} },
    ]);
    expect(created()).toBe(2);
    root.stop();
  });

  /** A batch of two whose first child, as it starts, releases (or stops) the second one. */
  function batchWhoseFirstChildRemovesTheSecond(remove: (supervisor: ShardedSupervisor<AnyActorLogicOf>) => void) {
    const clock = new SimulatedClock();
    const root = createRuntimeRoot({ clock });
    const fired: string[] = [];
    // Made after its logic, whose entry action reads it.
    const made: { supervisor?: ShardedSupervisor<AnyActorLogicOf> } = {};
    const logic = setup({
      actions: {
        onStart: ({ self }) => {
          if (self.id === 'w:a') remove(made.supervisor as ShardedSupervisor<AnyActorLogicOf>);
        },
      },
    }).createMachine({
      entry: 'onStart',
      initial: 'waiting',
      states: { waiting: { after: { 60_000: 'late' } }, late: { entry: ({ self }) => void fired.push(self.id) } },
    });
    const supervisor = new ShardedSupervisor(root, 'w', logic, 16);
    made.supervisor = supervisor;
    const [, b] = supervisor.spawnMany([
      { id: 'a', input: {} },
      { id: 'b', input: {} },
    ]);
    return { root, clock, fired, supervisor, b: b as AnyActorRef };
  }
  type AnyActorLogicOf = AnyActorLogic;

  test.each([
    ['released', (supervisor: ShardedSupervisor<AnyActorLogicOf>) => supervisor.release(['b'])],
    ['stopped by stopAll', (supervisor: ShardedSupervisor<AnyActorLogicOf>) => supervisor.stopAll()],
  ])('a child %s while its batch is starting is never started: no timer, its system id free, nothing outlives the root', (_, remove) => {
    const { root, clock, fired, supervisor, b } = batchWhoseFirstChildRemovesTheSecond(remove);
    expect(root.system.get('w:b')).toBeUndefined();
    clock.increment(60_000);
    expect(fired).not.toContain('w:b');
    expect(supervisor.get('b')).toBeUndefined();
    const again = supervisor.spawn('b', {});
    expect(again).not.toBe(b);
    expect(root.system.get('w:b')).toBe(again);
    root.stop();
    expect(again.getSnapshot().status).toBe('stopped');
    expect((b as unknown as { _processingStatus: number })._processingStatus).not.toBe(1);
  });

  test('a live child stopped by anyone but the supervisor (a forged xstate.stop) is reported as a failure; releases and stopAll are not', () => {
    const failures: [string, string][] = [];
    const root = createRuntimeRoot({ clock: new SimulatedClock() });
    const supervisor = new ShardedSupervisor(root, 'worker', worker, 4, (id, error) => void failures.push([id, String(error)]));
    const [forged] = supervisor.spawnMany([
      { id: 'f', input: {} },
      { id: 'r', input: {} },
      { id: 's', input: {} },
    ]);
    forged?.send({ type: 'xstate.stop' } as never);
    expect(forged?.getSnapshot().status).toBe('stopped');
    expect(failures).toEqual([['f', expect.stringContaining("'xstate.stop'") as string]]);
    supervisor.release(['f', 'r']);
    supervisor.stopAll();
    root.stop();
    expect(failures).toHaveLength(1);
  });

  test('a started child no longer holds its start options (its input): 460 bytes of hidden-class metadata per actor otherwise', () => {
    const { root, supervisor } = setupSupervisor();
    const input = { big: 'input' };
    const child = supervisor.spawn('w', input) as unknown as { options: Record<string, unknown> };
    expect(child.options['input']).toBeUndefined();
    root.stop();
  });

  test('children that finish and are released leave nothing behind: neither their ends nor their retired shards grow what the machines remember', () => {
    // XState memoises a state node's transitions per event type for the life of the machine,
    // and a child's end is an event whose type carries its id: 150+ bytes kept per child
    // before the shards dropped their children's ends and reused retired shards' ids.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { root, supervisor } = setupSupervisor(16);
    let next = 0;
    const round = (n: number) => {
      const ids = Array.from({ length: n }, () => `w${next++}`);
      for (const ref of supervisor.spawnMany(ids.map((id) => ({ id, input: {} })))) ref.send({ type: 'FINISH' });
      supervisor.release(ids);
    };
    round(2_000);
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10; i++) round(2_000);
    gc();
    gc();
    const perChild = (process.memoryUsage().heapUsed - before) / 20_000;
    expect(supervisor.size).toBe(0);
    // ~12 bytes seen (8 – 29 in runs of half the size: where JIT code lands varies); 300 before.
    expect(perChild).toBeLessThan(80);
    root.stop();
  });

  test('children that crash leave nothing behind either: their crashes reach the chart as one event type, and are still reported', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const crashing = setup({
      actions: {
        boom: () => {
          throw new Error('boom');
        },
      },
    }).createMachine({ on: { CRASH: { actions: 'boom' } } });
    const root = createRuntimeRoot({ clock: new SimulatedClock() });
    let reported = 0;
    const supervisor = new ShardedSupervisor(root, 'crasher', crashing, 16, () => reported++);
    let next = 0;
    const round = (n: number) => {
      const ids = Array.from({ length: n }, () => `c${next++}`);
      for (const ref of supervisor.spawnMany(ids.map((id) => ({ id, input: {} })))) ref.send({ type: 'CRASH' });
      supervisor.release(ids);
    };
    round(1_000);
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10; i++) round(1_000);
    gc();
    gc();
    const perChild = (process.memoryUsage().heapUsed - before) / 10_000;
    expect(reported).toBe(11_000);
    // A type per crash kept ~250 bytes in the shard chart's memo for good.
    expect(perChild).toBeLessThan(80);
    root.stop();
  });

  test("retired shards' ids are given to new shards: the ids stay as few as the shards alive at once", () => {
    const { root, supervisor } = setupSupervisor(4);
    const shardIds = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const ids = Array.from({ length: 10 }, (_, j) => `w${i}-${j}`);
      for (const ref of supervisor.spawnMany(ids.map((id) => ({ id, input: {} })))) shardIds.add((ref as unknown as { _parent: AnyActorRef })._parent.id);
      supervisor.release(ids);
    }
    expect([...shardIds].sort()).toEqual(['workers-0', 'workers-1', 'workers-2']);
    root.stop();
  });
});
