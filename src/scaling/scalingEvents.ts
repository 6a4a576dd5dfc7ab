import type { ErrorCode } from '../errors';
import type { CapabilityFigures } from '../orchestration/taskOrchestrator';

/** A scaling decision of a {@link ScalingManager}: hosts of `capability` go from `from` to `to`. */
export interface ScalingDecisionEvent {
  readonly type: 'scale_up' | 'scale_down';
  readonly capability: string;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  /** The figures the decision was taken on. */
  readonly figures: CapabilityFigures;
  /** The hosts stopped (scale_down). */
  readonly hostIds: readonly string[];
  /** Clock time, ms. */
  readonly at: number;
}

/** The hosts of a decision have started (`scale_up`) or stopped (`scale_down`): `hosts` of the capability run now. */
export interface ScalingCompletedEvent {
  readonly type: 'scaling_completed';
  readonly capability: string;
  readonly action: 'scale_up' | 'scale_down';
  /** Hosts of the capability not stopping, after the action. */
  readonly hosts: number;
  readonly at: number;
}

/** Something scaling could not do: read the figures, start or stop hosts. `error` is its description. */
export interface ScalingFailureEvent {
  readonly type: 'scaling_failed';
  readonly capability: string;
  readonly stage: 'sample' | 'scale_up' | 'scale_down';
  readonly error: string;
  /** The failure's code when it is a NeuroFluxError (`ERR_HOST_START`, `ERR_HOST_STOP`, or a launcher's own). */
  readonly code?: ErrorCode;
  readonly at: number;
}

/** Figures that were not finite non-negative numbers: nothing was decided on them. */
export interface ScalingFiguresRefusedEvent {
  readonly type: 'scaling_figures_refused';
  readonly capability: string;
  readonly reason: string;
  readonly at: number;
}

/** What a {@link ScalingManager} publishes on its `events$` (and the inspector shows). */
export type ScalingEvent = ScalingDecisionEvent | ScalingCompletedEvent | ScalingFailureEvent | ScalingFiguresRefusedEvent;
