import { Subject, type Observable } from 'rxjs';
import { createActor, fromPromise, type Actor, type AnyActorRef } from 'xstate';
import { z } from 'zod';
import { autoscalerMachine, type AutoscalerDecision } from '../../machines/autoscaler.machine';
import { describeError } from '../describeError';
import { ErrorCode, NeuroFluxError, ValidationError } from '../errors';
import type { CommunicationBus } from '../bus/communicationBus';
import type { NeuroFluxClock } from '../kernel/clock';
import { systemIdPrefixOf } from '../kernel/systemIdScope';
import type { CapabilityFigures, TaskOrchestrator } from '../orchestration/taskOrchestrator';
import type { HostLauncher } from './hostLauncher';
import { HostStopError } from './localHostLauncher';
import { CapacityPolicySchema, type CapacityPolicy, type CapacitySample, type ParsedCapacityPolicy } from './model/capacityPlan';
import type { ScalingEvent } from './scalingEvents';

const IntervalSchema = z.object({ intervalMs: z.number().positive().max(86_400_000).default(1000) });

/** What a {@link ScalingManager} reads of the runtime (a `NeuroFlux` fits as it is). */
export interface ScaledRuntime {
  readonly orchestrator: Pick<TaskOrchestrator, 'capabilityFigures' | 'getAgent'>;
  readonly clock: NeuroFluxClock;
  /** The runtime's root actor: the scalers join its system (its clock, and the inspector sees them). */
  readonly system?: AnyActorRef;
  /** The runtime's bus: every scaling event is also published on it (topic `scaling.<type>`), so the inspector's message list and other processes see it. */
  readonly bus?: Pick<CommunicationBus, 'publishEvent'>;
}

/** Options of a {@link ScalingManager}. */
export interface ScalingManagerOptions {
  runtime: ScaledRuntime;
  /** Starts and stops the hosts (e.g. {@link LocalHostLauncher}). Closed by `stop()`. */
  launcher: HostLauncher;
  /** The capabilities to scale, each with its own policy over `policy` if given as a record. */
  capabilities: readonly string[] | Readonly<Record<string, CapacityPolicy>>;
  /** Policy of every capability (defaults: {@link CapacityPolicySchema}). */
  policy?: CapacityPolicy;
  /** Time between checks, ms (default 1000), on the runtime's clock. */
  intervalMs?: number;
  /** Where the figures come from (default: the runtime orchestrator's `capabilityFigures`). */
  figures?: (capability: string) => CapabilityFigures | Promise<CapabilityFigures>;
}

const CapabilityNameSchema = z.string().min(1).max(200);

/** How long `stop()` waits, after closing the launcher, for its starts and stops in progress, ms. */
const STOP_WAIT_MS = 5000;

/**
 * Scales agent hosts per capability from the orchestrator's live figures: every
 * `intervalMs` on the runtime's clock it reads the tasks waiting for the capability, the
 * oldest wait and its agents' utilisation, decides (an `autoscaler` statechart per
 * capability: watching, scaling up or down, cooling down) and starts or drains hosts
 * through the {@link HostLauncher}. Decisions and failures are published on `events$` and,
 * with the runtime's bus, as bus events (topic `scaling.<type>`, sender `scaling:<capability>`);
 * the scalers are actors of the runtime's system (`scaling:<capability>`): the inspector shows
 * both, the actor with its state and last plan, the events in its message list.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux({ transport: nats({ servers, namespace: 'prod' }) });
 * const launcher = new LocalHostLauncher({ nats: servers, namespace: 'prod', workflowFile: 'agents.json', clock: nf.clock });
 * const scaling = new ScalingManager({ runtime: nf, launcher, capabilities: { compute: { minHosts: 1, maxHosts: 4 } } });
 * scaling.events$.subscribe((e) => console.log(e.type, e));
 * await nf.start();
 * scaling.start();
 * // ...
 * await scaling.stop(); // stops every host it started
 * ```
 */
