import { ConflictTopic, ConflictType, type Conflict, type ConflictVerdict, type ConsensusResult, type Decision, type Vote } from './model/conflictTypes';
import { decisionKey, sameDecision } from './model/decisionKey';
import { ValidationError } from '../errors';

/**
 * Code that names who executes a decision (the engine's `decisionExecutors` option): a
 * function cannot be part of a persisted conflict, so it lives on the engine. Ids that are
 * not involved agents are dropped; an empty answer falls back to the default.
 */
export type DecisionExecutors = (conflict: Conflict, decision: Decision) => readonly string[];

/**
 * The idempotency key of a decision's execution: equal for the same conflict and the same
 * decision by value, so a re-sent command (a bus retry, an engine restored on a new leader
 * re-sending) is recognised by the agent that already executed it.
 *
 * @example
 * ```ts
 * executionKey('c1', 'BUY'); // 'c1:"BUY"'
 * ```
 */
export function executionKey(conflictId: string, decision: Decision | null): string {
  return `${conflictId}:${decision === null ? 'null' : decisionKey(decision)}`;
}

/** A command to send for a resolved decision. */
export interface ExecutionCommand {
  readonly topic: ConflictTopic;
  readonly recipients: readonly string[];
  readonly payload: Readonly<Record<string, unknown>>;
}

const isRecord = (d: Decision | null): d is { readonly [key: string]: unknown } => typeof d === 'object' && d !== null && !Array.isArray(d);

const isAgentList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');

/**
 * The agents a decision names: `agentId`, `agents`, or the keys of `allocations` of an
 * object decision. A decision that names nobody goes to every involved agent.
 *
 * @example
 * ```ts
 * decisionRecipients(conflict, { action: 'allocate', allocations: { a: 2, b: 1 } }); // ['a', 'b']
 * ```
 */
export function decisionRecipients(conflict: Conflict, decision: Decision | null): string[] {
  const named = namedAgents(decision);
  return named.length > 0 ? named : [...conflict.involvedAgents];
}

function namedAgents(decision: Decision | null): string[] {
  if (!isRecord(decision)) return [];
  const named = new Set<string>();
  if (typeof decision['agentId'] === 'string' && decision['agentId'] !== '') named.add(decision['agentId']);
  if (isAgentList(decision['agents'])) for (const id of decision['agents']) named.add(id);
  const allocations = decision['allocations'];
  if (typeof allocations === 'object' && allocations !== null) for (const id of Object.keys(allocations)) named.add(id);
  return [...named];
}

/**
 * Who executes a resolved decision, first that applies:
 * 1. the conflict's `executors`;
 * 2. the engine's `decisionExecutors` function (its ids that are involved agents);
 * 3. the agents the decision names (`agentId`, `agents`, `allocations` keys);
 * 4. the agents whose vote is the winning decision: never a dissenter, an abstainer or a
 *    voter that did not answer (with traders as voters, anyone else would trade twice or
 *    against their own vote);
 * 5. when no vote is the decision (fallback, human, compromise median, expert without a
 *    recorded vote): every involved agent except those that abstained. Nobody voted against
 *    such a decision, so everyone it concerns acts on it; an abstainer said it stays out.
 *
 * @example
 * ```ts
 * executorsOf(conflict, 'BUY', votes); // the agents that voted BUY
 * ```
 */
