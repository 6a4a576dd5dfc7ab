/**
 * Paired A/B of what `recordTaskOutcomes` pays to validate its argument: the check it does
 * (`parseTaskOutcomes`: by hand, `TaskOutcomeSchema` only for an outcome it refuses) against the parse it did before
 * (`TaskOutcomeSchema` per outcome, the array and `success` unchecked) and against a zod parse
 * of the whole argument (`TaskOutcomesSchema`). Batches of 55 outcomes (a 10 000-task DAG's
 * tick on 1 000 agents); ROUNDS (default 11) rounds, each arm in alternating order plus an
 * A/A control; CPU time via `process.cpuUsage()`; median per-round ratios to the old parse.
 *
 *   node --expose-gc -r @swc-node/register bench/profiles/swarmOutcomeValidationAB.ts
 */
import { parseTaskOutcomes } from '../../src/swarm/parseTaskOutcomes';
import { parseSwarmInput, TaskOutcomeSchema, TaskOutcomesSchema } from '../../src/swarm/model/swarmSchemas';
import type { TaskOutcome } from '../../src/swarm/model/swarmTypes';

type Outcomes = { outcome: TaskOutcome; success: boolean }[];
const batch: Outcomes = Array.from({ length: 55 }, (_, i) => ({
  outcome: { taskId: `task-${i}`, agentId: `agent${i % 1000}`, taskType: 'work', producerAgentIds: [`agent${(i * 7) % 1000}`, `agent${(i * 13) % 1000}`] },
  success: i % 10 !== 0,
}));
const BATCHES = 2000;

const arms: Record<string, (outcomes: Outcomes) => unknown> = {
  old: (outcomes) => outcomes.map(({ outcome, success }) => ({ outcome: parseSwarmInput(TaskOutcomeSchema, 'task outcome', outcome), success })),
  new: parseTaskOutcomes,
  wholeZod: (outcomes) => TaskOutcomesSchema.parse(outcomes),
  oldAgain: (outcomes) => outcomes.map(({ outcome, success }) => ({ outcome: parseSwarmInput(TaskOutcomeSchema, 'task outcome', outcome), success })),
};

function cpuOf(arm: (outcomes: Outcomes) => unknown): number {
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  for (let i = 0; i < BATCHES; i++) arm(batch);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / (BATCHES * batch.length);
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rounds = Number(process.env.ROUNDS ?? 11);
const names = Object.keys(arms);
const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (const name of names) cpuOf(arms[name]!);
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? names : [...names].reverse()) cpu[name]!.push(cpuOf(arms[name]!));
}
const ratio = (name: string): string => median(cpu[name]!.map((x, i) => x / cpu.old![i]!)).toFixed(3);
console.log(`µs per outcome, median: ${names.map((n) => `${n} ${(median(cpu[n]!) * 1000).toFixed(2)}`).join('  ')}`);
console.log(`ratio to old, per-round median: new ${ratio('new')}  wholeZod ${ratio('wholeZod')}  A/A ${ratio('oldAgain')}`);
