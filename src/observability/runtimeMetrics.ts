import { performance } from 'node:perf_hooks';
import type { Metric, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { z } from 'zod';
import type { Message } from '../bus/message';
import { ValidationError } from '../errors';
import { listConnections, listNeurons } from '../swarm/model/swarmState';
import { BucketHistogram } from './bucketHistogram';
import { attachBusHooks } from './busHooks';
import type { ObservedRuntime } from './observedRuntime';
import { loadOptional } from '../optionalDependency';

/** prom-client (32 modules), loaded by `createMetrics`, not by `require('neuroflux')` (issue #16). */
function promClient(): typeof import('prom-client') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return loadOptional('prom-client', 'createMetrics', () => require('prom-client') as typeof import('prom-client'));
}

const MetricsOptionsSchema = z.object({
  registry: z.custom<Registry>((value) => value instanceof promClient().Registry, { error: 'expected a prom-client Registry' }).optional(),
  /** Prefix of every metric name. */
  prefix: z
    .string()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be a valid Prometheus metric name prefix')
    .default('neuroflux_'),
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag). */
  defaultMetrics: z.boolean().default(false),
  /** Buckets (seconds) of the handler duration and delivery latency histograms. */
  latencyBuckets: z.array(z.number().positive()).min(1).default([0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1, 5]),
  /** Buckets (seconds) of the task duration histogram. */
  taskBuckets: z.array(z.number().positive()).min(1).default([0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600]),
});

/** Options of {@link createMetrics}. */
export type MetricsOptions = z.input<typeof MetricsOptionsSchema>;

/** A runtime's Prometheus metrics. */
export interface RuntimeMetrics {
  /** The prom-client registry holding them (yours if you passed one). */
  readonly registry: Registry;
  /** The Prometheus text exposition format, for a `/metrics` endpoint. */
  text(): Promise<string>;
  /** The `Content-Type` of `text()`. */
  readonly contentType: string;
  /** Detaches from the runtime and removes the metrics from the registry. */
  dispose(): void;
}

/**
 * Exposes a runtime's behaviour as Prometheus metrics in a prom-client registry:
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `neuroflux_messages_total` | counter | `type`, `priority`, `outcome` (`accepted`, `handled`, `failed`, `dead_lettered`) |
 * | `neuroflux_message_handler_duration_seconds` | histogram | `type` |
 * | `neuroflux_message_delivery_latency_seconds` | histogram (accepted → handled) | `priority` |
 * | `neuroflux_mailbox_depth` | gauge (all mailboxes) | |
 * | `neuroflux_pending_responses`, `neuroflux_registered_agents` | gauge | |
 * | `neuroflux_dead_letters_total` | counter | `reason` |
 * | `neuroflux_task_duration_seconds` | histogram (started → finished) | `task_type`, `status` |
 * | `neuroflux_tasks_finished_total` | counter | `task_type`, `status` |
 * | `neuroflux_task_retries_total` | counter | |
 * | `neuroflux_tasks` | gauge | `status` (`pending`, `assigned`, `running`) |
 * | `neuroflux_conflicts_total` | counter | `type`, `outcome` (`resolved`, `escalated`) |
 * | `neuroflux_conflict_votes_total` | counter | `kind` (`vote`, `abstention`) |
 * | `neuroflux_conflicts_active` | gauge | |
 * | `neuroflux_swarm_density` | gauge (`2E / (N(N − 1))`) | |
 * | `neuroflux_swarm_neurons`, `neuroflux_swarm_connections` | gauge | |
 *
 * Per message it adds two counts and two histogram observations in plain structures
 * (prom-client reads them when scraped) and a `WeakMap` entry for the latency (bench:
 * `npm run bench -- observability`). Gauges are read when scraped. Nothing is installed
 * until this is called.
 *
 * @example
 * ```ts
 * const metrics = createMetrics(nf);
 * http.createServer(async (_, res) => res.end(await metrics.text())).listen(9464, '127.0.0.1');
 * ```
 */
