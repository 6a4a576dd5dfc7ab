import { assign, fromCallback, fromPromise, setup, type EventObject } from 'xstate';
import {
  ConflictStatus,
  ConsensusAlgorithm,
  EscalationReason,
  ResolutionStrategy,
  type Conflict,
  type ConflictVerdict,
  type HumanDecision,
  type Vote,
} from '../src/conflict/conflictTypes';
import { ABSTENTION_STAKE } from '../src/conflict/stakes';
import { strategyNeedsVotes, tallyConflict, type ExpertAnswer, type TallyInput } from '../src/conflict/strategies';

/** What the engine gives a conflict actor when it spawns it. */
export interface ConflictMachineInput {
  readonly conflict: Conflict;
  /** Milliseconds from spawn to the conflict's resolution deadline. */
  readonly deadlineMs: number;
  /** How long voters (and the expert) have to answer. */
  readonly voteTimeoutMs: number;
  readonly confidenceThreshold: number;
  readonly executionThreshold: number;
}

/** @internal */
export interface ConflictMachineContext extends ConflictMachineInput {
  strategy: ResolutionStrategy | null;
  algorithm: ConsensusAlgorithm | null;
  /** Clock time at which resolution was requested (stamps timeout abstentions). */
  requestedAt: number;
  /** Stakes of the involved agents for this conflict type, fixed when resolution starts. */
  stakes: Readonly<Record<string, number>>;
  expertId: string | null;
  /** Voters not heard from yet. */
  awaitedVoters: readonly string[];
  votes: readonly Vote[];
  expertAnswer: ExpertAnswer | null;
  humanDecision: HumanDecision | null;
  verdict: ConflictVerdict | null;
}

/** Events a conflict actor understands. */
export type ConflictMachineEvent =
  | {
      type: 'RESOLUTION_REQUESTED';
      strategy: ResolutionStrategy;
      algorithm: ConsensusAlgorithm;
      requestedAt: number;
      stakes: Readonly<Record<string, number>>;
      expertId: string | null;
    }
  /** A voter answered, or abstained (decision null), e.g. because its request timed out. */
  | { type: 'VOTE_RECEIVED'; vote: Vote }
  | { type: 'HUMAN_DECISION_SUBMITTED'; decision: HumanDecision };

/** Input of the vote collector: ask each voter, send back one `VOTE_RECEIVED` per voter. */
export interface CollectVotesInput {
  readonly conflict: Conflict;
  readonly voters: readonly string[];
  readonly stakes: Readonly<Record<string, number>>;
  readonly timeoutMs: number;
}

/** Input of the expert consultation: resolves with the expert's answer, or null. */
export interface ConsultExpertInput {
  readonly conflict: Conflict;
  readonly expertId: string | null;
  readonly timeoutMs: number;
}

/** Parameters of the effects run when a conflict ends. */
export interface ConflictOutcomeParams {
  readonly conflict: Conflict;
  readonly verdict: ConflictVerdict;
  readonly votes: readonly Vote[];
}

/**
 * One conflict, from detection to its end. Pure: asking voters, consulting the expert,
 * executing a decision and broadcasting an escalation are injected by the engine
 * (`collectVotes`, `consultExpert`, `executeDecision`, `escalate`); the tally is the pure
 * `tallyConflict`, invoked so that its outcomes are transitions of their own. Timers are `after` delays on the system clock: the resolution deadline
 * (from the context, running from detection) and the vote window. Reaching the deadline
 * while open escalates; `escalated` is final, so it happens exactly once.
 */
