import type { ActorRefFrom } from 'xstate';
import type { orchestratorMachine } from '../../machines/orchestrator.machine';
import { NotRunningError, StandbyError } from '../errors';

type OrchestratorChart = ActorRefFrom<typeof orchestratorMachine>;
type ChartSnapshot = ReturnType<OrchestratorChart['getSnapshot']>;

/**
 * What the orchestrator's chart says of its lifecycle (`standby → activating → active →
 * stopping → stopped`), read from its snapshot, never from a flag beside it; and the two
 * waits on it, activation and stop. The facade makes one per orchestrator, once its chart
 * actor exists. Not on the per-task path: read per submission, registration or call.
 * @internal
 */
export class OrchestratorLifecycle {
  constructor(
    private readonly chart: OrchestratorChart,
    private readonly orchestratorId: string,
  ) {}

  /** Taking results, presence and submissions: the chart's `active` state. */
  get live(): boolean {
    const snapshot = this.chart.getSnapshot();
    return snapshot.status === 'active' && snapshot.matches('active');
  }

  /** Stopping or stopped (or ended with the runtime): the chart says so. */
  get halted(): boolean {
    const snapshot = this.chart.getSnapshot();
    return snapshot.status !== 'active' || snapshot.matches('stopping');
  }

  /** The error a call gets when the orchestrator is stopping or stopped, if it is. */
  haltedError(): NotRunningError | undefined {
    return this.halted ? new NotRunningError('orchestrator') : undefined;
  }

  /** Throws `NotRunningError` when stopping or stopped, `StandbyError` (naming the role) when not the active orchestrator. */
  assertActive(): void {
    if (this.halted) throw new NotRunningError('orchestrator');
    if (!this.live) {
      const role = this.chart.getSnapshot().context.role === 'disabled' ? 'disabled' : 'standby';
      throw new StandbyError(`orchestrator '${this.orchestratorId}'`, role);
    }
  }

  /**
   * Asks the chart to activate (a call during a takeover waits for the same one) and
   * resolves with `tasksRestored()` once it is `active`; rejects with the takeover's error
   * (back in `standby`) or `NotRunningError` (it stopped).
   */
  activate(tasksRestored: () => number): Promise<number> {
    if (this.halted) return Promise.reject(new NotRunningError('orchestrator'));
    const snapshot = this.chart.getSnapshot();
    if (snapshot.context.role === 'disabled') return Promise.reject(new StandbyError(`orchestrator '${this.orchestratorId}'`, 'disabled'));
    if (snapshot.matches('active')) return Promise.resolve(0);
    // From `standby` (again, after a takeover that failed) the chart starts the takeover.
    this.chart.send({ type: 'ACTIVATION_REQUESTED' });
    return new Promise<number>((resolve, reject) => {
      this.until((now) => {
        if (now.status === 'active' && now.matches('activating')) return false;
        if (now.status === 'active' && now.matches('active')) resolve(tasksRestored());
        else if (now.status === 'active' && now.matches('standby')) {
          // The store's own errors are Error instances; a store that throws another value still rejects with an Error.
          const error = now.context.activationError;
          reject(error instanceof Error ? error : new Error(String(error), { cause: error }));
        } else reject(new NotRunningError('orchestrator'));
        return true;
      });
    });
  }

  /**
   * Asks the chart to stop and resolves once it has ended. With the chart gone already (the
   * runtime's root ended it) `gone` releases at once what `stopping` and `stopped` would
   * have; `endedEarly` runs when the chart ends without reaching `stopped` (mid-flush).
   */
  stop(gone: () => void, endedEarly: () => void): Promise<void> {
    const snapshot = this.chart.getSnapshot();
    if (snapshot.status !== 'active') {
      gone();
      return Promise.resolve();
    }
    if (!snapshot.matches('stopping')) this.chart.send({ type: 'ORCHESTRATOR_STOPPED' });
    return new Promise<void>((resolve) => {
      this.until((now) => {
        if (now.status === 'active') return false;
        // Ended by the runtime before `stopped` (mid-flush).
        if (now.status !== 'done') endedEarly();
        resolve();
        return true;
      });
    });
  }

  /** Calls `settled` with the chart's snapshot now and on every change until it returns true (or the chart ends). */
  private until(settled: (snapshot: ChartSnapshot) => boolean): void {
    if (settled(this.chart.getSnapshot())) return;
    const subscription = this.chart.subscribe({
      next: () => {
        if (settled(this.chart.getSnapshot())) subscription.unsubscribe();
      },
      complete: () => settled(this.chart.getSnapshot()),
      error: () => settled(this.chart.getSnapshot()),
    });
  }
}