export function createMetrics(runtime: ObservedRuntime, options: MetricsOptions = {}): RuntimeMetrics {
  const parsed = MetricsOptionsSchema.safeParse(options);
  if (!parsed.success) throw ValidationError.fromZod('metrics options', parsed.error);
  const o = parsed.data;
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = promClient();
  const ownRegistry = o.registry === undefined;
  const registry = o.registry ?? new Registry();
  const registers = [registry];
  const p = o.prefix;
  const { bus, orchestrator, conflicts, swarm } = runtime;
  const names: string[] = [];
  const named = <T extends { name: string }>(config: T): T => {
    names.push(config.name);
    return config;
  };

  // Per-message counts and timings are kept in plain structures and handed to prom-client
  // when scraped: its own counters and histograms hash their labels on every call.
  const messageTotals: Record<string, Record<string, Record<string, number>>> = {};
  new Counter(
    named({
      name: `${p}messages_total`,
      help: 'Messages by type, priority and outcome.',
      labelNames: ['type', 'priority', 'outcome'] as const,
      registers,
      collect() {
        this.reset();
        for (const [outcome, byType] of Object.entries(messageTotals)) {
          for (const [type, byPriority] of Object.entries(byType)) {
            for (const [priority, n] of Object.entries(byPriority)) this.inc({ type, priority, outcome }, n);
          }
        }
      },
    }),
  );
  const handlerDuration = new BucketHistogram(`${p}message_handler_duration_seconds`, "Time an agent's behaviour took to handle one delivery.", 'type', o.latencyBuckets);
  const deliveryLatency = new BucketHistogram(
    `${p}message_delivery_latency_seconds`,
    'Time from acceptance by the bus to the end of handling (queueing included).',
    'priority',
    o.latencyBuckets,
  );
  for (const histogram of [handlerDuration, deliveryLatency]) {
    registry.registerMetric(histogram as unknown as Metric);
    names.push(histogram.name);
  }
  new Gauge(
    named({
      name: `${p}mailbox_depth`,
      help: 'Messages waiting in all mailboxes.',
      registers,
      collect() {
        this.set(bus.getStats().queueDepth);
      },
    }),
  );
  new Gauge(
    named({
      name: `${p}pending_responses`,
      help: 'Requests waiting for a response.',
      registers,
      collect() {
        this.set(bus.getStats().pendingResponses);
      },
    }),
  );
  new Gauge(
    named({
      name: `${p}registered_agents`,
      help: 'Agents registered on the bus.',
      registers,
      collect() {
        this.set(bus.getAgentIds().length);
      },
    }),
  );
  const deadLetters = new Counter(named({ name: `${p}dead_letters_total`, help: 'Messages given up, by reason.', labelNames: ['reason'] as const, registers }));
  const taskDuration = new Histogram(
    named({
      name: `${p}task_duration_seconds`,
      help: 'Run time of finished tasks (start of the last attempt to the end).',
      labelNames: ['task_type', 'status'] as const,
      buckets: o.taskBuckets,
      registers,
    }),
  );
  const tasksFinished = new Counter(
    named({ name: `${p}tasks_finished_total`, help: 'Tasks that reached a final state.', labelNames: ['task_type', 'status'] as const, registers }),
  );
  new Counter(
    named({
      name: `${p}task_retries_total`,
      help: 'Task attempts retried after a failure or a timeout.',
      registers,
      collect() {
        // The orchestrator counts retries itself; reading it at scrape time costs nothing per task.
        this.reset();
        this.inc(orchestrator.getStats().retries);
      },
    }),
  );
  new Gauge(
    named({
      name: `${p}tasks`,
      help: 'Tasks not finished, by status.',
      labelNames: ['status'] as const,
      registers,
      collect() {
        const stats = orchestrator.getStats();
        this.set({ status: 'pending' }, stats.pendingTasks);
        this.set({ status: 'assigned' }, stats.assignedTasks);
        this.set({ status: 'running' }, stats.runningTasks);
      },
    }),
  );
  const conflictOutcomes = new Counter(
    named({ name: `${p}conflicts_total`, help: 'Finished conflicts by type and outcome.', labelNames: ['type', 'outcome'] as const, registers }),
  );
  const votes = new Counter(named({ name: `${p}conflict_votes_total`, help: 'Votes received (abstentions apart).', labelNames: ['kind'] as const, registers }));
  new Gauge(
    named({
      name: `${p}conflicts_active`,
      help: 'Conflicts open now.',
      registers,
      collect() {
        this.set(conflicts.getStats().activeConflicts);
      },
    }),
  );
  const swarmShape = () => {
    const state = swarm.getNetworkState();
    return { n: listNeurons(state).length, e: listConnections(state).length };
  };
  new Gauge(
    named({
      name: `${p}swarm_density`,
      help: 'Swarm network density 2E / (N(N - 1)) (directed connections: up to 2).',
      registers,
      collect() {
        const { n, e } = swarmShape();
        this.set(n < 2 ? 0 : (2 * e) / (n * (n - 1)));
      },
    }),
  );
  new Gauge(
    named({
      name: `${p}swarm_neurons`,
      help: 'Agents in the swarm network.',
      registers,
      collect() {
        this.set(swarmShape().n);
      },
    }),
  );
  new Gauge(
    named({
      name: `${p}swarm_connections`,
      help: 'Connections in the swarm network.',
      registers,
      collect() {
        this.set(swarmShape().e);
      },
    }),
  );
  if (o.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: p });

  const countMessage = (message: Message, outcome: string) => {
    const byType = (messageTotals[outcome] ??= {});
    const byPriority = (byType[message.messageType] ??= {});
    byPriority[message.priority] = (byPriority[message.priority] ?? 0) + 1;
  };
  const acceptedAt = new WeakMap<Message, number>();
  const detach = attachBusHooks(bus, {
    onAccepted(message) {
      acceptedAt.set(message, performance.now());
      countMessage(message, 'accepted');
    },
    onSettled(message, _agentId, durationMs, error) {
      countMessage(message, error === undefined ? 'handled' : 'failed');
      handlerDuration.observe(message.messageType, durationMs / 1000);
      // Retried copies are new objects: they have no acceptance time and are not timed.
      const accepted = acceptedAt.get(message);
      if (accepted !== undefined) deliveryLatency.observe(message.priority, (performance.now() - accepted) / 1000);
    },
  });
  // The outcome event comes before the engine keeps the finished record: remember the type.
  const conflictTypes = new Map<string, string>();
  const subscriptions: Subscription[] = [
    bus.deadLetters$.subscribe((letter) => {
      deadLetters.labels(letter.reason).inc();
      if (letter.reason !== 'invalid') countMessage(letter.message, 'dead_lettered');
    }),
    orchestrator.finished$.subscribe((event) => {
      tasksFinished.labels(event.taskType, event.status).inc();
      if (event.durationMs !== null) taskDuration.labels(event.taskType, event.status).observe(event.durationMs / 1000);
    }),
    conflicts.events$.subscribe((event) => {
      if (event.type === 'CONFLICT_DETECTED') conflictTypes.set(event.conflictId, event.conflict.conflictType);
      else if (event.type === 'VOTE_RECEIVED') votes.labels(event.vote.decision === null ? 'abstention' : 'vote').inc();
      else if (event.type === 'CONFLICT_RESOLVED' || event.type === 'CONFLICT_ESCALATED') {
        const type = conflictTypes.get(event.conflictId) ?? conflicts.getConflict(event.conflictId)?.conflict.conflictType ?? 'unknown';
        conflictTypes.delete(event.conflictId);
        conflictOutcomes.labels(type, event.resolution.status).inc();
      }
    }),
  ];

  let disposed = false;
  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    dispose() {
      if (disposed) return;
      disposed = true;
      detach();
      for (const subscription of subscriptions) subscription.unsubscribe();
      if (ownRegistry) registry.clear();
      else for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
