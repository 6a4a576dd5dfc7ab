/** What a finished task tells each of its dependents. @internal */
export type DependencyEventType = 'DEPENDENCY_COMPLETED' | 'DEPENDENCY_FAILED';

/**
 * How a finished task's outcome reaches its dependents, in the orchestrator and in the
 * verifier's model: completed is `DEPENDENCY_COMPLETED`; failed, timed out and cancelled
 * are all `DEPENDENCY_FAILED` (each dependent's `onDependencyFailure` decides the rest).
 * @internal
 */
export function dependencyEventType(finalState: string): DependencyEventType {
  return finalState === 'completed' ? 'DEPENDENCY_COMPLETED' : 'DEPENDENCY_FAILED';
}
