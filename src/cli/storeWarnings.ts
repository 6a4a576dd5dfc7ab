import type { Subscription } from 'rxjs';
import type { NeuroFlux } from '../runtime/createNeuroFlux';
import type { SnapshotWriterProblem } from '../store/snapshotWriter';

/** One warning line for a store problem (no trailing newline). @internal */
export function storeProblemLine(component: string, problem: SnapshotWriterProblem): string {
  switch (problem.kind) {
    case 'failing':
      return `warning: ${component} store keeps failing (${problem.consecutiveFailures} writes in a row, key '${problem.key}'): ${problem.error}`;
    case 'recovered':
      return `${component} store works again (key '${problem.key}', after ${problem.failedWrites} failed writes)`;
    case 'repaired':
      return `warning: ${component} state was not JSON; written with null at ${problem.replaced.map((r) => r.path || '(value)').join(', ')} (key '${problem.key}')`;
  }
}

/**
 * Writes a line to `writeErr` whenever the orchestrator's or the conflict engine's store keeps
 * failing, recovers, or had a non-JSON state repaired: a run whose state silently stops
 * being saved would look healthy until the restart that finds nothing. Returns the
 * unsubscribe.
 * @internal
 */
export function warnOnStoreProblems(nf: Pick<NeuroFlux, 'orchestrator' | 'conflicts'>, writeErr: (text: string) => void): () => void {
  const subscriptions: Subscription[] = [
    nf.orchestrator.events$.subscribe((event) => {
      if (event.type === 'store_problem') writeErr(`${storeProblemLine('orchestrator', event.problem)}\n`);
    }),
    nf.conflicts.events$.subscribe((event) => {
      if (event.type === 'STORE_PROBLEM') writeErr(`${storeProblemLine('conflict engine', event.problem)}\n`);
    }),
  ];
  return () => {
    for (const subscription of subscriptions) subscription.unsubscribe();
  };
}
