/**
 * The task table on its own (issue #16 split it out of TaskOrchestrator): rows, counters,
 * the transition/finish path, dependents, release batches and retention, driven through a
 * stand-in host (a manual clock, actors that record what they are sent).
 */
import { Subject } from 'rxjs';
import type { TaskMachineContext } from '../machines/task.machine';
import type { AgentPool } from '../src/orchestration/agentPool';
import type { Balancer } from '../src/orchestration/balancers';
import { RecordInterning } from '../src/orchestration/recordInterning';
import { newTaskRecord, taskEntry, type TaskEntry } from '../src/orchestration/taskEntry';
import type { TaskAttemptEvent, TaskEvent, TaskFinishedEvent } from '../src/orchestration/taskEvents';
import { TaskTable, type TaskActorSpec } from '../src/orchestration/taskTable';
import type { PersistedTask } from '../src/orchestration/orchestratorPersistence';
import { TaskInputSchema, type TaskInput, type TaskRecord, type TaskState } from '../src/orchestration/taskTypes';

interface RecordingActor {
  readonly id: string;
  readonly sent: { type: string; dependencyId?: string }[];
  send(event: { type: string; dependencyId?: string }): void;
}

function setup(options: { maxRecords?: number; whileSpawning?: (table: TaskTable, specs: readonly TaskActorSpec[]) => void; restoring?: boolean } = {}) {
  let now = 1_000;
  const actors = new Map<string, RecordingActor>();
  const released: string[][] = [];
  const submitted: number[] = [];
  const finished: TaskFinishedEvent[] = [];
  const finishedSubject = new Subject<TaskFinishedEvent>();
  finishedSubject.subscribe((event) => finished.push(event));
  const interning = new RecordInterning();
  const table: TaskTable = new TaskTable({
    clock: { now: () => now } as never,
    retention: { maxRecords: options.maxRecords ?? Infinity, maxAgeMs: Infinity },
    persistence: undefined,
    events: new Subject<TaskEvent>(),
    finished: finishedSubject,
    attempts: new Subject<TaskAttemptEvent>(),
    spawnActors: (specs) => {
      options.whileSpawning?.(table, specs);
      return specs.map(({ id }) => {
        const actor: RecordingActor = { id, sent: [], send: (event) => void actor.sent.push(event) };
        actors.set(id, actor);
        return actor as never;
      });
    },
    tasksSubmitted: (count) => void submitted.push(count),
    tasksFinished: (taskIds) => void released.push(taskIds),
    entryFor: (record) => {
      if (!options.restoring) throw new Error('not restoring here');
      return taskEntry(record, { name: 'default' } as Balancer, {} as AgentPool);
    },
  });
  const entry = (input: TaskInput): TaskEntry => {
    const parsed = TaskInputSchema.parse(input);
    const taskId = parsed.taskId as string;
    return taskEntry(newTaskRecord({ ...parsed, taskId, name: taskId }, now, interning), { name: 'default' } as Balancer, {} as AgentPool);
  };
  const move = (taskId: string, state: TaskState, agent: string | null = null) =>
    table.onTransition(
      { taskId, retryCount: 0, retryAt: null, assignedAgent: agent, lastError: null, endReason: state === 'completed' ? 'succeeded' : null } as unknown as TaskMachineContext,
      state,
    );
  return { table, actors, released, submitted, finished, entry, move, advance: (ms: number) => (now += ms) };
}

