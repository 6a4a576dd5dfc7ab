import { z } from 'zod';
import type { AgentHandle } from '../bus/agentHandle';
import type { CommunicationBus } from '../bus/communicationBus';
import { MessagePriority, MessageType, type Message } from '../bus/message';
import { ErrorCode, NeuroFluxError, ValidationError } from '../errors';
import { MAX_TIMER_MS } from '../kernel/clock';
import { ConflictErrorCode, DuplicateConflictError, RemoteConflictError, UnknownConflictError } from './conflictErrors';
import { ResolutionSchema } from './conflictPersistence';
import type { ConflictResolution } from './conflictRecord';
import { ConsensusAlgorithmSchema, ResolutionStrategySchema, type Conflict, type ConflictInput } from './model/conflictTypes';

/**
 * The bus agent of the leader's conflict engine that takes conflicts reported in standbys.
 * Registered only in the leader's process, so a message to it from any other process goes
 * out through the transport and reaches the leader, whichever process that is.
 */
export const CONFLICT_INTAKE_AGENT = 'conflict_intake';

/** Topics of the messages a standby sends to the leader's {@link CONFLICT_INTAKE_AGENT}. */
export const ConflictForwardTopic = {
  /** A command: a conflict reported in a standby, to be registered by the leader. */
  REPORT: 'conflict_forwarded',
  /** A request: resolve a conflict (reported with it when new) and answer with its resolution. */
  RESOLVE: 'conflict_resolve_forwarded',
} as const;

/** What an engine does with a conflict reported to it (`resolveConflict` options included). @internal */
export interface ConflictReceiver {
  reportConflict(conflict: ConflictInput | Conflict): string;
  resolveConflict(target: string, options: z.output<typeof ForwardedOptionsSchema>): Promise<ConflictResolution>;
}

const ForwardedOptionsSchema = z.object({ algorithm: ConsensusAlgorithmSchema.optional(), strategy: ResolutionStrategySchema.optional() }).strict();
/** The conflict itself is checked by the engine it is reported to (`ConflictInputSchema`). */
const ReportPayloadSchema = z.object({ conflict: z.record(z.string(), z.unknown()) }).strict();
const ResolvePayloadSchema = z
  .object({
    conflictId: z.string().min(1),
    conflict: z.record(z.string(), z.unknown()).optional(),
    options: ForwardedOptionsSchema.default({}),
  })
  .strict();
const ResolveAnswerSchema = z.union([
  z.object({ resolution: ResolutionSchema }).strict(),
  z.object({ error: z.object({ code: z.string(), message: z.string() }).strict() }).strict(),
]);

/**
 * The standby's side: conflicts reported to a standby's engine go to the leader's engine
 * instead of staying in the standby's memory, where nobody would decide or persist them.
 *
 * A report is a command: with a NATS transport it is durable (JetStream), so it waits in
 * the stream while no leader is elected and the next leader registers it. A resolution is
 * a request (at most once): the leader answers once the conflict has ended.
 * @internal
 */
export class ConflictForwarder {
  constructor(
    private readonly bus: CommunicationBus,
    private readonly senderId: string,
  ) {}

  /** Sends `conflict` (validated and completed by the standby's engine) to the leader. */
  report(conflict: Conflict): void {
    this.bus.sendMessage({
      senderId: this.senderId,
      recipientId: CONFLICT_INTAKE_AGENT,
      messageType: MessageType.COMMAND,
      priority: MessagePriority.HIGH,
      topic: ConflictForwardTopic.REPORT,
      payload: { conflict },
    });
  }

  /**
   * Asks the leader to resolve a conflict (reporting it first when `target` is one) and
   * resolves with the leader's resolution. The wait lasts until the conflict's deadline
   * (it ends by then, escalated at the latest), plus `graceMs`; for an id alone, whose
   * deadline the standby does not know, `graceMs` alone.
   */
  async resolve(target: string | Conflict, options: z.input<typeof ForwardedOptionsSchema>, graceMs: number): Promise<ConflictResolution> {
    const conflictId = typeof target === 'string' ? target : target.conflictId;
    const untilDeadline = typeof target === 'string' ? 0 : Math.max(0, target.resolutionDeadline - this.bus.clock.now());
    const response = await this.bus.sendRequest({
      senderId: this.senderId,
      recipientId: CONFLICT_INTAKE_AGENT,
      topic: ConflictForwardTopic.RESOLVE,
      priority: MessagePriority.HIGH,
      payload: { conflictId, ...(typeof target !== 'string' && { conflict: target }), options },
      timeoutMs: Math.ceil(Math.min(MAX_TIMER_MS, untilDeadline + graceMs)),
    });
    // The answer comes from the network: checked like any other input.
    const parsed = ResolveAnswerSchema.safeParse(response.payload);
    if (!parsed.success) throw ValidationError.fromZod('forwarded resolution', parsed.error);
    if ('resolution' in parsed.data) return parsed.data.resolution;
    const { code, message } = parsed.data.error;
    if (code === ConflictErrorCode.UNKNOWN_CONFLICT) throw new UnknownConflictError(conflictId);
    throw new RemoteConflictError(conflictId, code, message);
  }
}