export const conflictMachine = setup({
  types: {
    context: {} as ConflictMachineContext,
    input: {} as ConflictMachineInput,
    events: {} as ConflictMachineEvent,
  },
  actors: {
    /** Injected: asks each voter (bus request or registered vote function). */
    collectVotes: fromCallback<EventObject, CollectVotesInput>(() => {}),
    /** Injected: asks the expert over the bus (`expert_resolution`). */
    consultExpert: fromPromise<ExpertAnswer | null, ConsultExpertInput>(async () => null),
    /** The pure tally, run as an actor so that `tallying` is a state of its own with drawn outcomes. */
    tally: fromPromise<ConflictVerdict, TallyInput>(async ({ input }) => tallyConflict(input)),
  },
  actions: {
    /** Injected: sends the decision as a command when the verdict says execute. */
    executeDecision: (_, _params: ConflictOutcomeParams) => {},
    /** Injected: broadcasts `conflict_escalation`. */
    escalate: (_, _params: ConflictOutcomeParams) => {},
    recordRequest: assign((_, params: Extract<ConflictMachineEvent, { type: 'RESOLUTION_REQUESTED' }>) => ({
      strategy: params.strategy,
      algorithm: params.algorithm,
      requestedAt: params.requestedAt,
      stakes: params.stakes,
      expertId: params.expertId,
    })),
    awaitEveryVoter: assign(({ context }) => ({ awaitedVoters: context.conflict.involvedAgents })),
    recordVote: assign(({ context }, params: { vote: Vote }) => ({
      votes: [...context.votes, params.vote],
      awaitedVoters: context.awaitedVoters.filter((id) => id !== params.vote.agentId),
    })),
    recordTimeoutAbstentions: assign(({ context }) => ({
      votes: [
        ...context.votes,
        ...context.awaitedVoters.map(
          (agentId): Vote => ({
            agentId,
            decision: null,
            confidence: 0,
            reasoning: 'vote timeout',
            timestamp: context.requestedAt + context.voteTimeoutMs,
            stake: ABSTENTION_STAKE,
          }),
        ),
      ],
      awaitedVoters: [],
    })),
    recordExpertAnswer: assign((_, params: { answer: ExpertAnswer | null }) => ({ expertAnswer: params.answer })),
    recordHumanDecision: assign((_, params: { decision: HumanDecision }) => ({ humanDecision: params.decision })),
    recordVerdict: assign((_, params: { verdict: ConflictVerdict }) => ({ verdict: params.verdict })),
    recordTallyFailure: assign((_, params: { error: unknown }) => ({
      verdict: {
        status: 'escalated',
        reason: EscalationReason.INTERNAL_ERROR,
        detail: `tally failed: ${params.error instanceof Error ? params.error.message : String(params.error)}`,
        result: null,
      } satisfies ConflictVerdict,
    })),
    recordDeadlinePassed: assign(() => ({
      verdict: {
        status: 'escalated',
        reason: EscalationReason.DEADLINE_PASSED,
        detail: 'the resolution deadline passed before the conflict was resolved',
        result: null,
      } satisfies ConflictVerdict,
    })),
  },
  guards: {
    needsVotes: (_, params: { strategy: ResolutionStrategy; conflict: Conflict }) =>
      strategyNeedsVotes(params.strategy, params.conflict.conflictType),
    needsExpert: (_, params: { strategy: ResolutionStrategy }) => params.strategy === ResolutionStrategy.EXPERT_PRECEDENCE,
    needsHuman: (_, params: { strategy: ResolutionStrategy }) => params.strategy === ResolutionStrategy.HUMAN_INTERVENTION,
    isAwaitedVote: ({ context }, params: { vote: Vote }) => context.awaitedVoters.includes(params.vote.agentId),
    isLastAwaitedVote: ({ context }, params: { vote: Vote }) =>
      context.awaitedVoters.length === 1 && context.awaitedVoters[0] === params.vote.agentId,
    isResolved: (_, params: { verdict: ConflictVerdict }) => params.verdict.status === 'resolved',
  },
  delays: {
    resolutionDeadline: ({ context }) => Math.max(0, context.deadlineMs),
    voteTimeout: ({ context }) => context.voteTimeoutMs,
  },
}).createMachine({
  id: 'conflict',
  context: ({ input }) => ({
    ...input,
    strategy: null,
    algorithm: null,
    requestedAt: 0,
    stakes: {},
    expertId: null,
    awaitedVoters: [],
    votes: [],
    expertAnswer: null,
    humanDecision: null,
    verdict: null,
  }),
  initial: 'open',
  states: {
    open: {
      after: {
        resolutionDeadline: { target: 'escalated', actions: 'recordDeadlinePassed' },
      },
      initial: 'detected',
      states: {
        detected: {
          on: {
            RESOLUTION_REQUESTED: [
              {
                guard: { type: 'needsVotes', params: ({ context, event }) => ({ strategy: event.strategy, conflict: context.conflict }) },
                target: 'collectingVotes',
                actions: { type: 'recordRequest', params: ({ event }) => event },
              },
              {
                guard: { type: 'needsExpert', params: ({ event }) => ({ strategy: event.strategy }) },
                target: 'consultingExpert',
                actions: { type: 'recordRequest', params: ({ event }) => event },
              },
              {
                guard: { type: 'needsHuman', params: ({ event }) => ({ strategy: event.strategy }) },
                target: 'awaitingHumanDecision',
                actions: { type: 'recordRequest', params: ({ event }) => event },
              },
              { target: 'tallying', actions: { type: 'recordRequest', params: ({ event }) => event } },
            ],
          },
        },
        collectingVotes: {
          entry: 'awaitEveryVoter',
          invoke: {
            id: 'voters',
            src: 'collectVotes',
            input: ({ context }) => ({
              conflict: context.conflict,
              voters: context.awaitedVoters,
              stakes: context.stakes,
              timeoutMs: context.voteTimeoutMs,
            }),
          },
          on: {
            VOTE_RECEIVED: [
              {
                guard: { type: 'isLastAwaitedVote', params: ({ event }) => ({ vote: event.vote }) },
                target: 'tallying',
                actions: { type: 'recordVote', params: ({ event }) => ({ vote: event.vote }) },
              },
              {
                guard: { type: 'isAwaitedVote', params: ({ event }) => ({ vote: event.vote }) },
                actions: { type: 'recordVote', params: ({ event }) => ({ vote: event.vote }) },
              },
            ],
          },
          after: {
            voteTimeout: { target: 'tallying', actions: 'recordTimeoutAbstentions' },
          },
        },
        consultingExpert: {
          invoke: {
            id: 'expert',
            src: 'consultExpert',
            input: ({ context }) => ({ conflict: context.conflict, expertId: context.expertId, timeoutMs: context.voteTimeoutMs }),
            onDone: { target: 'tallying', actions: { type: 'recordExpertAnswer', params: ({ event }) => ({ answer: event.output }) } },
            onError: { target: 'tallying', actions: { type: 'recordExpertAnswer', params: () => ({ answer: null }) } },
          },
          after: {
            voteTimeout: 'tallying',
          },
        },
        awaitingHumanDecision: {
          on: {
            HUMAN_DECISION_SUBMITTED: {
              target: 'tallying',
              actions: { type: 'recordHumanDecision', params: ({ event }) => ({ decision: event.decision }) },
            },
          },
        },
        tallying: {
          invoke: {
            id: 'tally',
            src: 'tally',
            input: ({ context }): TallyInput => ({
              conflict: context.conflict,
              strategy: context.strategy ?? ResolutionStrategy.VOTING_CONSENSUS,
              algorithm: context.algorithm ?? ConsensusAlgorithm.WEIGHTED_CONSENSUS,
              votes: context.votes,
              stakes: context.stakes,
              expertAnswer: context.expertAnswer,
              humanDecision: context.humanDecision,
              confidenceThreshold: context.confidenceThreshold,
              executionThreshold: context.executionThreshold,
            }),
            onDone: [
              {
                guard: { type: 'isResolved', params: ({ event }) => ({ verdict: event.output }) },
                target: '#conflict.resolved',
                actions: { type: 'recordVerdict', params: ({ event }) => ({ verdict: event.output }) },
              },
              {
                target: '#conflict.escalated',
                actions: { type: 'recordVerdict', params: ({ event }) => ({ verdict: event.output }) },
              },
            ],
            onError: {
              target: '#conflict.escalated',
              actions: { type: 'recordTallyFailure', params: ({ event }) => ({ error: event.error }) },
            },
          },
        },
      },
    },
    resolved: {
      type: 'final',
      entry: {
        type: 'executeDecision',
        params: ({ context }) => ({ conflict: context.conflict, verdict: context.verdict as ConflictVerdict, votes: context.votes }),
      },
    },
    escalated: {
      type: 'final',
      entry: {
        type: 'escalate',
        params: ({ context }) => ({ conflict: context.conflict, verdict: context.verdict as ConflictVerdict, votes: context.votes }),
      },
    },
  },
});

export type ConflictMachine = typeof conflictMachine;

/**
 * The conflict status of a conflict actor's state value.
 *
 * @example
 * ```ts
 * conflictStatusOf(actor.getSnapshot().value); // 'resolving'
 * ```
 */
export function conflictStatusOf(value: unknown): ConflictStatus {
  if (value === 'resolved') return ConflictStatus.RESOLVED;
  if (value === 'escalated') return ConflictStatus.ESCALATED;
  const phase = (value as { open?: string } | null)?.open;
  if (phase === 'detected') return ConflictStatus.DETECTED;
  if (phase === 'awaitingHumanDecision') return ConflictStatus.AWAITING_HUMAN;
  return ConflictStatus.RESOLVING;
}