describe('TaskTable', () => {
  test('counters follow the transitions, and a completion adds its running time to the average', () => {
    const { table, entry, move, advance } = setup();
    table.insertTasks([entry({ taskId: 'a' }), entry({ taskId: 'b' })]);
    expect(table.figures()).toMatchObject({ tasksCreated: 2, pendingTasks: 2, runningTasks: 0 });
    move('a', 'queued');
    move('a', 'assigned', 'agent1');
    move('a', 'running', 'agent1');
    expect(table.figures()).toMatchObject({ pendingTasks: 1, runningTasks: 1 });
    advance(250);
    move('a', 'completed', 'agent1');
    expect(table.figures()).toMatchObject({ pendingTasks: 1, runningTasks: 0, tasksCompleted: 1, avgCompletionTime: 250 });
    expect(table.tasks.get('a')?.record).toMatchObject({ status: 'completed', assignedAgent: 'agent1', completedAt: 1_250, reason: 'succeeded' });
  });

  test('a finish reaches its dependents; one whose actor is still being spawned gets it once the actor exists', () => {
    // `a` finishes while the actors of `a` and `b` are being spawned (as an actor that fails at start does).
    const { table, actors, entry, move } = setup({
      whileSpawning: (_, specs) => {
        if (specs.some((s) => s.id === 'b')) move('a', 'failed');
      },
    });
    table.insertTasks([entry({ taskId: 'a' }), entry({ taskId: 'b', dependencies: ['a'] }), entry({ taskId: 'c', dependencies: ['a'] })]);
    expect(actors.get('b')?.sent).toEqual([{ type: 'DEPENDENCY_FAILED', dependencyId: 'a' }]);
    expect(actors.get('c')?.sent).toEqual([{ type: 'DEPENDENCY_FAILED', dependencyId: 'a' }]);
    // `a` was final once spawned: it holds no actor.
    expect(table.tasks.get('a')?.actor).toBeUndefined();
  });

  test('dependents spawned before the finish are told of completions after the burst, in one event each, and producersOf names who ran completed dependencies', async () => {
    const { table, actors, entry, move, finished } = setup();
    table.insertTasks([entry({ taskId: 'a' }), entry({ taskId: 'x' }), entry({ taskId: 'b', dependencies: ['a', 'x'] }), entry({ taskId: 'c', dependencies: ['a'] })]);
    move('a', 'running', 'agent7');
    move('a', 'completed', 'agent7');
    move('x', 'completed', 'agent8');
    expect(actors.get('b')?.sent).toEqual([]);
    await Promise.resolve();
    expect(actors.get('b')?.sent).toEqual([{ type: 'DEPENDENCY_COMPLETED', dependencyId: 'x', count: 2 }]);
    expect(actors.get('c')?.sent).toEqual([{ type: 'DEPENDENCY_COMPLETED', dependencyId: 'a', count: 1 }]);
    expect(table.producersOf(table.tasks.get('b')!.record)).toEqual(['agent7', 'agent8']);
    expect(finished.map((f) => [f.taskId, f.status, f.agentId])).toEqual([
      ['a', 'completed', 'agent7'],
      ['x', 'completed', 'agent8'],
    ]);
  });

  test('a failure reaches its dependents at once, after the completions held for them, in the order they happened', () => {
    const { table, actors, entry, move } = setup();
    table.insertTasks([entry({ taskId: 'a' }), entry({ taskId: 'x' }), entry({ taskId: 'b', dependencies: ['a', 'x'] })]);
    move('a', 'completed', 'agent7');
    move('x', 'failed', 'agent8');
    expect(actors.get('b')?.sent).toEqual([
      { type: 'DEPENDENCY_COMPLETED', dependencyId: 'a', count: 1 },
      { type: 'DEPENDENCY_FAILED', dependencyId: 'x' },
    ]);
  });

  test('the actors of tasks finished in one burst are released in one request, after the burst', async () => {
    const { table, entry, move, released, submitted } = setup();
    table.insertTasks([entry({ taskId: 'a' }), entry({ taskId: 'b' }), entry({ taskId: 'c' })]);
    expect(submitted).toEqual([3]);
    for (const id of ['a', 'b', 'c']) move(id, 'cancelled');
    expect(released).toEqual([]);
    await Promise.resolve();
    expect(released).toEqual([['a', 'b', 'c']]);
  });

  test('retention lets finished rows go, except a dependency of a task not finished yet', () => {
    const { table, entry, move } = setup({ maxRecords: 1 });
    table.insertTasks([entry({ taskId: 'dep' }), entry({ taskId: 'x' }), entry({ taskId: 'child', dependencies: ['dep'] })]);
    move('dep', 'completed');
    move('x', 'completed');
    // Two finished, one allowed: `dep` is the oldest but `child` still needs its result.
    expect([...table.tasks.keys()].sort()).toEqual(['child', 'dep', 'x']);
    // `child` finishes: `x` is past the limit, and `dep`, held until now, goes once unpinned.
    move('child', 'completed');
    expect([...table.tasks.keys()]).toEqual(['child']);
  });

  test('waiters of a task get a copy of its final record; answerAllWaiters answers the others with the record as it is', async () => {
    const { table, entry, move } = setup();
    table.insertTasks([entry({ taskId: 'a' }), entry({ taskId: 'b' })]);
    const a = table.tasks.get('a')!;
    const b = table.tasks.get('b')!;
    const got: string[] = [];
    (a.waiters ??= []).push((record) => got.push(`${record.taskId}:${record.status}`));
    (b.waiters ??= []).push((record) => got.push(`${record.taskId}:${record.status}`));
    move('a', 'completed');
    table.answerAllWaiters();
    expect(got).toEqual(['a:completed', 'b:pending']);
  });

  test('a waiter never gets the live row: changing what it got leaves the table as it was (on finish and in answerAllWaiters)', () => {
    const { table, entry, move } = setup();
    table.insertTasks([entry({ taskId: 'a' }), entry({ taskId: 'b' })]);
    const got = new Map<string, TaskRecord>();
    for (const id of ['a', 'b']) (table.tasks.get(id)!.waiters ??= []).push((record) => void got.set(id, record));
    move('a', 'completed');
    table.answerAllWaiters();
    for (const id of ['a', 'b']) {
      const row = table.tasks.get(id)!.record;
      const record = got.get(id)!;
      expect(record).not.toBe(row);
      expect(record).toEqual(row);
      record.status = 'failed';
      record.error = 'changed by a caller';
      expect([row.status, row.error]).toEqual([id === 'a' ? 'completed' : 'pending', null]);
    }
  });

  test('each transition to retrying counts one retry', () => {
    const { table, entry, move } = setup();
    table.insertTasks([entry({ taskId: 'a' })]);
    move('a', 'running', 'agent1');
    move('a', 'retrying');
    move('a', 'queued');
    move('a', 'retrying');
    expect(table.figures().retries).toBe(2);
  });

  test('waitingTasks counts a queued task until it leaves the queue (assigned)', () => {
    const { table, entry, move } = setup();
    table.insertTasks([entry({ taskId: 'a', requiredCapabilities: ['x'] }), entry({ taskId: 'b', requiredCapabilities: ['x'] })]);
    const waiting = table.waitingTasks(1_000);
    move('a', 'queued');
    move('b', 'queued');
    expect(waiting.figures('x', () => true).depth).toBe(2);
    move('a', 'assigned', 'agent1');
    expect(waiting.figures('x', () => true).depth).toBe(1);
    move('b', 'cancelled');
    expect(waiting.figures('x', () => true).depth).toBe(0);
  });

  test('when spawning the actors throws, the chunk is rolled back: rows, counters and pins of its dependencies', () => {
    let refuse = false;
    const { table, entry, move } = setup({
      maxRecords: 1,
      whileSpawning: () => {
        if (refuse) throw new Error('system id taken');
      },
    });
    table.insertTasks([entry({ taskId: 'dep' }), entry({ taskId: 'x' })]);
    move('dep', 'completed');
    const before = table.figures();
    refuse = true;
    expect(() => table.insertTasks([entry({ taskId: 'child', dependencies: ['dep'] })])).toThrow('system id taken');
    refuse = false;
    expect(table.tasks.has('child')).toBe(false);
    expect(table.figures()).toEqual(before);
    // `dep` is no longer pinned by `child`: with one record allowed, it goes once `x` finishes.
    move('x', 'completed');
    expect([...table.tasks.keys()]).toEqual(['x']);
  });

  test('restoreTask counts what it restores: a finished task by its status, an open one as pending again', () => {
    const { table, entry } = setup({ restoring: true });
    const done = { ...entry({ taskId: 'done' }).record, state: 'completed' as const, status: 'completed' as const, completedAt: 900 };
    const open = { ...entry({ taskId: 'open' }).record, state: 'running' as const, status: 'running' as const, assignedAgent: 'agent1' };
    const live: TaskEntry[] = [];
    expect(table.restoreTask({ record: done, balancer: null } as PersistedTask, live)).toBe(true);
    expect(table.restoreTask({ record: open, balancer: null } as PersistedTask, live)).toBe(true);
    expect(table.restoreTask({ record: open, balancer: null } as PersistedTask, live)).toBe(false);
    expect(live.map((e) => e.record.taskId)).toEqual(['open']);
    expect(table.figures()).toMatchObject({ tasksCreated: 2, tasksCompleted: 1, pendingTasks: 1, runningTasks: 0 });
  });
});
