import type { ConsumerInfo, JetStreamManager, StoredMsg } from '@nats-io/jetstream';

/** What a sweep of the work-queue stream needs from its transport. @internal */
export interface UndeliveredSweepTarget {
  readonly jsm: JetStreamManager;
  /** The work-queue stream. */
  readonly stream: string;
  /** A message stored longer ago than this, ms, with no process consuming its agent, is moved. */
  readonly maxAgeMs: number;
  /** At most this many messages are moved per sweep (the next sweep goes on). */
  readonly maxMoves: number;
  /** The durable consumer that takes messages of a stored subject, undefined for a subject that is not an agent's. */
  consumerOf(subject: string): string | undefined;
  /** Copies the message to the dead-letter stream and deletes it from the work queue; true when this call deleted it. */
  moveToDeadLetters(stored: StoredMsg, detail: string): Promise<boolean>;
}

/**
 * Moves to the dead-letter stream the durable messages that have waited longer than
 * `maxAgeMs` for an agent no process consumes any more (a host that died for good, with
 * per-process agent ids): without this they would stay in the work queue for ever.
 *
 * Why a sweep and not what JetStream does by itself: a stream's `max_age` deletes expired
 * messages silently (this server version has no per-message TTL, and the delete markers of
 * later ones carry no body), so the command would be lost instead of dead-lettered; consumer
 * inactivity (`consumerInactiveMs`) deletes only the consumer, and the `MAX_DELIVERIES`
 * advisory fires only for messages that were delivered. The sweep therefore reads JetStream's
 * own state: the subjects holding messages (stream info), whether anyone pulls on each
 * subject's consumer (`num_waiting`: a live process always has a pull outstanding), and each
 * message's stored time (the server's clock, so the senders' clocks do not matter).
 *
 * Messages of a subject whose consumer has a live puller are left alone whatever their age
 * (held by a running handler, or about to be delivered): the delivery cap deals with those.
 * Every process of the namespace sweeps; the one whose delete succeeds counts the move.
 *
 * @returns How many messages this sweep moved.
 * @internal
 */
export async function sweepUndelivered(target: UndeliveredSweepTarget, now: number): Promise<number> {
  const { jsm, stream } = target;
  const info = await jsm.streams.info(stream, { subjects_filter: '>' });
  const subjects = Object.keys(info.state.subjects ?? {});
  const cutoff = now - target.maxAgeMs;
  const consumers = new Map<string, Promise<ConsumerInfo | null>>();
  let moved = 0;
  for (const subject of subjects) {
    if (moved >= target.maxMoves) break;
    const name = target.consumerOf(subject);
    if (name === undefined) continue;
    let consumer = consumers.get(name);
    if (!consumer) consumers.set(name, (consumer = jsm.consumers.info(stream, name).catch(() => null)));
    const state = await consumer;
    // Someone consumes this agent's messages: a pull is waiting, a handler holds one, or one
    // was delivered within the bound (between two pulls `num_waiting` is 0 for a moment).
    if (state && (state.num_waiting > 0 || state.num_ack_pending > 0 || lastDeliveryAt(state) > cutoff)) continue;
    const detail =
      `not consumed within ${target.maxAgeMs} ms (undeliveredMaxAgeMs): ` +
      (state ? `no process pulls on consumer '${name}' (agent gone)` : `consumer '${name}' does not exist (agent gone or never registered)`);
    for (let seq = info.state.first_seq; moved < target.maxMoves;) {
      // Oldest first, per subject: the first one young enough ends this subject.
      const stored = await jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as never).catch(() => null);
      if (!stored || stored.time.getTime() > cutoff) break;
      if (await target.moveToDeadLetters(stored, detail)) moved++;
      seq = stored.seq + 1;
    }
  }
  return moved;
}

/**
 * The durable consumer name of a stored work-queue subject (`….durable.agent.<token>.<priority>`),
 * the same as `consumerName` gives for the agent and priority. @internal
 */
export function durableConsumerOf(subject: string): string | undefined {
  const parts = subject.split('.');
  const n = parts.length;
  if (n < 4 || parts[n - 4] !== 'durable' || parts[n - 3] !== 'agent') return undefined;
  return `nf_${parts[n - 2]}_${parts[n - 1]}`;
}

/** When the consumer last delivered a message, ms (0 if never); the server sends an RFC 3339 time. */
function lastDeliveryAt(state: ConsumerInfo): number {
  const at: unknown = state.delivered?.last_active;
  if (typeof at === 'number') return at / 1_000_000;
  const parsed = typeof at === 'string' ? Date.parse(at) : Number.NaN;
  return Number.isNaN(parsed) ? 0 : parsed;
}