export function executorsOf(conflict: Conflict, decision: Decision | null, votes: readonly Vote[] = [], executors?: DecisionExecutors): string[] {
  if (conflict.executors !== undefined && conflict.executors.length > 0) return [...conflict.executors];
  if (executors !== undefined && decision !== null) {
    const involved = new Set(conflict.involvedAgents);
    const answer: unknown = executors(conflict, decision);
    // A string is iterable: `new Set('ab')` would make agents 'a' and 'b' of it.
    if (!Array.isArray(answer)) {
      throw new ValidationError('decisionExecutors', [{ path: 'decisionExecutors', message: 'must return an array of agent ids' }]);
    }
    const chosen = [...new Set(answer)].filter((id): id is string => typeof id === 'string' && involved.has(id));
    if (chosen.length > 0) return chosen;
  }
  const named = namedAgents(decision);
  if (named.length > 0) return named;
  const winners = votes.filter((v) => v.decision !== null && sameDecision(v.decision, decision)).map((v) => v.agentId);
  if (winners.length > 0) return [...new Set(winners)];
  const abstained = new Set(votes.filter((v) => v.decision === null).map((v) => v.agentId));
  return conflict.involvedAgents.filter((id) => !abstained.has(id));
}

/** The trading signal of a decision: the decision itself (`'BUY'`) or its `signal` field. */
function signalOf(decision: Decision | null): string | undefined {
  if (typeof decision === 'string') return decision;
  if (isRecord(decision) && typeof decision['signal'] === 'string') return decision['signal'];
  return undefined;
}

/**
 * What to send for a resolved decision: for a trading-signal conflict, the guide's
 * `execute_trade` with `{ symbol, signal, amount, confidence, reason }`; otherwise
 * `execute_decision` with the decision. Sent to the executors (`executorsOf`), with an
 * `idempotencyKey` (`executionKey`) in the payload, also sent as the message's
 * `nf-idempotency-key` header, by which each agent executes it once.
 *
 * @example
 * ```ts
 * const command = planExecution(conflict, result, votes);
 * for (const id of command.recipients) bus.sendMessage({ senderId: 'conflict_resolver', recipientId: id,
 *   messageType: 'command', priority: 'high', topic: command.topic, payload: command.payload });
 * ```
 */
export function planExecution(conflict: Conflict, result: ConsensusResult, votes: readonly Vote[] = [], executors?: DecisionExecutors): ExecutionCommand {
  const decision = result.decision;
  const recipients = executorsOf(conflict, decision, votes, executors);
  const signal = signalOf(decision);
  if (conflict.conflictType === ConflictType.SIGNAL_CONFLICT && signal !== undefined) {
    const fields = isRecord(decision) ? decision : {};
    return {
      topic: ConflictTopic.EXECUTE_TRADE,
      recipients,
      payload: {
        conflictId: conflict.conflictId,
        idempotencyKey: executionKey(conflict.conflictId, decision),
        symbol: fields['symbol'] ?? conflict.conflictingElements['symbol'],
        signal,
        ...(fields['amount'] !== undefined && { amount: fields['amount'] }),
        confidence: result.confidence,
        reason: 'Consensus resolution',
      },
    };
  }
  return {
    topic: ConflictTopic.EXECUTE_DECISION,
    recipients,
    payload: {
      conflictId: conflict.conflictId,
      idempotencyKey: executionKey(conflict.conflictId, decision),
      conflictType: conflict.conflictType,
      decision,
      confidence: result.confidence,
      agreement: result.agreement,
      algorithm: result.algorithm,
    },
  };
}

/**
 * The payload of the `conflict_escalation` broadcast.
 *
 * @example
 * ```ts
 * bus.broadcastMessage({ senderId: 'conflict_resolver', topic: 'conflict_escalation', payload: escalationNotice(conflict, verdict, votes) });
 * ```
 */
export function escalationNotice(conflict: Conflict, verdict: ConflictVerdict, votes: readonly Vote[]): Readonly<Record<string, unknown>> {
  return {
    conflictId: conflict.conflictId,
    conflictType: conflict.conflictType,
    description: conflict.description,
    severity: conflict.severity,
    involvedAgents: conflict.involvedAgents,
    reason: verdict.status === 'escalated' ? verdict.reason : null,
    detail: verdict.status === 'escalated' ? verdict.detail : null,
    agreement: verdict.result?.agreement ?? 0,
    votes: votes.map((v) => ({ agentId: v.agentId, decision: v.decision, confidence: v.confidence, stake: v.stake })),
  };
}
