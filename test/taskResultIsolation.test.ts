/**
 * A task's result is kept as a frozen JSON copy of what the executor returned: whoever reads
 * it (`getTask`, `waitForTask`, `events$`, the dependents' `dependencyResults`) gets the value
 * a dependent on another machine would get, no reader can change it for the others, and the
 * executor keeps its own object. Before, the record held the executor's object: a caller's
 * `getTask('a').result.rows.push(...)` changed what the dependent `b` was given, and the
 * executor's later writes to its object did too.
 */
import { SimulatedClock } from 'xstate';
import { AgentHost, createNeuroFlux, silentLogger, type TaskSpec } from '../src';
import { deepFreezeJson, frozenJsonCopy } from '../src/jsonValue';
import { cleanupAfterEach } from './support/cleanup';
import { orchestratorAndHostOverLoopback } from './support/loopbackHost';

const cleanup = cleanupAfterEach();

function isDeeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen);
}

describe('task results', () => {
  test("a reader cannot change a result for a dependent, nor can the executor's later writes", async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    const returned = { rows: [1, 2], meta: { source: 'a' } };
    const seenByB: unknown[] = [];
    let releaseB: () => void = () => {};
    const bMayRun = new Promise<void>((resolve) => (releaseB = resolve));
    nf.orchestrator.registerAgent('w', {
      capabilities: ['w'],
      maxConcurrentTasks: 2,
      execute: async (task: TaskSpec, context) => {
        if (task.taskId === 'a') return returned;
        await bMayRun;
        seenByB.push(structuredClone(context.dependencyResults));
        return 'done';
      },
    });
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'a', requiredCapabilities: ['w'] },
        { taskId: 'b', requiredCapabilities: ['w'], dependencies: ['a'] },
      ],
    });
    const a = await nf.orchestrator.waitForTask('a');
    const result = a.result as { rows: number[]; meta: { source: string } };
    expect(result).toEqual({ rows: [1, 2], meta: { source: 'a' } });
    expect(result).not.toBe(returned);
    expect(isDeeplyFrozen(result)).toBe(true);
    // A reader's attempts are refused (strict mode: TypeError) ...
    expect(() => result.rows.push(3)).toThrow(TypeError);
    expect(() => ((nf.orchestrator.getTask('a')!.result as { meta: { source: string } }).meta.source = 'forged')).toThrow(TypeError);
    // ... and the executor's own object stays its own, writable.
    returned.rows.push(99);
    returned.meta.source = 'changed later';
    releaseB();
    await nf.orchestrator.waitForTask('b');
    expect(seenByB).toEqual([{ a: { rows: [1, 2], meta: { source: 'a' } } }]);
    expect(nf.orchestrator.getTask('a')!.result).toEqual({ rows: [1, 2], meta: { source: 'a' } });
  });

  test('the result is what a transport delivers: a Date as its string, undefined fields gone, a shared object copied twice, __proto__ an own key', async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    const shared = { n: 1 };
    const odd = JSON.parse('{"__proto__": {"polluted": true}, "plain": 1}') as Record<string, unknown>;
    nf.orchestrator.registerAgent('w', {
      capabilities: ['w'],
      execute: () => ({ at: new Date(0), gone: undefined, left: shared, right: shared, odd, zero: -0 }),
    });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 't', requiredCapabilities: ['w'] });
    const record = await nf.orchestrator.waitForTask('t');
    const result = record.result as Record<string, unknown>;
    expect(result).toEqual({
      at: '1970-01-01T00:00:00.000Z',
      left: { n: 1 },
      right: { n: 1 },
      odd: JSON.parse('{"__proto__": {"polluted": true}, "plain": 1}') as unknown,
      zero: 0,
    });
    expect('gone' in result).toBe(false);
    expect(result['left']).not.toBe(result['right']);
    expect(Object.hasOwn(result['odd'] as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.is(result['zero'], 0)).toBe(true);
  });

  test('a toJSON inside a result that throws, or returns what JSON cannot carry, fails the attempt as invalid_result (nothing escapes); one that returns nothing completes with no result', async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    const results: Record<string, unknown> = {
      bigint: { toJSON: () => 10n },
      throws: {
        toJSON() {
          throw new Error('boom');
        },
      },
      nothing: { toJSON: () => undefined },
    };
    nf.orchestrator.registerAgent('w', { capabilities: ['w'], execute: (task: TaskSpec) => results[task.taskId] });
    await nf.start();
    const ids = Object.keys(results);
    nf.orchestrator.submitWorkflow({ tasks: ids.map((taskId) => ({ taskId, requiredCapabilities: ['w'], retryPolicy: { maxRetries: 0 } })) });
    const records = await nf.orchestrator.waitForWorkflow(ids);
    expect(records.map((r) => [r.taskId, r.status, r.error])).toEqual([
      ['bigint', 'failed', expect.stringMatching(/^invalid task result: result: cannot be written as JSON \(Do not know how to serialize a BigInt\)/)],
      ['throws', 'failed', 'invalid task result: result: cannot be written as JSON (boom)'],
      ['nothing', 'completed', null],
    ]);
    expect(records[2]?.result).toBeUndefined();
  });

  test("a bus-protocol agent's result in this process is copied, not frozen in place: the agent keeps its object", async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    const own = { at: new Date(0), rows: [1] };
    const proto = nf.bus.registerAgent('proto', {
      handler: (message) => {
        const { task, attempt, dispatch } = message.payload as { task: { taskId: string }; attempt: number; dispatch?: string };
        proto.send({
          recipientId: 'orchestrator',
          messageType: 'notification',
          topic: 'task_result',
          payload: { taskId: task.taskId, attempt, status: 'completed', result: own, dispatch },
        });
      },
    });
    nf.orchestrator.registerAgent('proto', { capabilities: ['w'] });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'p', requiredCapabilities: ['w'] });
    const record = await nf.orchestrator.waitForTask('p');
    expect(record.result).toEqual({ at: '1970-01-01T00:00:00.000Z', rows: [1] });
    expect(isDeeplyFrozen(record.result)).toBe(true);
    expect(Object.isFrozen(own)).toBe(false);
    own.rows.push(2);
    expect(nf.orchestrator.getTask('p')?.result).toEqual({ at: '1970-01-01T00:00:00.000Z', rows: [1] });
  });

  test("an agent host's executor on another runtime gets frozen dependencyResults too", async () => {
    const { orch, host } = await orchestratorAndHostOverLoopback(cleanup, new SimulatedClock());
    const tried: string[] = [];
    host.addAgent('h1-w', {
      capabilities: ['c'],
      execute: (task: { taskId: string }, context: { dependencyResults: Readonly<Record<string, unknown>> }) => {
        if (task.taskId === 'a') return { rows: [1] };
        try {
          (context.dependencyResults['a'] as { rows: number[] }).rows.push(2);
          tried.push('changed');
        } catch (error) {
          tried.push((error as Error).constructor.name);
        }
        return 'b';
      },
    });
    host.start();
    // The host's agents reach the orchestrator over the hub a little later.
    orch.orchestrator.submitWorkflow(
      {
        tasks: [
          { taskId: 'a', requiredCapabilities: ['c'] },
          { taskId: 'b', requiredCapabilities: ['c'], dependencies: ['a'] },
        ],
      },
      { requireCapableAgents: false },
    );
    await orch.orchestrator.waitForWorkflow(['a', 'b']);
    expect(tried).toEqual(['TypeError']);
    // And the orchestrator keeps a result parsed from the host's frame frozen too.
    expect(orch.orchestrator.getTask('a')?.result).toEqual({ rows: [1] });
    expect(isDeeplyFrozen(orch.orchestrator.getTask('a')?.result)).toBe(true);
  });

  test("an assignment a sender in this process sends over the bus: the executor gets frozen copies, the sender keeps its objects unfrozen (an orchestrator's agent and a hosted one)", async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock(), logger: silentLogger }));
    const seen: { frozen: boolean; value: unknown; sendersOwn: boolean }[] = [];
    let bothRan: () => void = () => {};
    const ran = new Promise<void>((resolve) => (bothRan = resolve));
    const execute = (_task: TaskSpec, context: { dependencyResults: Readonly<Record<string, unknown>> }) => {
      const value = context.dependencyResults['a'];
      const shallow = context.dependencyResults['b'];
      seen.push({ frozen: isDeeplyFrozen(value) && isDeeplyFrozen(shallow), value, sendersOwn: shallow === shallowFrozen });
      if (seen.length === 2) bothRan();
      return 'done';
    };
    const shallowFrozen = Object.freeze({ rows: [2] });
    nf.orchestrator.registerAgent('local-exec', { capabilities: ['x'], execute });
    const host = cleanup.add(new AgentHost({ bus: nf.bus, hostId: 'h-local' }));
    host.addAgent('hosted-exec', { capabilities: ['y'], execute });
    host.start();
    await nf.start();
    const sender = nf.bus.registerAgent('someone');
    const own = { rows: [1], at: new Date(0) };
    const task = { taskId: 'stray', name: 'stray', requiredCapabilities: [] };
    for (const recipientId of ['local-exec', 'hosted-exec']) {
      sender.send({
        recipientId,
        messageType: 'command',
        topic: 'task_assignment',
        payload: { action: 'execute_task', task, attempt: 0, dependencyResults: { a: own, b: shallowFrozen } },
      });
    }
    await ran;
    expect(seen).toEqual([
      { frozen: true, value: { rows: [1], at: '1970-01-01T00:00:00.000Z' }, sendersOwn: false },
      { frozen: true, value: { rows: [1], at: '1970-01-01T00:00:00.000Z' }, sendersOwn: false },
    ]);
    expect(Object.isFrozen(own)).toBe(false);
    expect(Object.isFrozen(own.rows)).toBe(false);
    // Frozen at its top only, with writable parts inside: copied too, not shared.
    expect(Object.isFrozen(shallowFrozen.rows)).toBe(false);
  });

  test("an agent host in the orchestrator's process: its result is copied once, by the host, and kept frozen", async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock(), logger: silentLogger }));
    const host = cleanup.add(new AgentHost({ bus: nf.bus, hostId: 'h-local' }));
    const returned = { rows: [1, 2], meta: { source: 'host' } };
    let dependencySeen: unknown;
    host.addAgent('hosted', {
      capabilities: ['h'],
      execute: (task: { taskId: string }, context: { dependencyResults: Readonly<Record<string, unknown>> }) => {
        if (task.taskId === 'h2') dependencySeen = context.dependencyResults['m1'];
        return returned;
      },
    });
    host.start();
    nf.orchestrator.registerAgent('hosted', { capabilities: ['h'] });
    await nf.start();
    // A JSON copy starts with JSON.stringify of the value.
    const copies = jest.spyOn(JSON, 'stringify');
    try {
      nf.orchestrator.submitTask({ taskId: 'h1', requiredCapabilities: ['h'] });
      const record = await nf.orchestrator.waitForTask('h1');
      expect(record.result).toEqual(returned);
      expect(record.result).not.toBe(returned);
      expect(isDeeplyFrozen(nf.orchestrator.getTask('h1')?.result)).toBe(true);
      const values = copies.mock.calls.map(([value]) => value as unknown);
      copies.mockRestore();
      const copiesOfResult = values.filter((value) => typeof value === 'object' && JSON.stringify(value) === '{"rows":[1,2],"meta":{"source":"host"}}');
      expect(copiesOfResult).toEqual([returned]);
    } finally {
      copies.mockRestore();
    }
    // The orchestrator's own result (here an in-process executor's), handed to a dependent's
    // hosted executor in this process, is not copied again: it is the kept, deeply frozen value itself.
    nf.orchestrator.registerAgent('maker', { capabilities: ['m'], execute: () => ({ made: [1] }) });
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'm1', requiredCapabilities: ['m'] },
        { taskId: 'h2', requiredCapabilities: ['h'], dependencies: ['m1'] },
      ],
    });
    await nf.orchestrator.waitForWorkflow(['m1', 'h2']);
    expect(dependencySeen).toEqual({ made: [1] });
    expect(dependencySeen).toBe(nf.orchestrator.getTask('m1')?.result);
  });

  test('dependencyResults are the dependencies as dispatched, whatever the executor does to its task first', async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock(), logger: silentLogger }));
    const seen: unknown[] = [];
    nf.orchestrator.registerAgent('w', {
      capabilities: ['w'],
      maxConcurrentTasks: 3,
      execute: (task: TaskSpec, context) => {
        if (task.taskId !== 'c') return task.taskId.toUpperCase();
        (task as { dependencies: readonly string[] }).dependencies = [...task.dependencies].reverse();
        seen.push({ ...context.dependencyResults });
        return 'done';
      },
    });
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'a', requiredCapabilities: ['w'] },
        { taskId: 'b', requiredCapabilities: ['w'] },
        { taskId: 'c', requiredCapabilities: ['w'], dependencies: ['a', 'b'] },
      ],
    });
    await nf.orchestrator.waitForWorkflow(['a', 'b', 'c']);
    expect(seen).toEqual([{ a: 'A', b: 'B' }]);
  });

  test('primitive and absent results pass as they are', () => {
    expect(frozenJsonCopy(undefined)).toBeUndefined();
    expect(frozenJsonCopy(null)).toBeNull();
    expect(frozenJsonCopy('s')).toBe('s');
    expect(frozenJsonCopy(false)).toBe(false);
    expect(frozenJsonCopy(2.5)).toBe(2.5);
    expect(Object.is(frozenJsonCopy(-0), 0)).toBe(true);
  });

  test('deepFreezeJson freezes a parsed value in place, 513 levels deep, and stops at what is frozen', () => {
    let deep: unknown = { leaf: [1] };
    for (let i = 0; i < 512; i++) deep = { next: deep };
    const parsed = JSON.parse(JSON.stringify(deep)) as unknown;
    expect(deepFreezeJson(parsed)).toBe(parsed);
    expect(isDeeplyFrozen(parsed)).toBe(true);
  });
});
