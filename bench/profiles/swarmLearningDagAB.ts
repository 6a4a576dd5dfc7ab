/**
 * Paired A/B of what the swarm's task-outcome learning costs on the 10 000-task layered DAG
 * (`layeredDag(10_000, 100)` on 1 000 agents): the figures of docs/benchmarks.md "What
 * learning costs on a DAG" come from this.
 *
 *   node --expose-gc -r @swc-node/register bench/profiles/swarmLearningDagAB.ts
 *
 * One process, this checkout; the "old" arm swaps in, per run, the learning as it was before
 * ff893ec: one immer `produce` per batch (the machine's actions replaced) and a facade that
 * sends each `recordTaskOutcomes` call to the actor at once. The "new" arm is this tree as
 * it is: copy-on-write learning, outcomes held and flushed once per event-loop turn. Each
 * round runs old / new / old again (the A/A control), in alternating order, and measures the
 * CPU time (`process.cpuUsage()`, user + system) of one DAG run from submission until every
 * outcome is learned by the actor: `flushTaskOutcomes()` runs before the clock stops, so both
 * arms do the same work. ROUNDS (default 11) rounds; FLAT=1 adds 10 000 independent tasks per
 * arm. Prints the medians, the median per-round ratios and the actor steps per run. Not a
 * top-level bench: bench/run.ts runs every top-level bench/*.ts.
 */
import { produce } from 'immer';
import { assign } from 'xstate';
import { forceGc } from '../measure';
import { layeredDag } from '../workloads';
import { createNeuroFlux, type TaskInput } from '../../src';
import { swarmMachine } from '../../machines/swarm.machine';
import { learnFromTask, type TaskOutcomeBatch } from '../../src/swarm/model/outcomeLearning';
import { parseSwarmInput, TaskOutcomeSchema } from '../../src/swarm/model/swarmSchemas';
import type { SwarmState, TaskOutcome } from '../../src/swarm/model/swarmTypes';
import { NeuralSwarmNetwork } from '../../src/swarm/neuralSwarmNetwork';

type Outcomes = readonly { outcome: TaskOutcome; success: boolean }[];
interface Implementation {
  readonly actions: Record<string, unknown>;
  readonly recordTaskOutcomes: (this: NeuralSwarmNetwork, outcomes: Outcomes) => void;
}

const machineActions = (swarmMachine.implementations as unknown as { actions: Record<string, unknown> }).actions;
const network = NeuralSwarmNetwork.prototype as unknown as { recordTaskOutcomes: Implementation['recordTaskOutcomes'] };

const NEW: Implementation = {
  actions: { learnFromTask: machineActions.learnFromTask, learnFromTasks: machineActions.learnFromTasks },
  recordTaskOutcomes: network.recordTaskOutcomes,
};

const OLD: Implementation = {
  actions: {
    learnFromTask: assign(({ context }: { context: SwarmState }, params: { outcome: TaskOutcome; success: boolean }) =>
      produce(context, (draft) => {
        const now = Math.max(draft.now, params.outcome.at ?? draft.now);
        draft.now = now;
        learnFromTask(draft, params.outcome, params.success, now);
      }),
    ),
    // One produce per batch, as the machine did per TASK_OUTCOMES_OBSERVED event.
    learnFromTasks: assign(({ context }: { context: SwarmState }, params: { batches: readonly TaskOutcomeBatch[] }) =>
      params.batches.reduce(
        (state, batch) =>
          produce(state, (draft) => {
            const now = Math.max(draft.now, batch.at ?? draft.now);
            draft.now = now;
            for (const { outcome, success } of batch.outcomes) learnFromTask(draft, outcome, success, Math.max(now, outcome.at ?? now));
          }),
        context,
      ),
    ),
  },
  // Each call sent at once, as one TASK_OUTCOMES_OBSERVED event.
  recordTaskOutcomes(this: NeuralSwarmNetwork, outcomes: Outcomes): void {
    if (outcomes.length === 0) return;
    const parsed = outcomes.map(({ outcome, success }) => ({ outcome: parseSwarmInput(TaskOutcomeSchema, 'task outcome', outcome), success }));
    this.actor.send({ type: 'TASK_OUTCOMES_OBSERVED', outcomes: parsed, at: this.clock.now() });
  },
};