export class ScalingManager {
  /** Every decision (`scale_up`, `scale_down`) and failure, in order. */
  readonly events$: Observable<ScalingEvent>;
  private readonly subject = new Subject<ScalingEvent>();
  private readonly runtime: ScaledRuntime;
  private readonly launcher: HostLauncher;
  private readonly policies: ReadonlyMap<string, ParsedCapacityPolicy>;
  private readonly intervalMs: number;
  private readonly figures: (capability: string) => CapabilityFigures | Promise<CapabilityFigures>;
  private readonly lastFigures = new Map<string, CapabilityFigures>();
  private readonly actors = new Map<string, Actor<typeof autoscalerMachine>>();
  /** Starts and stops in progress: `stop()` waits for them before closing the launcher. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private stopping: Promise<void> | undefined;

  constructor(options: ScalingManagerOptions) {
    const launcher = options?.launcher;
    if (!launcher || typeof launcher.start !== 'function' || typeof launcher.stop !== 'function' || typeof launcher.hosts !== 'function' || typeof launcher.close !== 'function') {
      throw new ValidationError('scaling options', [{ path: 'launcher', message: 'must have start, stop, hosts and close' }]);
    }
    const runtime = options.runtime;
    if (typeof runtime?.orchestrator?.capabilityFigures !== 'function' || typeof runtime.clock?.now !== 'function') {
      throw new ValidationError('scaling options', [{ path: 'runtime', message: 'must have an orchestrator and a clock' }]);
    }
    if (options.figures !== undefined && typeof options.figures !== 'function') {
      throw new ValidationError('scaling options', [{ path: 'figures', message: 'must be a function' }]);
    }
    const interval = IntervalSchema.safeParse({ intervalMs: options.intervalMs });
    if (!interval.success) throw ValidationError.fromZod('scaling options', interval.error);
    this.runtime = runtime;
    this.launcher = launcher;
    this.intervalMs = interval.data.intervalMs;
    this.figures = options.figures ?? ((capability) => runtime.orchestrator.capabilityFigures(capability));
    this.policies = parsePolicies(options.capabilities, options.policy);
    this.events$ = this.subject.asObservable();
    // The runtime stopping stops scaling too, and with it every host the launcher started.
    runtime.system?.subscribe({ complete: () => void this.stop(), error: () => void this.stop() });
  }

  /** The capabilities scaled and their validated policies. */
  get capabilities(): ReadonlyMap<string, ParsedCapacityPolicy> {
    return this.policies;
  }

