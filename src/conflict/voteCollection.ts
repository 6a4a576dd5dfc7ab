import { fromCallback, fromPromise, type EventObject } from 'xstate';
import { z } from 'zod';
import type { CollectVotesInput, ConflictMachineEvent, ConsultExpertInput } from '../../machines/conflict.machine';
import type { CommunicationBus } from '../bus/communicationBus';
import { MessagePriority } from '../bus/message';
import { RequestTimeoutError, UnknownAgentError } from '../errors';
import { MAX_TIMER_MS, timerDelay } from '../kernel/clock';
import { ConflictTopic, VoteAnswerSchema, type Conflict, type Decision, type Vote, type VoteAnswer } from './model/conflictTypes';
import { decisionKey } from './model/decisionKey';
import { describeError } from '../describeError';
import { ABSTENTION_STAKE, computeStake } from './model/stakes';
import type { IssuedMessages } from './issuedMessages';
import { DEFAULT_EXPERT_CONFIDENCE, type ExpertAnswer } from './model/strategies';

/** What a vote function is asked: a vote, or an expert's resolution. */
export interface VoteRequest {
  readonly topic: typeof ConflictTopic.VOTE | typeof ConflictTopic.EXPERT_RESOLUTION;
  /** Decisions to choose from; empty means any. */
  readonly options: readonly Decision[];
}

/**
 * An agent's vote given as a function instead of a bus handler. Its answer is validated
 * like a bus answer; a throw, a rejection or a malformed answer is an abstention.
 *
 * @example
 * ```ts
 * engine.registerVoter('risk', (conflict) => ({ decision: 'HOLD', confidence: 0.9, reasoning: 'volatility' }));
 * ```
 */
export type VoteFunction = (conflict: Conflict, request: VoteRequest) => VoteAnswer | Promise<VoteAnswer>;

/** Payload of a `conflict_vote` or `expert_resolution` request. */
export interface VoteRequestPayload {
  readonly conflictId: string;
  readonly conflictType: Conflict['conflictType'];
  readonly description: string;
  readonly severity: number;
  readonly resolutionDeadline: number;
  readonly options: readonly Decision[];
  readonly conflict: Conflict;
}

const ExpertAnswerSchema = VoteAnswerSchema.extend({
  confidence: VoteAnswerSchema.shape.confidence.default(DEFAULT_EXPERT_CONFIDENCE),
});

type Asked<T> = { readonly ok: true; readonly answer: T; readonly at: number } | { readonly ok: false; readonly reason: string; readonly at: number };

/** @internal */
export interface VoteCollectorDeps {
  readonly bus: CommunicationBus;
  /** The engine's identity on the bus. */
  readonly senderId: string;
  readonly voteFunctions: ReadonlyMap<string, VoteFunction>;
  /** Marks each `VOTE_RECEIVED` as the engine's, so that the conflict's actor takes it (`IssuedMessages`). */
  readonly issued: IssuedMessages;
}

function describeFailure(error: unknown): string {
  try {
    if (error instanceof RequestTimeoutError) return 'vote timeout';
    if (error instanceof UnknownAgentError) return 'agent not registered';
  } catch {
    // A Proxy whose prototype trap throws: `instanceof` asks it, and it is none of ours.
  }
  return `vote failed: ${describeError(error)}`;
}

/**
 * Asks agents for votes and expert answers, over the bus or through registered vote
 * functions, and turns every answer into a validated `Vote`. Never throws: whatever goes
 * wrong with one voter is that voter's abstention (stake 0.1).
 * @internal
 */
export class VoteCollector {
  constructor(private readonly deps: VoteCollectorDeps) {}

