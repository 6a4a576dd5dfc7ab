import { assign, fromPromise, setup } from 'xstate';
import { planCapacity, type CapacityPlan, type CapacitySample, type ParsedCapacityPolicy } from '../src/scaling/model/capacityPlan';

/** Input of an autoscaler actor: the capability it scales and its validated policy. */
export interface AutoscalerInput {
  readonly capability: string;
  readonly policy: ParsedCapacityPolicy;
}

export interface AutoscalerContext {
  readonly capability: string;
  readonly policy: ParsedCapacityPolicy;
  /** Clock time since which the capability has been calm (no task waiting, low utilisation); null when it is not. */
  calmSince: number | null;
  /** The last sample and what it decided. */
  sample: CapacitySample | null;
  plan: CapacityPlan | null;
  decisions: number;
  /** Scale-ups that failed in a row: the cooldown after each doubles (backoff), up to MAX_BACKOFF_MS. */
  failedStarts: number;
}

/** The longest wait after failed starts, ms. */
const MAX_BACKOFF_MS = 300_000;

/** The cooldown: the policy's, or after `n` failed starts in a row max(cooldown, 1 s) × 2^n, at most MAX_BACKOFF_MS. */
export function cooldownAfter(cooldownMs: number, failedStarts: number): number {
  if (failedStarts === 0) return cooldownMs;
  return Math.min(MAX_BACKOFF_MS, Math.max(cooldownMs, 1000) * 2 ** Math.min(failedStarts, 20));
}

/** Decision of a check, for the injected reporters. */
export interface AutoscalerDecision {
  readonly capability: string;
  readonly plan: Exclude<CapacityPlan, { action: 'hold' }>;
  readonly sample: CapacitySample;
}

const isUp = (plan: CapacityPlan | null): plan is Extract<CapacityPlan, { action: 'scale_up' }> => plan?.action === 'scale_up';
const isDown = (plan: CapacityPlan | null): plan is Extract<CapacityPlan, { action: 'scale_down' }> => plan?.action === 'scale_down';

/**
 * Scaling of one capability: every `checkInterval` it samples the figures (`sampleFigures`,
 * injected: the orchestrator's queue and load, the launcher's hosts), decides by the pure
 * {@link planCapacity}, and acts through the injected `startHosts` / `stopHosts`; after any
 * decision it holds still for the policy's cooldown, so that the hosts it started show in
 * the figures before the next one. A failed sample or action is reported and the checks go on;
 * after failed starts the cooldown doubles each time (backoff) until a start succeeds.
 */
