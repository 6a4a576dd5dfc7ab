import { performance } from 'node:perf_hooks';
import { verifyWorkflow, type Workflow } from '../src/verify';
import { AgentCapacity } from '../src/verify/agentCapacity';
import { ExplorationBudget } from '../src/verify/explorationBudget';
import { parseWorkflow } from '../src/verify/workflowSchema';

/** n independent tasks on one agent with `slots` slots. */
function independent(n: number, slots: number): Workflow {
  return {
    tasks: Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'] })),
    agents: [{ agentId: 'worker', capabilities: ['work'], maxConcurrentTasks: slots }],
  };
}

afterEach(() => jest.restoreAllMocks());

describe('verification budget', () => {
  test('maxStates counts scheduling choices: 40 tasks competing for 20 slots stop within the bound', () => {
    for (const maxStates of [1, 10, 100, 1_000]) {
      const result = verifyWorkflow(independent(40, 20), { maxStates, invariants: () => true });
      expect(result.status).toBe('incomplete');
      expect(result.complete).toBe(false);
      expect(result.statesExplored).toBeLessThanOrEqual(maxStates);
      expect(result.notes[0]).toMatch(/^incomplete: explored \d+ states.*the maxStates bound/);
    }
  });

  test('with only built-in properties, 40 tasks on 20 slots verify, and a bound of 100 units still stops within it', () => {
    const verified = verifyWorkflow(independent(40, 20));
    expect(verified).toMatchObject({ status: 'verified', complete: true });
    expect(verified.notes.join('\n')).toMatch(/one way of filling free slots per step/);
    const bounded = verifyWorkflow(independent(40, 20), { maxStates: 100 });
    expect(bounded.status).toBe('incomplete');
    expect(bounded.statesExplored).toBeLessThanOrEqual(100);
  });

  test('a result within the bound is the same as without one', () => {
    const workflow = independent(4, 2);
    const free = verifyWorkflow(workflow);
    expect(free.status).toBe('verified');
    const bounded = verifyWorkflow(workflow, { maxStates: 10 * free.statesExplored + 10_000 });
    expect(bounded).toMatchObject({ status: 'verified', statesExplored: free.statesExplored, transitions: free.transitions });
  });

  test('timeLimitMs stops the search (clock advanced by each read) and says so', () => {
    let now = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => (now += 5));
    const progress: number[] = [];
    // An invariant that may read every task: every scheduling choice is explored (with only
    // built-in properties this workflow now verifies in a few hundred states).
    const result = verifyWorkflow(independent(40, 20), {
      invariants: () => true,
      maxStates: 10_000_000,
      timeLimitMs: 2_000,
      onProgress: (p) => progress.push(p.elapsedMs),
    });
    expect(result.status).toBe('incomplete');
    expect(result.notes[0]).toMatch(/the timeLimitMs bound after \d+ ms/);
    // The clock is read every few units of work: the limit is overrun by one read at most.
    expect(result.durationMs).toBeLessThanOrEqual(2_000 + 10);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((ms, i) => i === 0 || ms >= (progress[i - 1] as number) + 1_000)).toBe(true);
  });

  test('timeLimitMs covers building the capacity model (one clock read per augmenting path)', () => {
    // 50 capability classes, agents serving three each: max flow over 2 000 tasks before the
    // search starts. The clock moves 5 ms per read: the build alone would take 2 000 reads.
    let now = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => (now += 5));
    const workflow: Workflow = {
      tasks: Array.from({ length: 2_000 }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: [`c${i % 50}`] })),
      agents: Array.from({ length: 300 }, (_, k) => ({ agentId: `a${k}`, capabilities: [`c${k % 50}`, `c${(k * 7 + 3) % 50}`, `c${(k * 13 + 5) % 50}`], maxConcurrentTasks: 1 })),
    };
    const result = verifyWorkflow(workflow, { timeLimitMs: 200 });
    expect(result).toMatchObject({ status: 'incomplete', statesExplored: 0 });
    expect(result.notes.join('\n')).toMatch(/the timeLimitMs bound/);
    expect(result.notes.join('\n')).toMatch(/ran out before the first state/);
    expect(result.durationMs).toBeLessThanOrEqual(200 + 10);
  });

  test('AgentCapacity stops when told it is out of time, answering "does not fit"', () => {
    let reads = 0;
    const tasks = parseWorkflow({ tasks: Array.from({ length: 100 }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['w'] })) }).tasks;
    const capacity = new AgentCapacity(tasks, [{ agentId: 'a', capabilities: ['w'], maxConcurrentTasks: 100 }], () => ++reads <= 10);
    expect(capacity.interrupted).toBe(true);
    expect(capacity.unconstrained).toBe(false);
    expect(reads).toBe(11);
    expect(new AgentCapacity(tasks, [{ agentId: 'a', capabilities: ['w'], maxConcurrentTasks: 100 }]).unconstrained).toBe(true);
  });

  test('options are validated', () => {
    for (const timeLimitMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() => verifyWorkflow(independent(1, 1), { timeLimitMs })).toThrow(/timeLimitMs/);
    }
    expect(() => verifyWorkflow(independent(1, 1), { onProgress: 3 as never })).toThrow(/onProgress/);
    expect(() => verifyWorkflow(independent(1, 1), { maxStates: 0 })).toThrow(/maxStates/);
  });

  test('ExplorationBudget: units beyond the bound are refused, and every later spend too', () => {
    const budget = new ExplorationBudget(3, undefined);
    expect([budget.spend(), budget.spend(), budget.spend(), budget.spend(), budget.spend()]).toEqual([true, true, true, false, false]);
    expect(budget.exhausted).toBe('maxStates');
    expect(budget.work).toBe(3);
  });
});
