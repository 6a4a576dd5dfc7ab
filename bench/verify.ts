/**
 * Verification (issue 6): time and states explored to verify layered DAG workflows of 10,
 * 20, 30 and 50 tasks (5 per layer, 1–3 dependencies on the previous layer, 2 retries
 * each, one agent able to run them all), every built-in property checked, with the
 * reductions and without them (every interleaving, bounded). Target: 30 tasks verified in
 * under 2 s with reduction. A 5-task DAG, small enough to finish unreduced, gives an exact
 * ratio, and an ablation on it shows what each reduction contributes; 10-wide layers show
 * the cost of more tasks in flight at once.
 *
 * Issue 19 (agents with few slots, `--scarce-only` to run just these): the cases of the
 * issue, each with its target and the numbers before the changes; every run is cut
 * at 20 s by `timeLimitMs`.
 */
import { performance } from 'node:perf_hooks';
import { verifyWorkflow, type ReductionOptions, type VerificationResult, type VerifyWorkflowOptions, type Workflow } from '../src/verify';
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
  // Which bound stopped it, as the result's first note says ("... the maxStates bound" / "the timeLimitMs bound").
  const stoppedBy = /the (maxStates|timeLimitMs) bound/.exec(result.notes[0] ?? '')?.[1] ?? 'a bound';
  const verdict = result.complete ? result.status : `incomplete at ${fmt(result.statesExplored)} states (stopped by ${stoppedBy})`;
  return `${label.padEnd(44)} ${fmt(result.statesExplored).padStart(9)} states ${fmt(ms).padStart(8)} ms   ${verdict}`;
}

/** Layers of `width`; each task after the first layer depends on two of the layer before. */
function twoParentLayers(n: number, width: number, agents: Workflow['agents']): Workflow {
  const tasks = Array.from({ length: n }, (_, i) => {
    const layer = Math.floor(i / width);
    const k = i % width;
    const dependencies = layer === 0 ? [] : [`t${(layer - 1) * width + k}`, `t${(layer - 1) * width + ((k + 1) % width)}`];
    return { taskId: `t${i}`, requiredCapabilities: ['work'], dependencies, retryPolicy: { maxRetries: 2 } };
  });
  return { tasks, ...(agents && { agents }) };
}

function independentTasks(n: number, agents: Workflow['agents']): Workflow {
  return { tasks: Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'] })), ...(agents && { agents }) };
}

/** Each run of the scarce-slot cases stops here: without it a case can run for hours. */
const SCARCE_TIME_LIMIT_MS = 20_000;

/**
 * Issue 19: agents with few slots. "before" is what the verifier of commit 2db305b did on
 * this 2-core machine (measured once, by hand, with a 40 s cut-off: that code had no time limit).
 */
function scarceSlots(): void {
  const worker = (slots?: number) => ({ agentId: 'worker', capabilities: ['work'], ...(slots !== undefined && { maxConcurrentTasks: slots }) });
  const cases: { label: string; workflow: Workflow; maxStates?: number; invariants?: VerifyWorkflowOptions['invariants']; targetMs: number; before: string }[] = [
    { label: '30 tasks (2 parents), 1 agent × 5 slots', workflow: twoParentLayers(30, 5, [worker()]), targetMs: 2_000, before: '215 226 states, 15 182 ms, verified' },
    { label: '40 independent, 1 agent × 20 slots', workflow: independentTasks(40, [worker(20)]), targetMs: 2_000, before: '> 40 s, no result' },
    {
      label: '40 independent, 20 slots, --max-states 100',
      workflow: independentTasks(40, [worker(20)]),
      maxStates: 100,
      targetMs: 2_000,
      before: '> 40 s, no result (choices not counted)',
    },
    {
      label: '100 tasks (2 parents), 3 agents × 4 slots',
      workflow: twoParentLayers(
        100,
        5,
        [0, 1, 2].map((i) => ({ agentId: `a${i}`, capabilities: ['work'], maxConcurrentTasks: 4 })),
      ),
      targetMs: 10_000,
      before: '> 40 s, no result',
    },
    {
      // No target: a check reads states, so every fill and interleaving is explored (reduction 6 is off).
      label: '30 tasks, 1 × 5 slots, invariant reading t29',
      workflow: twoParentLayers(30, 5, [worker()]),
      invariants: { name: 't29 not timed out', reads: ['t29'], check: (s) => s.tasks.t29?.state !== 'timedOut' || 'timed out' },
      targetMs: Number.POSITIVE_INFINITY,
      before: '(no figure)',
    },
    {
      label: '1 000 independent, 5 agents × 10 slots',
      workflow: independentTasks(
        1_000,
        [0, 1, 2, 3, 4].map((i) => ({ agentId: `a${i}`, capabilities: ['work'], maxConcurrentTasks: 10 })),
      ),
      targetMs: 5_000,
      before: '> 40 s, no result',
    },
  ];
  for (const c of cases) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const result = verifyWorkflow(c.workflow, {
      timeLimitMs: SCARCE_TIME_LIMIT_MS,
      ...(c.maxStates !== undefined && { maxStates: c.maxStates }),
      ...(c.invariants !== undefined && { invariants: c.invariants }),
    });
    const ms = performance.now() - start;
    // CPU time beside wall time: on a shared machine the wall time is mostly other work's.
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1_000;
    const met = c.maxStates !== undefined ? ms < c.targetMs && result.status === 'incomplete' : ms < c.targetMs && result.complete;
    const target = Number.isFinite(c.targetMs) ? `target < ${fmt(c.targetMs)} ms ${met ? '✔' : '✘'}` : 'no target';
    // "before" is fixed text from an earlier run (commit 2db305b), not measured now.
    console.log(`${describe(c.label, { result, ms })} (cpu ${fmt(cpuMs)} ms)   (${target}; before, 2db305b in an earlier run: ${c.before})`);
  }
}

function main(): void {
  if (process.argv.includes('--scarce-only')) return scarceSlots();
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
    ['  partial-order only', { partialOrder: true, symmetry: false, forgetFinished: false, verdictsOnly: false }],
    ['  symmetry only', { partialOrder: false, symmetry: true, forgetFinished: false, verdictsOnly: false }],
    ['  one schedule (verdicts only)', { partialOrder: false, symmetry: false, forgetFinished: false, verdictsOnly: true }],
    ['  forget finished tasks only', { partialOrder: false, symmetry: false, forgetFinished: true, verdictsOnly: false }],
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
  if (!process.argv.includes('--no-scarce')) scarceSlots();
}

main();
