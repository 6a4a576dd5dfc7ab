import type { MessageInput } from '../../bus/model/message';
import { clampStrength } from './connection';
import { findConnection, listNeurons, neuronOf } from './swarmState';
import type { KnowledgeTransfer, SwarmSnapshot, SwarmState, TransferredPattern } from './swarmTypes';
import { pairsOf } from './pairIndex';

/** Topic of knowledge-transfer notifications on the bus. */
export const KNOWLEDGE_TRANSFER_TOPIC = 'knowledge_transfer';

/**
 * Shares one piece of knowledge from `source`, mutating `state` (an immer draft): it goes
 * into the source's knowledge base, the global one, and each target's (by default the
 * source's connection targets); each source → target connection used gains +0.1.
 * Returns how many targets received it (unknown targets are skipped).
 *
 * @example
 * ```ts
 * produce(state, (draft) => { shareKnowledge(draft, 'analysis', 'btc_trend', 'up', undefined); });
 * ```
 */
export function shareKnowledge(state: SwarmState, source: string, key: string, value: unknown, targets: readonly string[] | undefined): number {
  const origin = neuronOf(state, source);
  if (!origin) return 0;
  origin.knowledgeBase[key] = value;
  let shared = 0;
  for (const targetId of targets ?? pairsOf(origin.outgoing).map(([target]) => target)) {
    const target = neuronOf(state, targetId);
    if (!target || targetId === source) continue;
    target.knowledgeBase[key] = value;
    const connection = findConnection(state, source, targetId);
    if (connection) connection.strength = clampStrength(connection.strength + state.rules.knowledgeShareBoost);
    shared += 1;
  }
  state.globalKnowledge[key] = value;
  state.lastShareCount = shared;
  return shared;
}

/**
 * Agents by learned performance, best first (ties: the one that joined first).
 *
 * @example
 * ```ts
 * performanceRanking(network.getNetworkState())[0]; // { agentId: 'risk', performance: 0.91 }
 * ```
 */
export function performanceRanking(state: SwarmSnapshot): { agentId: string; performance: number }[] {
  return listNeurons(state)
    .sort((a, b) => b.performance - a.performance || a.seq - b.seq)
    .map((n) => ({ agentId: n.agentId, performance: n.performance }));
}

/**
 * An agent's patterns worth teaching: decision kinds with success rate > 0.8 used more
 * than 10 times (best first).
 *
 * @example
 * ```ts
 * teachablePatterns(state, 'risk'); // [{ key: 'task:risk_check', successRate: 0.92, usageCount: 25 }]
 * ```
 */
export function teachablePatterns(state: SwarmSnapshot, agentId: string): TransferredPattern[] {
  const neuron = neuronOf(state, agentId);
  if (!neuron) return [];
  const { rules } = state;
  const patterns: TransferredPattern[] = [];
  for (const [key, pattern] of Object.entries(neuron.patterns)) {
    const successRate = pattern.uses === 0 ? 0 : pattern.successes / pattern.uses;
    if (successRate > rules.patternSuccessRate && pattern.uses > rules.patternMinUses) {
      patterns.push({ key, successRate, usageCount: pattern.uses });
    }
  }
  return patterns.sort((a, b) => b.successRate - a.successRate || a.key.localeCompare(b.key));
}

/**
 * Plans the guide's knowledge sharing, mutating `state` (an immer draft): the top 2
 * performers teach every other agent their teachable patterns, and each teacher →
 * student connection that exists gains +0.1. A teacher with nothing teachable sends
 * nothing. Returns the transfers (also kept in `state.lastTransfers`) for delivery over
 * the bus as `knowledge_transfer` notifications.
 *
 * @example
 * ```ts
 * const next = produce(state, (draft) => { planKnowledgeTransfers(draft, clock.now()); });
 * for (const t of next.lastTransfers) bus.sendMessage(knowledgeTransferMessage(t));
 * ```
 */
export function planKnowledgeTransfers(state: SwarmState, at: number): KnowledgeTransfer[] {
  const ranking = performanceRanking(state);
  const teacherCount = Math.max(0, Math.floor(state.rules.teacherCount));
  const teachers = ranking.slice(0, teacherCount);
  const students = ranking.slice(teacherCount);
  const transfers: KnowledgeTransfer[] = [];
  for (const teacher of teachers) {
    const patterns = teachablePatterns(state, teacher.agentId);
    if (patterns.length === 0) continue;
    for (const student of students) {
      const connection = findConnection(state, teacher.agentId, student.agentId);
      if (connection) connection.strength = clampStrength(connection.strength + state.rules.transferBoost);
      transfers.push({
        teacherId: teacher.agentId,
        studentId: student.agentId,
        patterns,
        connectionId: connection?.connectionId ?? null,
        at,
      });
    }
  }
  state.counters.knowledgeTransfers += transfers.length;
  state.lastTransfers = transfers;
  return transfers;
}

/** Payload of a `knowledge_transfer` notification. */
export interface KnowledgeTransferPayload {
  readonly teacherId: string;
  readonly knowledge: { readonly decisionPatterns: readonly TransferredPattern[] };
  readonly transferType: 'pattern_sharing';
}

/**
 * The bus message of a transfer: a medium-priority notification from the teacher to the
 * student, topic `knowledge_transfer`, as in the guide.
 *
 * @example
 * ```ts
 * bus.sendMessage(knowledgeTransferMessage(transfer));
 * ```
 */
export function knowledgeTransferMessage(transfer: KnowledgeTransfer): MessageInput {
  const payload: KnowledgeTransferPayload = {
    teacherId: transfer.teacherId,
    knowledge: { decisionPatterns: transfer.patterns },
    transferType: 'pattern_sharing',
  };
  return {
    senderId: transfer.teacherId,
    recipientId: transfer.studentId,
    messageType: 'notification',
    priority: 'medium',
    topic: KNOWLEDGE_TRANSFER_TOPIC,
    payload,
  };
}
