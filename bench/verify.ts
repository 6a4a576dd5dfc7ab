/**
 * Verification (issue 6): time and states explored to verify layered DAG workflows of 10,
 * 20, 30 and 50 tasks (5 per layer, 1–3 dependencies on the previous layer, 2 retries
 * each, one agent able to run them all), every built-in property checked, with the
 * reductions and without them (every interleaving, bounded). Target: 30 tasks verified in
 * under 2 s with reduction. A 5-task DAG, small enough to finish unreduced, gives an exact
 * ratio, and an ablation on it shows what each reduction contributes; 10-wide layers show
 * the cost of more tasks in flight at once.
 */
import { performance } from 'node:perf_hooks';
import { verifyWorkflow, type ReductionOptions, type VerificationResult, type Workflow } from '../src/verify';
import { fmt } from './measure';
import { layeredDag } from './workloads';

/** Unreduced runs stop here (the 5-task one gets twice as much, enough to finish). */
const UNREDUCED_BOUND = 250_000;

function layeredWorkflow(n: number, width: number): Workflow {
  const tasks = layeredDag(n, width, { retryPolicy: { maxRetries: 2 } });
  return { tasks, agents: [{ agentId: 'worker', capabilities: ['work'], maxConcurrentTasks: n }] };
}

function run(workflow: Workflow, reduction: boolean | ReductionOptions, maxStates?: number): { result: VerificationResult; ms: number } {
  const start = performance.now();
  const result = verifyWorkflow(workflow, { reduction, ...(maxStates !== undefined && { maxStates }) });
  return { result, ms: performance.now() - start };
}

function describe(label: string, { result, ms }: { result: VerificationResult; ms: number }): string {
  const verdict = result.complete ? result.status : `incomplete (bound ${fmt(result.statesExplored)})`;
  return `${label.padEnd(44)} ${fmt(result.statesExplored).padStart(9)} states ${fmt(ms).padStart(8)} ms   ${verdict}`;
}

function main(): void {
  run(layeredWorkflow(10, 5), true); // warm-up (JIT, automaton caches are per run)
  const small = layeredWorkflow(5, 5);
  const smallReduced = run(small, true);
  const smallFull = run(small, false, 2 * UNREDUCED_BOUND);
  console.log(describe('5 tasks, with reduction', smallReduced));
  console.log(describe('5 tasks, without reduction', smallFull));
  if (smallFull.result.complete) {
    console.log(`  reduction factor on 5 tasks: ${fmt(smallFull.result.statesExplored / smallReduced.result.statesExplored)}× fewer states`);
  }
  const ablation: [string, ReductionOptions][] = [
    ['  partial-order only', { partialOrder: true, symmetry: false, forgetFinished: false }],
    ['  symmetry only', { partialOrder: false, symmetry: true, forgetFinished: false }],
    ['  forget finished tasks only', { partialOrder: false, symmetry: false, forgetFinished: true }],
  ];
  for (const [label, reduction] of ablation) console.log(describe(`5 tasks,${label}`, run(small, reduction, UNREDUCED_BOUND)));
  for (const n of [10, 20, 30, 50]) {
    const workflow = layeredWorkflow(n, 5);
    const reduced = run(workflow, true);
    console.log(describe(`${n} tasks, with reduction`, reduced) + (n === 30 ? `   (target < 2 000 ms ${reduced.ms < 2000 ? '✔' : '✘'})` : ''));
    console.log(describe(`${n} tasks, without reduction`, run(workflow, false, UNREDUCED_BOUND)));
  }
  // Wider layers mean more tasks in flight at once: more outcome combinations to keep.
  for (const n of [30, 50]) console.log(describe(`${n} tasks, 10 per layer, with reduction`, run(layeredWorkflow(n, 10), true)));
}

main();