  /** The conflict machine's `collectVotes` actor. */
  readonly collectVotes = fromCallback<EventObject, CollectVotesInput>(({ input, sendBack }) => {
    let listening = true;
    const timeoutMs = this.timeLeft(input);
    // A restored window that has already closed asks nobody: its timer closes it at once.
    const voters = timeoutMs > 0 ? input.voters : [];
    for (const agentId of voters) {
      void this.ask(agentId, input.conflict, ConflictTopic.VOTE, timeoutMs, VoteAnswerSchema).then((asked) => {
        if (!listening) return;
        const event: ConflictMachineEvent = { type: 'VOTE_RECEIVED', vote: this.toVote(agentId, asked, input.stakes) };
        sendBack(this.deps.issued.issue(input.conflict.conflictId, event));
      });
    }
    // Answers that arrive after the vote window closed are ignored.
    return () => {
      listening = false;
    };
  });

  /** The conflict machine's `consultExpert` actor: the expert's answer, or null. */
  readonly consultExpert = fromPromise<ExpertAnswer | null, ConsultExpertInput>(async ({ input }) => {
    const timeoutMs = this.timeLeft(input);
    if (input.expertId === null || timeoutMs <= 0) return null;
    const asked = await this.ask(input.expertId, input.conflict, ConflictTopic.EXPERT_RESOLUTION, timeoutMs, ExpertAnswerSchema);
    if (!asked.ok) return null;
    return { agentId: input.expertId, ...asked.answer };
  });

  /** What is left of a window (all of it for a fresh one, less for a restored one), in whole ms for the bus. */
  private timeLeft(input: { readonly timeoutMs: number; readonly closesAt: number }): number {
    // A bus request holds at most a host timer; the window's own `after` delay still runs to its end.
    return Math.ceil(Math.min(MAX_TIMER_MS, timerDelay(Math.min(input.timeoutMs, input.closesAt - this.deps.bus.clock.now()))));
  }

  private toVote(agentId: string, asked: Asked<z.output<typeof VoteAnswerSchema>>, stakes: Readonly<Record<string, number>>): Vote {
    if (!asked.ok) {
      return { agentId, decision: null, confidence: 0, reasoning: asked.reason, timestamp: asked.at, stake: ABSTENTION_STAKE };
    }
    const { decision, confidence, reasoning, evidence } = asked.answer;
    return {
      agentId,
      decision,
      confidence,
      reasoning,
      timestamp: asked.at,
      stake: (Object.hasOwn(stakes, agentId) ? stakes[agentId] : undefined) ?? computeStake(),
      ...(evidence !== undefined && { evidence }),
    };
  }

  private async ask<S extends typeof VoteAnswerSchema | typeof ExpertAnswerSchema>(
    agentId: string,
    conflict: Conflict,
    topic: VoteRequest['topic'],
    timeoutMs: number,
    schema: S,
  ): Promise<Asked<z.output<S>>> {
    const { bus } = this.deps;
    let raw: unknown;
    try {
      const vote = this.deps.voteFunctions.get(agentId);
      if (vote) {
        raw = await vote(conflict, { topic, options: conflict.options });
      } else {
        const payload: VoteRequestPayload = {
          conflictId: conflict.conflictId,
          conflictType: conflict.conflictType,
          description: conflict.description,
          severity: conflict.severity,
          resolutionDeadline: conflict.resolutionDeadline,
          options: conflict.options,
          conflict,
        };
        const response = await bus.sendRequest({
          senderId: this.deps.senderId,
          recipientId: agentId,
          topic,
          payload,
          timeoutMs,
          priority: MessagePriority.HIGH,
        });
        raw = response.payload;
      }
    } catch (error) {
      return { ok: false, reason: describeFailure(error), at: bus.clock.now() };
    }
    const at = bus.clock.now();
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, reason: `invalid vote: ${issue?.path.join('.') || '(value)'}: ${issue?.message ?? 'invalid'}`, at };
    }
    const answer = parsed.data as z.output<S>;
    if (conflict.options.length > 0) {
      const key = decisionKey(answer.decision);
      if (!conflict.options.some((o) => decisionKey(o) === key)) {
        return { ok: false, reason: 'invalid vote: decision: not one of the options', at };
      }
    }
    return { ok: true, answer, at };
  }
}
