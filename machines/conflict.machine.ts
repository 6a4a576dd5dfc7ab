import { assign, emit, fromCallback, fromPromise, not, setup, type EventObject } from 'xstate';
import {
  ConflictStatus,
  ConsensusAlgorithm,
  EscalationReason,
  ResolutionStrategy,
  type Conflict,
  type ConflictVerdict,
  HumanDecisionSchema,
  VoteSchema,
  type HumanDecision,
  type Vote,
} from '../src/conflict/model/conflictTypes';
import { ABSTENTION_STAKE, computeStake } from '../src/conflict/model/stakes';
import { strategyNeedsVotes, tallyConflict, type ExpertAnswer, type TallyInput } from '../src/conflict/model/strategies';

/** Where an open conflict can be: the substates of `open`. */
export const CONFLICT_PHASES = ['detected', 'collectingVotes', 'consultingExpert', 'awaitingHumanDecision', 'tallying'] as const;
/** Where an open conflict is. */
export type ConflictPhase = (typeof CONFLICT_PHASES)[number];

/**
 * Where a conflict restored from a store picks up: the phase it was in and what it had
 * gathered. Its actor starts in `detected` and moves straight to that phase (asking only
 * the voters not heard from yet), or escalates at once if its deadline has passed.
 */
export interface ConflictResume {
  readonly phase: ConflictPhase;
  readonly strategy: ResolutionStrategy | null;
  readonly algorithm: ConsensusAlgorithm | null;
  readonly requestedAt: number;
  readonly stakes: Readonly<Record<string, number>>;
  readonly expertId: string | null;
  readonly votes: readonly Vote[];
  readonly expertAnswer: ExpertAnswer | null;
  readonly humanDecision: HumanDecision | null;
}

/** What the engine gives a conflict actor when it spawns it. */
export interface ConflictMachineInput {
  readonly conflict: Conflict;
  /**
   * Milliseconds from spawn to the conflict's resolution deadline (zero or less: already
   * past). The engine provides the `resolutionDeadline` delay from the absolute
   * `conflict.resolutionDeadline` and its clock; this is the machine's own default.
   */
  readonly deadlineMs: number;
  /** How long voters (and the expert) have to answer, from `requestedAt`. */
  readonly voteTimeoutMs: number;
  readonly confidenceThreshold: number;
  readonly executionThreshold: number;
  /** Set when the conflict is restored from a store. */
  readonly resume?: ConflictResume;
}

