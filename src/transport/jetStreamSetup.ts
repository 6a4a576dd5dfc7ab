import type { ConsumerConfig, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { MessagePriority } from '../bus/message';
import { natsCore, natsJetStream } from './natsClient';
import type { Subjects } from './subjects';

/** What the streams and consumers of a NATS transport are made with (its validated options). @internal */
export interface JetStreamSetupOptions {
  readonly replicas: number;
  readonly deadLetterMaxAgeMs: number;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly consumerInactiveMs: number;
}

/**
 * Makes sure the namespace's two streams exist: the work queue of durable messages
 * (`NF_<ns>`, one message per bus message, acknowledged once settled) and the dead-letter
 * stream (`NF_<ns>_DLQ`, kept `deadLetterMaxAgeMs`). Several processes may do it at once.
 * @internal
 */
export async function ensureTransportStreams(jsm: JetStreamManager, subjects: Subjects, options: JetStreamSetupOptions): Promise<void> {
  await ensureStream(jsm, {
    name: subjects.stream(),
    subjects: [subjects.durableAll()],
    retention: natsJetStream().RetentionPolicy.Workqueue,
    storage: natsJetStream().StorageType.File,
    num_replicas: options.replicas,
    duplicate_window: natsCore().nanos(120_000),
  });
  await ensureStream(jsm, {
    name: subjects.dlqStream(),
    subjects: [subjects.dlqAll()],
    retention: natsJetStream().RetentionPolicy.Limits,
    storage: natsJetStream().StorageType.File,
    num_replicas: options.replicas,
    duplicate_window: natsCore().nanos(120_000),
    max_age: natsCore().nanos(options.deadLetterMaxAgeMs),
  });
}

/** The durable consumer of one agent and priority (its name is what `durableConsumerOf` finds back). @internal */
export function agentConsumerConfig(
  agentId: string,
  priority: MessagePriority,
  subjects: Subjects,
  options: JetStreamSetupOptions,
): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: consumerName(agentId, priority, subjects),
    filter_subject: subjects.durableFilter(agentId, priority),
    ack_policy: natsJetStream().AckPolicy.Explicit,
    max_deliver: options.maxDeliver,
    ack_wait: natsCore().nanos(options.ackWaitMs),
    inactive_threshold: natsCore().nanos(options.consumerInactiveMs),
  };
}

function consumerName(agentId: string, priority: MessagePriority, subjects: Subjects): string {
  return `nf_${subjects.agentToken(agentId)}_${priority}`;
}

/** Creates a stream unless it exists (another process may create it at the same time). */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  let existing: string[];
  try {
    existing = (await jsm.streams.info(config.name)).config.subjects ?? [];
  } catch {
    await jsm.streams.add(config).catch(async (error: unknown) => {
      await jsm.streams.info(config.name).catch(() => {
        throw error;
      });
    });
    return;
  }
  // A stream created before subjects had the publisher's prefix (nf.<ns>.from.<identity>.)
  // would store nothing published now: it gets the new subjects beside the old ones.
  const missing = (config.subjects ?? []).filter((subject) => !existing.includes(subject));
  if (missing.length > 0) await jsm.streams.update(config.name, { subjects: [...existing, ...missing] });
}