  /** Starts checking (first check after one interval). */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'running';
    const logic = autoscalerMachine.provide({
      actors: {
        sampleFigures: fromPromise(async ({ input }) => this.sample(input.capability)),
        startHosts: fromPromise(async ({ input }) => this.track(this.startHosts(input.capability, input.count))),
        stopHosts: fromPromise(async ({ input }) => this.track(this.stopHosts(input.hostIds))),
      },
      actions: {
        reportDecision: (_, decision) => this.publishDecision(decision),
        reportCompleted: (_, { capability, action }) => this.publishCompleted(capability, action),
        reportFailure: (_, { capability, stage, error }) =>
          this.publish({
            type: 'scaling_failed',
            capability,
            stage,
            error: describeError(error),
            ...(error instanceof NeuroFluxError && { code: error.code }),
            at: this.runtime.clock.now(),
          }),
        reportRefusedFigures: (_, { capability, reason }) => this.publish({ type: 'scaling_figures_refused', capability, reason, at: this.runtime.clock.now() }),
      },
      delays: { checkInterval: this.intervalMs },
    });
    for (const [capability, policy] of this.policies) {
      const actor = createActor(logic, {
        input: { capability, policy },
        // One scaler per capability in a runtime: its system id is `scaling:<capability>` (prefixed
        // for a second runtime embedded in the same system).
        ...(this.runtime.system
          ? { parent: this.runtime.system, id: `scaling:${capability}`, systemId: `${systemIdPrefixOf(this.runtime.system)}scaling:${capability}` }
          : { clock: this.runtime.clock }),
      });
      this.actors.set(capability, actor);
      actor.start();
    }
  }

  /**
   * Stops checking, closes the launcher (every host it started stops, one still starting
   * too), then waits for the starts and stops in progress (5 s at most). Called by itself when the runtime's system stops; await it (before
   * `nf.stop()`) to know the hosts are gone.
   */
  stop(): Promise<void> {
    return (this.stopping ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    this.state = 'stopped';
    for (const actor of this.actors.values()) {
      // Its final state ends it (an actor of the runtime's system cannot be stopped from outside).
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'SCALING_STOPPED' });
      if (!this.runtime.system) actor.stop();
    }
    this.actors.clear();
    // Close first: a start in progress is cut short (its host stopped) rather than awaited for
    // up to the launcher's start timeout. A launcher whose start never settles is waited for
    // at most STOP_WAIT_MS (real time: the runtime's clock may be stopping, or simulated).
    await this.launcher.close();
    let bound: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<void>((resolve) => (bound = setTimeout(resolve, STOP_WAIT_MS)));
    bound?.unref?.();
    await Promise.race([Promise.allSettled([...this.inFlight]), gaveUp]);
    clearTimeout(bound);
    // A launcher that let a start finish meanwhile stops that host too.
    await this.launcher.close();
    this.subject.complete();
  }

  /** The state of a capability's scaler (`watching`, `sampling`, `scalingUp`, `scalingDown`, `coolingDown`), for tests and tools. */
  stateOf(capability: string): string | undefined {
    const value = this.actors.get(capability)?.getSnapshot().value;
    return typeof value === 'string' ? value : undefined;
  }

  private async sample(capability: string): Promise<CapacitySample> {
    const figures = await this.figures(capability);
    this.lastFigures.set(capability, figures);
    const hosts = this.launcher.hosts().filter((h) => h.capability === capability);
    // Slots of the launcher's own hosts (not of other agents with the capability): what one more host adds.
    let slots = 0;
    let counted = 0;
    for (const h of hosts) {
      if (h.state !== 'running' || h.agentIds.length === 0) continue;
      const agents = h.agentIds.map((id) => this.runtime.orchestrator.getAgent(id));
      if (agents.some((a) => a === undefined)) continue;
      slots += agents.reduce((n, a) => n + (a?.maxConcurrentTasks ?? 0), 0);
      counted++;
    }
    return {
      ...(counted > 0 && slots > 0 && { slotsPerHost: slots / counted }),
      figures,
      hosts: hosts.map((h) => ({ hostId: h.hostId, state: h.state, busy: h.agentIds.some((id) => (this.runtime.orchestrator.getAgent(id)?.load ?? 0) > 0) })),
      at: this.runtime.clock.now(),
    };
  }

  private async startHosts(capability: string, count: number): Promise<void> {
    const outcomes = await Promise.allSettled(Array.from({ length: count }, () => this.launcher.start(capability)));
    const reasons = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    if (reasons.length === 0) return;
    const message = `${reasons.length} of ${count} hosts did not start: ${reasons.map(describeError).join('; ')}`;
    // The launcher's own code (HostStartError's, or a custom launcher's NeuroFluxError) is kept, and what it threw is the cause.
    const coded = reasons.find((r): r is NeuroFluxError => r instanceof NeuroFluxError);
    throw new NeuroFluxError(coded?.code ?? ErrorCode.HOST_START, message, { cause: causeOf(reasons, message) });
  }

  private async stopHosts(hostIds: readonly string[]): Promise<void> {
    const outcomes = await Promise.allSettled(hostIds.map((id) => this.launcher.stop(id)));
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ hostId: hostIds[i] as string, reason: o.reason as unknown }] : []));
    if (failed.length === 0) return;
    const reasons = failed.map((f) => f.reason);
    const text = reasons.map(describeError).join('; ');
    throw new HostStopError(
      failed.map((f) => f.hostId),
      hostIds.length,
      text,
      { cause: causeOf(reasons, text) },
    );
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = () => void this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  private publishDecision({ capability, plan, sample }: AutoscalerDecision): void {
    const figures = this.lastFigures.get(capability) ?? { capability, agents: 0, ...sample.figures };
    this.publish({
      type: plan.action,
      capability,
      from: plan.from,
      to: plan.to,
      reason: plan.reason,
      figures,
      hostIds: plan.action === 'scale_down' ? [...plan.hostIds] : [],
      at: sample.at,
    });
  }

  private publishCompleted(capability: string, action: 'scale_up' | 'scale_down'): void {
    let hosts = Number.NaN;
    try {
      hosts = this.launcher.hosts().filter((h) => h.capability === capability && h.state !== 'stopping').length;
    } catch {
      // A user launcher whose listing throws: the count is unknown (NaN), the event still goes out.
    }
    this.publish({ type: 'scaling_completed', capability, action, hosts, at: this.runtime.clock.now() });
  }

  private publish(event: ScalingEvent): void {
    // A throwing subscriber is rxjs's to report; it must not fail the scaler's step.
    try {
      this.subject.next(event);
    } catch {
      // ignored on purpose (see above)
    }
    try {
      this.runtime.bus?.publishEvent({ senderId: `scaling:${event.capability}`, topic: `scaling.${event.type}`, payload: toJson(event) });
    } catch {
      // The bus stopped (or a user's figures carry something that is not JSON): events$ has it anyway.
    }
  }
}