export const autoscalerMachine = setup({
  types: {
    context: {} as AutoscalerContext,
    input: {} as AutoscalerInput,
    events: {} as { type: 'SCALING_STOPPED' },
  },
  actors: {
    /** Injected: the capability's figures and hosts now, with the clock time. */
    sampleFigures: fromPromise<CapacitySample, { capability: string }>(async () => {
      throw new Error('sampleFigures is provided by the ScalingManager');
    }),
    /** Injected: starts `count` hosts for the capability. */
    startHosts: fromPromise<void, { capability: string; count: number }>(async () => undefined),
    /** Injected: stops (drains) these hosts. */
    stopHosts: fromPromise<void, { capability: string; hostIds: readonly string[] }>(async () => undefined),
  },
  actions: {
    /** Injected: a decision was taken (published on the manager's `events$`). */
    reportDecision: (_, _params: AutoscalerDecision) => {},
    /** Injected: the hosts of a decision have started, or stopped. */
    reportCompleted: (_, _params: { capability: string; action: 'scale_up' | 'scale_down' }) => {},
    /** Injected: a sample, a start or a stop failed. */
    reportFailure: (_, _params: { capability: string; stage: 'sample' | 'scale_up' | 'scale_down'; error: unknown }) => {},
    /** Injected: a sample's figures were refused (not finite non-negative numbers). */
    reportRefusedFigures: (_, _params: { capability: string; reason: string }) => {},
  },
  guards: {
    scalesUp: ({ context }) => isUp(context.plan),
    scalesDown: ({ context }) => isDown(context.plan),
    figuresRefused: ({ context }) => context.plan?.action === 'hold' && context.plan.reason.startsWith('figures refused'),
  },
  delays: {
    checkInterval: 1000,
    cooldown: ({ context }) => cooldownAfter(context.policy.cooldownMs, context.failedStarts),
  },
}).createMachine({
  id: 'autoscaler',
  context: ({ input }) => ({ capability: input.capability, policy: input.policy, calmSince: null, sample: null, plan: null, decisions: 0, failedStarts: 0 }),
  initial: 'watching',
  on: { SCALING_STOPPED: '.stopped' },
  states: {
    watching: {
      after: { checkInterval: 'sampling' },
    },
    sampling: {
      invoke: {
        id: 'sampleFigures',
        src: 'sampleFigures',
        input: ({ context }) => ({ capability: context.capability }),
        onDone: {
          target: 'deciding',
          actions: assign(({ context, event }) => {
            const sample = event.output;
            const calmForMs = context.calmSince === null ? 0 : Math.max(0, sample.at - context.calmSince);
            const plan = planCapacity(sample, context.policy, calmForMs);
            const calmSince = plan.action === 'hold' && plan.calm ? (context.calmSince ?? sample.at) : null;
            return { sample, plan, calmSince };
          }),
        },
        onError: {
          target: 'watching',
          actions: { type: 'reportFailure', params: ({ context, event }) => ({ capability: context.capability, stage: 'sample' as const, error: event.error }) },
        },
      },
    },
    deciding: {
      always: [
        { guard: 'scalesUp', target: 'scalingUp' },
        { guard: 'scalesDown', target: 'scalingDown' },
        {
          guard: 'figuresRefused',
          target: 'watching',
          actions: {
            type: 'reportRefusedFigures',
            params: ({ context }) => ({ capability: context.capability, reason: context.plan?.action === 'hold' ? context.plan.reason : '' }),
          },
        },
        { target: 'watching' },
      ],
    },
    scalingUp: {
      entry: [
        assign({ decisions: ({ context }) => context.decisions + 1, calmSince: null }),
        {
          type: 'reportDecision',
          params: ({ context }) => ({ capability: context.capability, plan: context.plan as AutoscalerDecision['plan'], sample: context.sample as CapacitySample }),
        },
      ],
      invoke: {
        id: 'startHosts',
        src: 'startHosts',
        input: ({ context }) => {
          const plan = context.plan as Extract<CapacityPlan, { action: 'scale_up' }>;
          return { capability: context.capability, count: plan.to - plan.from };
        },
        onDone: {
          target: 'coolingDown',
          actions: [assign({ failedStarts: 0 }), { type: 'reportCompleted', params: ({ context }) => ({ capability: context.capability, action: 'scale_up' as const }) }],
        },
        onError: {
          target: 'coolingDown',
          actions: [
            assign({ failedStarts: ({ context }) => context.failedStarts + 1 }),
            { type: 'reportFailure', params: ({ context, event }) => ({ capability: context.capability, stage: 'scale_up' as const, error: event.error }) },
          ],
        },
      },
    },
    scalingDown: {
      entry: [
        assign({ decisions: ({ context }) => context.decisions + 1, calmSince: null }),
        {
          type: 'reportDecision',
          params: ({ context }) => ({ capability: context.capability, plan: context.plan as AutoscalerDecision['plan'], sample: context.sample as CapacitySample }),
        },
      ],
      invoke: {
        id: 'stopHosts',
        src: 'stopHosts',
        input: ({ context }) => ({ capability: context.capability, hostIds: (context.plan as Extract<CapacityPlan, { action: 'scale_down' }>).hostIds }),
        onDone: {
          target: 'coolingDown',
          actions: { type: 'reportCompleted', params: ({ context }) => ({ capability: context.capability, action: 'scale_down' as const }) },
        },
        onError: {
          target: 'coolingDown',
          actions: { type: 'reportFailure', params: ({ context, event }) => ({ capability: context.capability, stage: 'scale_down' as const, error: event.error }) },
        },
      },
    },
    coolingDown: {
      after: { cooldown: 'watching' },
    },
    stopped: { type: 'final' },
  },
});

export type AutoscalerMachine = typeof autoscalerMachine;
