import { performance } from 'node:perf_hooks';

/** How far a verification has got: what `onProgress` receives about once a second. */
export interface VerificationProgress {
  /** Distinct states stored so far (after reduction). */
  readonly statesExplored: number;
  /** Units of work spent: states stored plus scheduling choices tried. */
  readonly work: number;
  readonly elapsedMs: number;
}

/** Why an exploration stopped early. */
export type BudgetLimit = 'maxStates' | 'timeLimitMs';

/** Clock reads between two looks at the deadline: a unit of work costs microseconds at most. */
const CLOCK_EVERY = 16;
const PROGRESS_EVERY_MS = 1000;

/**
 * The work an exploration may do. Every unit counts against `maxWork`: a state stored, a
 * scheduling choice tried while filling free slots; so a search bounded by 100 states
 * does about 100 units of work, however many tasks compete for how many slots. The clock
 * is read every few units, so a time limit is overrun by at most a few units.
 * @internal
 */
export class ExplorationBudget {
  /** Units spent. */
  work = 0;
  /** Distinct states stored (reported with progress). */
  states = 0;
  /** Set once the budget is spent; every later `spend` refuses. */
  exhausted: BudgetLimit | undefined;
  private readonly deadline: number;
  private nextProgressAt: number;
  /** The next multiple of `CLOCK_EVERY` units, where the clock is read. */
  private nextClockAt = CLOCK_EVERY;

  constructor(
    readonly maxWork: number,
    readonly timeLimitMs: number | undefined,
    private readonly onProgress?: (progress: VerificationProgress) => void,
    readonly startedAt = performance.now(),
  ) {
    this.deadline = timeLimitMs === undefined ? Number.POSITIVE_INFINITY : startedAt + timeLimitMs;
    this.nextProgressAt = startedAt + PROGRESS_EVERY_MS;
  }

  /** Spends `units`; false (and from then on always false) once the budget is exhausted. */
  spend(units = 1): boolean {
    if (this.exhausted) return false;
    if (this.work + units > this.maxWork) {
      this.exhausted = 'maxStates';
      return false;
    }
    this.work += units;
    // Integer comparison, not Math.floor: a global read per unit is slow under jest's vm context.
    if (this.work >= this.nextClockAt) {
      this.nextClockAt = this.work - (this.work % CLOCK_EVERY) + CLOCK_EVERY;
      return this.checkClock();
    }
    return true;
  }

  /** Reads the clock now (for work done outside `spend`, e.g. before the search starts). */
  checkClock(): boolean {
    if (this.exhausted) return false;
    const now = performance.now();
    if (now >= this.deadline) {
      this.exhausted = 'timeLimitMs';
      return false;
    }
    if (this.onProgress && now >= this.nextProgressAt) {
      this.nextProgressAt = now + PROGRESS_EVERY_MS;
      this.onProgress({ statesExplored: this.states, work: this.work, elapsedMs: now - this.startedAt });
    }
    return true;
  }
}