/** The event as plain JSON for the bus (non-finite numbers, which JSON cannot carry, as null). */
function toJson(event: ScalingEvent): unknown {
  return JSON.parse(JSON.stringify(event)) as unknown;
}

function parsePolicies(capabilities: ScalingManagerOptions['capabilities'] | undefined, shared: CapacityPolicy | undefined): ReadonlyMap<string, ParsedCapacityPolicy> {
  if (capabilities === null || typeof capabilities !== 'object') {
    throw new ValidationError('scaling options', [{ path: 'capabilities', message: 'must be a list of capabilities or a record of policies' }]);
  }
  const entries: [string, CapacityPolicy | undefined][] = Array.isArray(capabilities)
    ? (capabilities as readonly string[]).map((c) => [c, undefined])
    : Object.entries(capabilities as Record<string, CapacityPolicy>);
  if (entries.length === 0) throw new ValidationError('scaling options', [{ path: 'capabilities', message: 'must name at least one capability' }]);
  const policies = new Map<string, ParsedCapacityPolicy>();
  for (const [capability, own] of entries) {
    if (!CapabilityNameSchema.safeParse(capability).success) {
      throw new ValidationError('scaling options', [{ path: 'capabilities', message: 'capability names are non-empty strings of at most 200 characters' }]);
    }
    const parsed = CapacityPolicySchema.safeParse({ ...(shared ?? {}), ...(own ?? {}) });
    if (!parsed.success) throw ValidationError.fromZod(`scaling policy of '${capability}'`, parsed.error);
    if (parsed.data.minHosts > parsed.data.maxHosts) {
      throw new ValidationError(`scaling policy of '${capability}'`, [{ path: 'minHosts', message: `must be at most maxHosts (${parsed.data.maxHosts})` }]);
    }
    policies.set(capability, parsed.data);
  }
  return policies;
}

/** What several hosts threw, as one `cause`: the value itself when only one failed. */
function causeOf(reasons: readonly unknown[], message: string): unknown {
  return reasons.length === 1 ? reasons[0] : new AggregateError(reasons, message);
}