/** @internal */
export interface ConflictMachineContext extends Omit<ConflictMachineInput, 'resume'> {
  /** The phase a restored conflict resumes in; null for a conflict reported in this process. */
  resumePhase: ConflictPhase | null;
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
  /**
   * A voter answered, or abstained (decision null), e.g. because its request timed out. The
   * vote's `stake` is not used: the voter weighs what `context.stakes` fixed for it when the
   * resolution was requested (an abstention: 0.1).
   */
  | { type: 'VOTE_RECEIVED'; vote: Vote }
  | { type: 'HUMAN_DECISION_SUBMITTED'; decision: HumanDecision };

/**
 * What a conflict actor tells whoever follows it (`actor.on(type, handler)`), as it happens:
 * the votes it records, in arrival order (an answer, or an abstention: a failed request, or
 * the window closing on a voter not heard from), and that it now waits for a human decision.
 * Emitted during the transition that records them, so a listener reading the snapshot sees
 * them in it. A restored actor does not announce what it had when it was stored: it is
 * followed from where it resumes.
 */
export type ConflictMachineEmitted =
  | { type: 'VOTES_RECORDED'; votes: readonly Vote[] }
  | { type: 'HUMAN_DECISION_AWAITED' }
  /**
   * A message was ignored: not issued by whoever drives the actor (`isIssued`), malformed
   * (a vote or decision its schema refuses), from a voter not awaited, or not expected in
   * the phase the conflict is in. Nothing else changes.
   */
  | { type: 'MESSAGE_IGNORED'; event: ConflictMachineEvent['type'] };

/** Input of the vote collector: ask each voter, send back one `VOTE_RECEIVED` per voter. */
export interface CollectVotesInput {
  readonly conflict: Conflict;
  readonly voters: readonly string[];
  readonly stakes: Readonly<Record<string, number>>;
  readonly timeoutMs: number;
  /** Clock time at which the vote window closes (`requestedAt + timeoutMs`); a restored window has less left. */
  readonly closesAt: number;
}

/** Input of the expert consultation: resolves with the expert's answer, or null. */
export interface ConsultExpertInput {
  readonly conflict: Conflict;
  readonly expertId: string | null;
  readonly timeoutMs: number;
  /** Clock time at which the expert's window closes (`requestedAt + timeoutMs`). */
  readonly closesAt: number;
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
 * `tallyConflict`, invoked so that its outcomes are transitions of their own. Timers are
 * `after` delays on the system clock: the resolution deadline (running from detection)
 * and the vote window (running from `requestedAt`). Their absolute times are in the
 * context (`conflict.resolutionDeadline`, `requestedAt + voteTimeoutMs`), so the engine
 * provides both delays as the time left on its clock: a restored conflict re-arms only
 * what remains. Reaching the deadline while open escalates; `escalated` is final, so it
 * happens exactly once.
 *
 * A restored conflict (`input.resume`) starts in `detected` and moves at once to the phase
 * it was in, with the votes, stakes and answers it had; past its deadline, it escalates at once.
 */
export const conflictMachine = setup({
  types: {
    context: {} as ConflictMachineContext,
    input: {} as ConflictMachineInput,
    events: {} as ConflictMachineEvent,
    emitted: {} as ConflictMachineEmitted,
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
    // Every involved agent not heard from yet: all of them, unless the conflict was restored with votes.
    awaitMissingVoters: assign(({ context }) => ({
      awaitedVoters: context.conflict.involvedAgents.filter((id) => !context.votes.some((vote) => vote.agentId === id)),
    })),
    recordVote: assign(({ context }, params: { vote: Vote }) => ({
      votes: [...context.votes, withFixedStake(context, params.vote)],
      awaitedVoters: context.awaitedVoters.filter((id) => id !== params.vote.agentId),
    })),
    recordTimeoutAbstentions: assign(({ context }) => ({
      votes: [...context.votes, ...timeoutAbstentionsOf(context)],
      awaitedVoters: [],
    })),
    // Runs after `recordVote`: announces the vote as recorded, with its fixed stake.
    announceVote: emit(({ context }) => ({ type: 'VOTES_RECORDED', votes: context.votes.slice(-1) }) as const),
    announceIgnored: emit(({ event }) => ({ type: 'MESSAGE_IGNORED', event: event.type }) as const),
    // Runs before `recordTimeoutAbstentions` empties `awaitedVoters`: both read the same voters.
    announceTimeoutAbstentions: emit(({ context }) => ({ type: 'VOTES_RECORDED', votes: timeoutAbstentionsOf(context) }) as const),
    announceHumanDecisionAwaited: emit({ type: 'HUMAN_DECISION_AWAITED' } as const),
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
    needsVotes: (_, params: { strategy: ResolutionStrategy; conflict: Conflict }) => strategyNeedsVotes(params.strategy, params.conflict.conflictType),
    needsExpert: (_, params: { strategy: ResolutionStrategy }) => params.strategy === ResolutionStrategy.EXPERT_PRECEDENCE,
    needsHuman: (_, params: { strategy: ResolutionStrategy }) => params.strategy === ResolutionStrategy.HUMAN_INTERVENTION,
    /**
     * Injected: whether the message was issued by whoever drives the actor. The engine
     * accepts only the message objects it made itself (see `ConflictActors`), so a message
     * sent to the actor by its system id is ignored; this pure default accepts every message.
     */
    isIssued: () => true,
    isAwaitedVote: ({ context }, params: { vote: unknown }) => isValidVote(params.vote) && context.awaitedVoters.includes(params.vote.agentId),
    isLastAwaitedVote: ({ context }, params: { vote: unknown }) =>
      isValidVote(params.vote) && context.awaitedVoters.length === 1 && context.awaitedVoters[0] === params.vote.agentId,
    isValidHumanDecision: (_, params: { decision: unknown }) => HumanDecisionSchema.safeParse(params.decision).success,
    isResolved: (_, params: { verdict: ConflictVerdict }) => params.verdict.status === 'resolved',
    resumedPastDeadline: ({ context }) => context.resumePhase !== null && context.deadlineMs <= 0,
    resumesCollectingVotes: ({ context }) => context.resumePhase === 'collectingVotes',
    resumesConsultingExpert: ({ context }) => context.resumePhase === 'consultingExpert',
    resumesAwaitingHuman: ({ context }) => context.resumePhase === 'awaitingHumanDecision',
    resumesTallying: ({ context }) => context.resumePhase === 'tallying',
  },
  delays: {
    // Relative defaults: the machine has no clock. The engine provides both as the time
    // left to the absolute deadline and window end, so that a restored conflict keeps them.
    resolutionDeadline: ({ context }) => Math.max(0, context.deadlineMs),
    voteTimeout: ({ context }) => context.voteTimeoutMs,
  },
}).createMachine({
  id: 'conflict',
  context: ({ input: { resume, ...input } }) => ({
    ...input,
    resumePhase: resume?.phase ?? null,
    strategy: resume?.strategy ?? null,
    algorithm: resume?.algorithm ?? null,
    requestedAt: resume?.requestedAt ?? 0,
    stakes: resume?.stakes ?? {},
    expertId: resume?.expertId ?? null,
    awaitedVoters: [],
    votes: resume?.votes ?? [],
    expertAnswer: resume?.expertAnswer ?? null,
    humanDecision: resume?.humanDecision ?? null,
    verdict: null,
  }),
  initial: 'open',
  states: {
    open: {
      after: {
        resolutionDeadline: { target: 'escalated', actions: 'recordDeadlinePassed' },
      },
      // What no phase takes (not issued, malformed, not awaited, not expected now) is ignored, and said so.
      on: {
        RESOLUTION_REQUESTED: { actions: 'announceIgnored' },
        VOTE_RECEIVED: { actions: 'announceIgnored' },
        HUMAN_DECISION_SUBMITTED: { actions: 'announceIgnored' },
      },
      initial: 'detected',
      states: {
        detected: {
          // A restored conflict goes back to where it was; one reported in this process (resumePhase null) never takes these.
          always: [
            { guard: 'resumedPastDeadline', target: '#conflict.escalated', actions: 'recordDeadlinePassed' },
            { guard: 'resumesCollectingVotes', target: 'collectingVotes' },
            { guard: 'resumesConsultingExpert', target: 'consultingExpert' },
            { guard: 'resumesAwaitingHuman', target: 'awaitingHumanDecision' },
            { guard: 'resumesTallying', target: 'tallying' },
          ],
          on: {
            RESOLUTION_REQUESTED: [
              { guard: not('isIssued'), actions: 'announceIgnored' },
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
          entry: 'awaitMissingVoters',
          invoke: {
            id: 'voters',
            src: 'collectVotes',
            input: ({ context }) => ({
              conflict: context.conflict,
              voters: context.awaitedVoters,
              stakes: context.stakes,
              timeoutMs: context.voteTimeoutMs,
              closesAt: context.requestedAt + context.voteTimeoutMs,
            }),
          },
          on: {
            // Checked first, so that nothing of a message not issued is read.
            VOTE_RECEIVED: [
              { guard: not('isIssued'), actions: 'announceIgnored' },
              {
                guard: { type: 'isLastAwaitedVote', params: ({ event }) => ({ vote: event.vote }) },
                target: 'tallying',
                actions: [{ type: 'recordVote', params: ({ event }) => ({ vote: event.vote }) }, 'announceVote'],
              },
              {
                guard: { type: 'isAwaitedVote', params: ({ event }) => ({ vote: event.vote }) },
                actions: [{ type: 'recordVote', params: ({ event }) => ({ vote: event.vote }) }, 'announceVote'],
              },
            ],
          },
          after: {
            voteTimeout: { target: 'tallying', actions: ['announceTimeoutAbstentions', 'recordTimeoutAbstentions'] },
          },
        },
        consultingExpert: {
          invoke: {
            id: 'expert',
            src: 'consultExpert',
            input: ({ context }) => ({
              conflict: context.conflict,
              expertId: context.expertId,
              timeoutMs: context.voteTimeoutMs,
              closesAt: context.requestedAt + context.voteTimeoutMs,
            }),
            onDone: { target: 'tallying', actions: { type: 'recordExpertAnswer', params: ({ event }) => ({ answer: event.output }) } },
            onError: { target: 'tallying', actions: { type: 'recordExpertAnswer', params: () => ({ answer: null }) } },
          },
          after: {
            voteTimeout: 'tallying',
          },
        },
        awaitingHumanDecision: {
          entry: 'announceHumanDecisionAwaited',
          on: {
            HUMAN_DECISION_SUBMITTED: [
              { guard: not('isIssued'), actions: 'announceIgnored' },
              {
                guard: { type: 'isValidHumanDecision', params: ({ event }) => ({ decision: event.decision }) },
                target: 'tallying',
                actions: { type: 'recordHumanDecision', params: ({ event }) => ({ decision: event.decision }) },
              },
            ],
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

/** Whether a message's vote is a vote at all: a forged one may hold anything (a BigInt decision, no vote). */
function isValidVote(vote: unknown): vote is Vote {
  return VoteSchema.safeParse(vote).success;
}

/**
 * The vote as recorded: weighed with the stake fixed for its voter when the resolution was
 * requested (an abstention: 0.1), whatever stake the message carried.
 */
function withFixedStake(context: ConflictMachineContext, vote: Vote): Vote {
  const fixed = Object.hasOwn(context.stakes, vote.agentId) ? context.stakes[vote.agentId] : undefined;
  const stake = vote.decision === null ? ABSTENTION_STAKE : (fixed ?? computeStake());
  return stake === vote.stake ? vote : { ...vote, stake };
}

/** The abstentions of the voters not heard from when the vote window closes, stamped with its end. */
function timeoutAbstentionsOf(context: ConflictMachineContext): Vote[] {
  return context.awaitedVoters.map((agentId) => ({
    agentId,
    decision: null,
    confidence: 0,
    reasoning: 'vote timeout',
    timestamp: context.requestedAt + context.voteTimeoutMs,
    stake: ABSTENTION_STAKE,
  }));
}

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