/** What the leader's intake has refused, for stats. */
export interface ConflictIntakeStats {
  /** Forwarded reports and resolve requests registered or answered. */
  readonly accepted: number;
  /** Forwarded reports of a conflict already known (a redelivery): nothing to do. */
  readonly duplicates: number;
  /**
   * Deliveries of forwarded messages that failed validation (their payload or the conflict in
   * it). A bad report is refused on every delivery until it is dead-lettered, so it counts
   * once per delivery.
   */
  readonly invalid: number;
}

/**
 * The leader's side: registers {@link CONFLICT_INTAKE_AGENT} on `bus` and hands what
 * standbys forward to `engine`, after validating it (the payload here, the conflict by the
 * engine). A report that fails validation is refused by throwing, so that the bus
 * dead-letters it (after its retries; with NATS it lands in the DLQ for inspection); a
 * resolve request that fails is answered with the error. `close()` unregisters the agent.
 * @internal
 */
export function openConflictIntake(bus: CommunicationBus, engine: ConflictReceiver): { close(): void; stats(): ConflictIntakeStats } {
  const counts = { accepted: 0, duplicates: 0, invalid: 0 };
  /** Registers a forwarded conflict; false when it was known already. */
  const register = (conflict: Record<string, unknown>): boolean => {
    try {
      engine.reportConflict(conflict as unknown as ConflictInput);
      return true;
    } catch (error) {
      if (error instanceof DuplicateConflictError) return false;
      throw error;
    }
  };
  const onReport = (message: Message): void => {
    const parsed = ReportPayloadSchema.safeParse(message.payload);
    try {
      if (!parsed.success) throw ValidationError.fromZod('forwarded conflict', parsed.error);
      if (register(parsed.data.conflict)) counts.accepted++;
      else counts.duplicates++;
    } catch (error) {
      if (error instanceof ValidationError) counts.invalid++;
      throw error;
    }
  };
  const onResolve = async (message: Message, handle: AgentHandle): Promise<void> => {
    let answer: unknown;
    try {
      const parsed = ResolvePayloadSchema.safeParse(message.payload);
      if (!parsed.success) throw ValidationError.fromZod('forwarded resolve request', parsed.error);
      const { conflictId, conflict, options } = parsed.data;
      if (conflict !== undefined) {
        if (conflict['conflictId'] !== conflictId) {
          throw new ValidationError('forwarded resolve request', [{ path: 'conflict.conflictId', message: 'must be the conflictId of the request' }]);
        }
        register(conflict);
      }
      answer = { resolution: await engine.resolveConflict(conflictId, options) };
      counts.accepted++;
    } catch (error) {
      if (error instanceof ValidationError) counts.invalid++;
      answer = { error: errorAnswer(error) };
    }
    try {
      handle.respond(message, answer);
    } catch {
      // The requester is gone or the bus stopped: its own timeout tells it.
    }
  };
  bus.registerAgent(CONFLICT_INTAKE_AGENT, {
    concurrency: 64,
    handler: (message, handle) => {
      if (message.topic === ConflictForwardTopic.REPORT) onReport(message);
      else if (message.topic === ConflictForwardTopic.RESOLVE && message.messageType === MessageType.REQUEST) return onResolve(message, handle);
      else counts.invalid++;
      return undefined;
    },
  });
  return {
    close: () => {
      if (bus.running) bus.unregisterAgent(CONFLICT_INTAKE_AGENT);
    },
    stats: () => ({ ...counts }),
  };
}

function errorAnswer(error: unknown): { code: string; message: string } {
  if (error instanceof NeuroFluxError) return { code: error.code, message: error.message };
  return { code: ErrorCode.INTERNAL, message: error instanceof Error ? error.message : 'the leader failed to resolve the conflict' };
}