function use(implementation: Implementation): void {
  Object.assign(machineActions, implementation.actions);
  network.recordTaskOutcomes = implementation.recordTaskOutcomes;
}

interface Run {
  readonly cpu: number;
  readonly steps: number;
}

async function run(tasks: TaskInput[]): Promise<Run> {
  const nf = createNeuroFlux({ bus: { maxQueueSize: 100_000 } });
  for (let i = 0; i < 1000; i++) nf.orchestrator.registerAgent(`agent${i}`, { capabilities: ['work'], maxConcurrentTasks: 5, execute: () => undefined });
  await nf.start();
  let steps = 0;
  const subscription = nf.swarm.actor.subscribe(() => steps++);
  forceGc();
  const c0 = process.cpuUsage();
  const submitted = nf.orchestrator.submitWorkflow({ tasks });
  const records = await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
  // Equal work in both arms: every outcome learned by the actor before the clock stops.
  nf.swarm.flushTaskOutcomes();
  const c = process.cpuUsage(c0);
  subscription.unsubscribe();
  const counters = nf.swarm.actor.getSnapshot().context.counters;
  if (records.some((r) => r.status !== 'completed')) throw new Error('a task did not complete');
  if (counters.tasksCompleted !== tasks.length) throw new Error(`learned ${counters.tasksCompleted} of ${tasks.length}`);
  await nf.stop();
  return { cpu: (c.user + c.system) / 1e6, steps };
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const ratios = (a: readonly number[], b: readonly number[]): number => median(a.map((x, i) => x / b[i]!));
const independent = (n: number): TaskInput[] => Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'] }));

async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 11);
  const flat = process.env.FLAT === '1';
  const arms = { old: OLD, new: NEW, oldAgain: OLD } as const;
  const names = Object.keys(arms) as (keyof typeof arms)[];
  for (const implementation of [OLD, NEW]) {
    use(implementation);
    await run(layeredDag(2000, 100));
  }
  const dag: Record<string, number[]> = { old: [], new: [], oldAgain: [] };
  const flatCpu: Record<string, number[]> = { old: [], new: [], oldAgain: [] };
  const steps: Record<string, number[]> = { old: [], new: [], oldAgain: [] };
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      use(arms[name]);
      const result = await run(layeredDag(10_000, 100));
      dag[name]!.push(result.cpu);
      steps[name]!.push(result.steps);
      if (flat && name !== 'oldAgain') flatCpu[name]!.push((await run(independent(10_000))).cpu);
    }
    console.log(`round ${r}`, Object.fromEntries(names.map((n) => [n, `${dag[n]![r]!.toFixed(2)} s, ${steps[n]![r]} steps`])));
  }
  console.log(`DAG CPU s median: old ${median(dag.old!).toFixed(2)}  new ${median(dag.new!).toFixed(2)}  old again ${median(dag.oldAgain!).toFixed(2)}`);
  console.log(`DAG per-round ratio median: new/old ${ratios(dag.new!, dag.old!).toFixed(3)}  A/A old again/old ${ratios(dag.oldAgain!, dag.old!).toFixed(3)}`);
  console.log(`actor steps per DAG run, median: old ${median(steps.old!)}  new ${median(steps.new!)} (range ${Math.min(...steps.new!)}-${Math.max(...steps.new!)})`);
  if (flat) {
    console.log(`flat per-round ratio median: new/old ${ratios(flatCpu.new!, flatCpu.old!).toFixed(3)}`);
    console.log(`DAG/flat CPU per-round median: old ${ratios(flatCpu.old!, dag.old!).toFixed(2)}  new ${ratios(flatCpu.new!, dag.new!).toFixed(2)}`);
  }
}

void main();
