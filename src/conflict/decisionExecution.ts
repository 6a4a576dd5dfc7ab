import {
  ConflictTopic,
  ConflictType,
  type Conflict,
  type ConflictVerdict,
  type ConsensusResult,
  type Decision,
  type Vote,
} from './conflictTypes';

/** A command to send for a resolved decision. */
export interface ExecutionCommand {
  readonly topic: ConflictTopic;
  readonly recipients: readonly string[];
  readonly payload: Readonly<Record<string, unknown>>;
}

const isRecord = (d: Decision | null): d is { readonly [key: string]: unknown } =>
  typeof d === 'object' && d !== null && !Array.isArray(d);

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
  if (isRecord(decision)) {
    const named = new Set<string>();
    if (typeof decision['agentId'] === 'string' && decision['agentId'] !== '') named.add(decision['agentId']);
    if (isAgentList(decision['agents'])) for (const id of decision['agents']) named.add(id);
    const allocations = decision['allocations'];
    if (typeof allocations === 'object' && allocations !== null) for (const id of Object.keys(allocations)) named.add(id);
    if (named.size > 0) return [...named];
  }
  return [...conflict.involvedAgents];
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
 * `execute_decision` with the decision. Sent to the agents the decision names.
 *
 * @example
 * ```ts
 * const command = planExecution(conflict, result);
 * for (const id of command.recipients) bus.sendMessage({ senderId: 'conflict_resolver', recipientId: id,
 *   messageType: 'command', priority: 'high', topic: command.topic, payload: command.payload });
 * ```
 */
export function planExecution(conflict: Conflict, result: ConsensusResult): ExecutionCommand {
  const decision = result.decision;
  const recipients = decisionRecipients(conflict, decision);
  const signal = signalOf(decision);
  if (conflict.conflictType === ConflictType.SIGNAL_CONFLICT && signal !== undefined) {
    const fields = isRecord(decision) ? decision : {};
    return {
      topic: ConflictTopic.EXECUTE_TRADE,
      recipients,
      payload: {
        conflictId: conflict.conflictId,
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
export function escalationNotice(
  conflict: Conflict,
  verdict: ConflictVerdict,
  votes: readonly Vote[],
): Readonly<Record<string, unknown>> {
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
