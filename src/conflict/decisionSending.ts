import type { ConflictOutcomeParams } from '../../machines/conflict.machine';
import type { CommunicationBus } from '../bus/communicationBus';
import { IDEMPOTENCY_HEADER } from '../bus/executedKeys';
import { MessagePriority, MessageType } from '../bus/message';
import { describeError } from '../describeError';
import type { ConflictEvent } from './conflictEvents';
import { escalationNotice, planExecution, type DecisionExecutors } from './decisionExecution';
import { ConflictTopic } from './model/conflictTypes';

/**
 * Sends what a finished conflict decided: the `execute_decision` (or `execute_trade`)
 * command to its executors, or the `conflict_escalation` broadcast. These are the
 * `executeDecision` and `escalate` effects of the conflict machine; they run inside the
 * actor's final transition, so they never throw: each returns the events of what happened,
 * which the engine publishes after the conflict's outcome.
 * @internal
 */
export class DecisionSender {
  constructor(
    private readonly bus: CommunicationBus,
    private readonly senderId: string,
    private readonly decisionExecutors: DecisionExecutors | undefined,
  ) {}

  /** Executes a resolved decision above the execution threshold, or holds it. */
  executeDecision({ conflict, verdict, votes }: ConflictOutcomeParams): ConflictEvent[] {
    if (verdict.status !== 'resolved') return [];
    const { conflictId } = conflict;
    const at = this.bus.clock.now();
    if (verdict.action !== 'execute') return [{ type: 'DECISION_HELD', conflictId, confidence: verdict.result.confidence, at }];
    let command;
    try {
      command = planExecution(conflict, verdict.result, votes, this.decisionExecutors);
    } catch (error) {
      // A throwing `decisionExecutors` must not crash the conflict actor: nothing is sent.
      return [{ type: 'DELIVERY_FAILED', conflictId, topic: ConflictTopic.EXECUTE_DECISION, error: describeError(error), at }];
    }
    const events: ConflictEvent[] = [];
    const idempotencyKey = command.payload['idempotencyKey'] as string;
    const delivered: string[] = [];
    for (const recipientId of command.recipients) {
      try {
        this.bus.sendMessage({
          senderId: this.senderId,
          recipientId,
          messageType: MessageType.COMMAND,
          priority: MessagePriority.HIGH,
          topic: command.topic,
          payload: command.payload,
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        });
        delivered.push(recipientId);
      } catch (error) {
        events.push({ type: 'DELIVERY_FAILED', conflictId, topic: command.topic, error: describeError(error), at });
      }
    }
    events.push({ type: 'DECISION_EXECUTED', conflictId, topic: command.topic, recipients: delivered, at });
    return events;
  }

  /** One `conflict_escalation` broadcast. */
  broadcastEscalation({ conflict, verdict, votes }: ConflictOutcomeParams): ConflictEvent[] {
    try {
      this.bus.broadcastMessage({
        senderId: this.senderId,
        topic: ConflictTopic.ESCALATION,
        payload: escalationNotice(conflict, verdict, votes),
        priority: MessagePriority.HIGH,
      });
      return [];
    } catch (error) {
      return [{ type: 'DELIVERY_FAILED', conflictId: conflict.conflictId, topic: ConflictTopic.ESCALATION, error: describeError(error), at: this.bus.clock.now() }];
    }
  }
}
