/**
 * Reduction 6's own fill (`balancerOrderOnly`: one way of filling free slots per step, for
 * built-in properties only). Its verdicts are checked by test/verifyDifferential.test.ts,
 * but a fill that leaves slots free changes no built-in verdict, so that test cannot see it
 * (review of issue 19, F3: a fill starting one task per step passed every suite). Here each
 * fill the reduced model makes, along random runs, must be one the runtime's scheduling
 * round could make with some queue order: maximal (no left-out queued task could start),
 * most urgent lane first within a capability class, and within the agents.
 */
import fc from 'fast-check';
import type { TaskInput } from '../src/orchestration/taskTypes';
import { TaskEventKind } from '../src/verify/taskAutomaton';
import { WorkflowModel } from '../src/verify/workflowModel';
import { parseWorkflow, type Workflow } from '../src/verify/workflowSchema';

const workflowArbitrary: fc.Arbitrary<{ workflow: Workflow; choices: number[] }> = fc
  .record({
    seeds: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 2, maxLength: 9 }),
    agents: fc.array(fc.record({ slots: fc.integer({ min: 1, max: 3 }), serves: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 3 }),
    choices: fc.array(fc.nat(10_000), { minLength: 30, maxLength: 30 }),
  })
  .map(({ seeds, agents, choices }) => {
    const tasks: TaskInput[] = seeds.map((seed, i) => ({
      taskId: `t${i}`,
      dependencies: Array.from({ length: i }, (_, j) => j)
        .filter((j) => (seed >> j) % 3 === 1)
        .map((j) => `t${j}`),
      retryPolicy: { maxRetries: seed % 3 },
      onDependencyFailure: (['fail', 'ignore', 'skip'] as const)[(seed >> 10) % 3] as 'fail' | 'ignore' | 'skip',
      priority: (['low', 'medium', 'high', 'critical'] as const)[(seed >> 12) % 4] as 'low' | 'medium' | 'high' | 'critical',
      requiredCapabilities: [['a'], ['b'], ['a', 'b'], []][(seed >> 14) % 4] as string[],
    }));
    const workflow: Workflow = {
      tasks,
      agents: agents.map(({ slots, serves }, k) => ({ agentId: `agent${k}`, capabilities: [['a'], ['b'], ['a', 'b']][serves] ?? [], maxConcurrentTasks: slots })),
    };
    return { workflow, choices };
  });

function runningPerClass(model: WorkflowModel, state: readonly number[]): number[] {
  const running = new Array<number>(model.capacity.classCount).fill(0);
  for (const t of model.tasks) if (model.phase(state, t.index) === 'running') running[t.capabilityClass] = (running[t.capabilityClass] as number) + 1;
  return running;
}

let fills = 0;
let startedSeveral = 0;

/** Why the fill from `before` to `after` is not one the runtime could make, or undefined. */
function fillProblem(model: WorkflowModel, before: readonly number[], after: readonly number[], started: readonly number[]): string | undefined {
  const running = runningPerClass(model, after);
  for (const i of started) {
    if (model.phase(before, i) !== 'queued' || model.phase(after, i) !== 'running') return `t${i} started but was not queued`;
  }
  // Within the agents: removing each started task leaves a set it can rejoin.
  for (const i of started) {
    const cls = (model.tasks[i] as { capabilityClass: number }).capabilityClass;
    const without = running.slice();
    without[cls] = (without[cls] as number) - 1;
    if (!model.capacity.canStart(without, cls)) return `t${i} started beyond the agents' slots`;
  }
  for (const t of model.tasks) {
    if (model.phase(after, t.index) !== 'queued' || !model.capacity.coverable[t.index]) continue;
    if (model.capacity.canStart(running, t.capabilityClass)) return `t${t.index} left queued beside a free capable slot`;
    // A less urgent task of the same class took a slot this one could have had.
    for (const i of started) {
      const u = model.tasks[i] as { capabilityClass: number; lane: number };
      if (u.capabilityClass === t.capabilityClass && u.lane > t.lane) return `t${i} (lane ${u.lane}) started ahead of t${t.index} (lane ${t.lane})`;
    }
  }
  return undefined;
}

describe("reduction 6's fill (one way of filling free slots)", () => {
  afterAll(() => {
    console.log(`fill in order: ${fills} fills checked, ${startedSeveral} starting several tasks`);
  });

  test('every fill along random runs is maximal, lane-ordered and within the agents', () => {
    fc.assert(
      fc.property(workflowArbitrary, ({ workflow, choices }) => {
        const parsed = parseWorkflow(workflow);
        const model = new WorkflowModel(parsed, parsed.agents, { cancellations: 'inFlight', agentLoss: true });
        model.balancerOrderOnly = true;
        const initial = model.tasks.map((t) => t.automaton.initial);
        const [start] = model.initial();
        if (!start) throw new Error('no initial state');
        const check = (before: readonly number[], after: readonly number[], started: readonly number[]) => {
          fills++;
          if (started.length > 1) startedSeveral++;
          const problem = fillProblem(model, before, after, started);
          if (problem) throw new Error(problem);
        };
        check(initial, start.state, start.started);
        let state = start.state;
        for (const choice of choices) {
          const moves = model.tasks.flatMap((t) => model.enabledKinds(state, t.index).map((kind) => ({ task: t.index, kind })));
          if (moves.length === 0) break;
          const move = moves[choice % moves.length] as { task: number; kind: TaskEventKind };
          const between = model.applyEnvironment(state, move.task, move.kind) as number[];
          const outcomes = model.apply(state, move.task, move.kind);
          expect(outcomes).toHaveLength(1);
          const outcome = outcomes[0] as { state: number[]; started: readonly number[] };
          check(between, outcome.state, outcome.started);
          state = outcome.state;
        }
      }),
      { seed: 19, numRuns: 400 },
    );
    // Not vacuous: many fills had several slots to fill at once.
    expect(startedSeveral).toBeGreaterThan(200);
  });
});
