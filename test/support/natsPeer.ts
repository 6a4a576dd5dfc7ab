/**
 * The peer process of test/natsTwoProcess.test.ts: a second OS process hosting NeuroFlux
 * runtimes on NATS, driven by the test over IPC.
 *
 * Started with `child_process.fork(natsPeer.ts, [natsUrl], { execArgv: ['-r', '@swc-node/register'] })`.
 * It sends `{ event: 'ready' }` once listening; then every IPC message `{ id, cmd }` is a
 * {@link PeerCommand}, answered with `{ id, ok: true, value }` or `{ id, ok: false, error }`.
 * Independently it pushes what happens in its runtimes as {@link PeerEvent}s: every message
 * one of its agents handled, every dead letter, every step of the task protocol. The test
 * asserts on those: data that really crossed the process boundary.
 *
 * One runtime per `instance` name (each test uses its own NATS namespace); `exit` stops them
 * all. The process also exits when its parent goes away (IPC disconnect).
 */
import { z } from 'zod';
import type { AgentHandle, AgentMessageInput } from '../../src/bus/agentHandle';
import type { RequestArgs } from '../../src/bus/communicationBus';
import type { AnyDeadLetter } from '../../src/bus/deadLetter';
import type { Message, MessagePriority } from '../../src/bus/message';
import type { MessageHandler } from '../../src/bus/registeredAgent';
import type { BusStats } from '../../src/bus/busStats';
import { createNeuroFlux, type NeuroFlux } from '../../src/runtime/createNeuroFlux';
import { TaskAssignmentPayloadSchema, TaskTopic } from '../../src/orchestration/taskProtocol';
import { nats, type NatsTransport, type TransportStats } from '../../src/transport';

/**
 * How a peer agent behaves:
 * - `record`: reports every message, answers nothing;
 * - `echo`: reports, and answers requests with `{ echo: payload, agentId, pid }` (after
 *   `payload.delayMs` when given);
 * - `gate`: an async handler (concurrency 1 unless given) that reports each message when it
 *   starts handling it, and holds a message whose payload has `block: true` until `release`;
 * - `throw`: reports, then throws `cannot handle <topic>`;
 * - `worker`: a remote task agent speaking the protocol of src/orchestration/taskProtocol.ts
 *   (see {@link WorkSpec} for what a task's payload makes it do).
 */
export type PeerBehaviour = 'record' | 'echo' | 'gate' | 'throw' | 'worker';

/** What a task's payload tells a `worker` peer agent to do. */
export interface WorkSpec {
  /** Added to the values of the dependency results: the task's result `value`. */
  value?: number;
  /** How long an attempt works before answering, ms (abortable by `task_cancel`). */
  workMs?: number;
  /** Attempts below this number answer `failed` (`boom on attempt <n>`). */
  failAttempts?: number;
  /** Attempts below this number never answer (until a `task_cancel` aborts them). */
  hangAttempts?: number;
}

/** The result a `worker` peer agent reports for a completed attempt. */
export interface WorkResult {
  value: number;
  taskId: string;
  attempt: number;
  agentId: string;
  pid: number;
}

export interface PeerStartOptions {
  instance: string;
  namespace: string;
  hmacSecret?: string;
  maxDeliver?: number;
  retryDelayMs?: number;
  /** The bus id of this runtime's own orchestrator (default `peer-orchestrator`: not the test's). */
  orchestratorId?: string;
}

/** Commands the test sends. */
export type PeerCommand =
  | ({ op: 'start' } & PeerStartOptions)
  | { op: 'stop'; instance: string }
  | { op: 'register'; instance: string; agentId: string; behaviour: PeerBehaviour; topics?: string[]; concurrency?: number }
  | { op: 'unregister'; instance: string; agentId: string }
  | { op: 'send'; instance: string; from: string; message: AgentMessageInput }
  | { op: 'publish' | 'broadcast'; instance: string; from: string; args: { topic: string; payload?: unknown; priority?: MessagePriority; ttl?: number } }
  | { op: 'request'; instance: string; from: string; args: Omit<RequestArgs, 'senderId'> }
  | { op: 'release'; instance: string; agentId: string }
  | { op: 'stats'; instance: string }
  | { op: 'exit' };

/** What `stats` returns. */
export interface PeerStats {
  bus: BusStats;
  transport: TransportStats;
}

/** An error thrown in the peer, as it crossed IPC. */
export interface PeerError {
  name: string;
  message: string;
  code?: string;
  recipientId?: string;
  reason?: string;
}

/** One step of the task protocol seen by a `worker` peer agent. */
export type TaskStep =
  | { kind: 'assigned'; taskId: string; attempt: number; dispatch?: string; priority: MessagePriority; dependencyResults: Record<string, unknown>; payload: unknown }
  | { kind: 'cancel'; taskId: string; attempt: number; reason?: string }
  | { kind: 'aborted'; taskId: string; attempt: number }
  | { kind: 'completed'; taskId: string; attempt: number; result: WorkResult }
  | { kind: 'failed'; taskId: string; attempt: number; error: string };

/** What the peer pushes without being asked. `at` is the peer's `Date.now()`. */
export type PeerEvent =
  | { event: 'ready'; pid: number }
  | { event: 'received'; instance: string; agentId: string; message: Message; at: number }
  | { event: 'deadLetter'; instance: string; letter: AnyDeadLetter; at: number }
  | ({ event: 'task'; instance: string; agentId: string; at: number } & TaskStep);

export type PeerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: PeerError };

const WorkSpecSchema = z.object({
  value: z.number().default(0),
  workMs: z.number().nonnegative().default(0),
  failAttempts: z.number().int().nonnegative().default(0),
  hangAttempts: z.number().int().nonnegative().default(0),
});

const CancelSchema = z.object({ taskId: z.string().min(1), attempt: z.number().int().nonnegative(), reason: z.string().optional() });

interface Instance {
  readonly nf: NeuroFlux;
  readonly transport: NatsTransport;
  readonly gates: Map<string, { promise: Promise<void>; release: () => void }>;
}

const instances = new Map<string, Instance>();

function emit(event: PeerEvent): void {
  process.send?.(event);
}

function instanceOf(name: string): Instance {
  const found = instances.get(name);
  if (!found) throw new Error(`no peer instance '${name}'`);
  return found;
}

function handleOf(instance: Instance, agentId: string): AgentHandle {
  const handle = instance.nf.bus.getAgent(agentId);
  if (!handle) throw new Error(`no peer agent '${agentId}'`);
  return handle;
}

function gateOf(instance: Instance, agentId: string): { promise: Promise<void>; release: () => void } {
  let gate = instance.gates.get(agentId);
  if (!gate) {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    gate = { promise, release };
    instance.gates.set(agentId, gate);
  }
  return gate;
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
function work(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const timer = ms === Infinity ? undefined : setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });
}

/** A remote task agent: assignments in; task_started and task_result out; task_cancel aborts. */
function workerHandler(instanceName: string, agentId: string): MessageHandler {
  const running = new Map<string, AbortController>();
  const cancelled = new Set<string>();
  const step = (s: TaskStep) => emit({ event: 'task', instance: instanceName, agentId, at: Date.now(), ...s });
  return async (message, agent) => {
    if (message.topic === TaskTopic.CANCEL) {
      const cancel = CancelSchema.parse(message.payload);
      step({ kind: 'cancel', taskId: cancel.taskId, attempt: cancel.attempt, ...(cancel.reason !== undefined && { reason: cancel.reason }) });
      const key = `${cancel.taskId}#${cancel.attempt}`;
      const controller = running.get(key);
      if (controller) controller.abort();
      else cancelled.add(key); // the cancel overtook its (lower priority) assignment
      return;
    }
    if (message.topic !== TaskTopic.ASSIGNMENT) return;
    const { task, attempt, dependencyResults, dispatch } = TaskAssignmentPayloadSchema.parse(message.payload);
    const taskId = task.taskId;
    const key = `${taskId}#${attempt}`;
    step({ kind: 'assigned', taskId, attempt, priority: message.priority, dependencyResults, payload: task['payload'], ...(dispatch !== undefined && { dispatch }) });
    const reply = (topic: string, payload: Record<string, unknown>) =>
      agent.send({ recipientId: message.senderId, messageType: 'notification', topic, payload: { ...payload, ...(dispatch !== undefined && { dispatch }) } });
    if (cancelled.delete(key)) {
      step({ kind: 'aborted', taskId, attempt });
      return;
    }
    const spec = WorkSpecSchema.parse(task['payload'] ?? {});
    reply(TaskTopic.STARTED, { taskId, attempt });
    const controller = new AbortController();
    running.set(key, controller);
    try {
      await work(attempt < spec.hangAttempts ? Infinity : spec.workMs, controller.signal);
    } catch {
      step({ kind: 'aborted', taskId, attempt });
      return;
    } finally {
      running.delete(key);
    }
    if (attempt < spec.failAttempts) {
      const error = `boom on attempt ${attempt}`;
      step({ kind: 'failed', taskId, attempt, error });
      reply(TaskTopic.RESULT, { taskId, attempt, status: 'failed', error });
      return;
    }
    let value = spec.value;
    for (const r of Object.values(dependencyResults)) value += (r as Partial<WorkResult> | undefined)?.value ?? 0;
    const result: WorkResult = { value, taskId, attempt, agentId, pid: process.pid };
    step({ kind: 'completed', taskId, attempt, result });
    reply(TaskTopic.RESULT, { taskId, attempt, status: 'completed', result });
  };
}

function handlerFor(instanceName: string, instance: Instance, agentId: string, behaviour: PeerBehaviour): MessageHandler {
  const received = (message: Message) => emit({ event: 'received', instance: instanceName, agentId, message, at: Date.now() });
  switch (behaviour) {
    case 'record':
      return (message) => received(message);
    case 'echo':
      return (message, agent) => {
        received(message);
        if (message.messageType !== 'request') return;
        const answer = { echo: message.payload, agentId, pid: process.pid };
        const delayMs = (message.payload as { delayMs?: unknown } | null)?.delayMs;
        if (typeof delayMs === 'number') setTimeout(() => agent.respond(message, answer), delayMs);
        else agent.respond(message, answer);
      };
    case 'gate':
      return async (message) => {
        received(message);
        if ((message.payload as { block?: unknown } | null)?.block === true) await gateOf(instance, agentId).promise;
      };
    case 'throw':
      return (message) => {
        received(message);
        throw new Error(`cannot handle ${message.topic}`);
      };
    case 'worker':
      return workerHandler(instanceName, agentId);
  }
}

async function run(cmd: PeerCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'start': {
      if (instances.has(cmd.instance)) throw new Error(`peer instance '${cmd.instance}' exists`);
      const transport = nats({
        servers: [url],
        namespace: cmd.namespace,
        name: `peer-${cmd.instance}`,
        ...(cmd.hmacSecret !== undefined && { hmacSecret: cmd.hmacSecret }),
        ...(cmd.maxDeliver !== undefined && { maxDeliver: cmd.maxDeliver }),
        ...(cmd.retryDelayMs !== undefined && { retryDelayMs: cmd.retryDelayMs }),
      });
      // Not the test's orchestrator id: task results must travel to the test process.
      const nf = createNeuroFlux({ transport, orchestrator: { orchestratorId: cmd.orchestratorId ?? 'peer-orchestrator' } });
      nf.bus.deadLetters$.subscribe((letter) => emit({ event: 'deadLetter', instance: cmd.instance, letter, at: Date.now() }));
      instances.set(cmd.instance, { nf, transport, gates: new Map() });
      await nf.start();
      return { pid: process.pid };
    }
    case 'stop': {
      const instance = instances.get(cmd.instance);
      instances.delete(cmd.instance);
      for (const gate of instance?.gates.values() ?? []) gate.release();
      await instance?.nf.stop();
      return true;
    }
    case 'register': {
      const instance = instanceOf(cmd.instance);
      const handler = handlerFor(cmd.instance, instance, cmd.agentId, cmd.behaviour);
      const concurrency = cmd.concurrency ?? (cmd.behaviour === 'worker' ? 16 : 1);
      instance.nf.bus.registerAgent(cmd.agentId, { handler, concurrency, ...(cmd.topics && { topics: cmd.topics }) });
      // The agent's core subscriptions are made at once; the flush makes sure the server has
      // them before the test sends (durable traffic waits in the stream anyway).
      await instance.transport.connection?.flush();
      return true;
    }
    case 'unregister':
      return instanceOf(cmd.instance).nf.bus.unregisterAgent(cmd.agentId);
    case 'send':
      return handleOf(instanceOf(cmd.instance), cmd.from).send(cmd.message);
    case 'publish':
      return handleOf(instanceOf(cmd.instance), cmd.from).publish(cmd.args);
    case 'broadcast':
      return handleOf(instanceOf(cmd.instance), cmd.from).broadcast(cmd.args);
    case 'request':
      return handleOf(instanceOf(cmd.instance), cmd.from).request(cmd.args);
    case 'release':
      gateOf(instanceOf(cmd.instance), cmd.agentId).release();
      return true;
    case 'stats': {
      const instance = instanceOf(cmd.instance);
      const stats: PeerStats = { bus: instance.nf.bus.getStats(), transport: instance.transport.getStats() };
      return stats;
    }
    case 'exit':
      await shutdown(0);
      return true;
  }
}

function toPeerError(error: unknown): PeerError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const e = error as Error & { code?: unknown; recipientId?: unknown; reason?: unknown };
  return {
    name: e.constructor.name,
    message: e.message,
    ...(typeof e.code === 'string' && { code: e.code }),
    ...(typeof e.recipientId === 'string' && { recipientId: e.recipientId }),
    ...(typeof e.reason === 'string' && { reason: e.reason }),
  };
}

let exiting = false;
async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  const timer = setTimeout(() => process.exit(code), 3000);
  timer.unref();
  for (const instance of instances.values()) {
    for (const gate of instance.gates.values()) gate.release();
    await instance.nf.stop().catch(() => undefined);
  }
  instances.clear();
  process.exit(code);
}

const url = process.argv[2] ?? '';

if (require.main === module) {
  if (!url || !process.send) {
    process.stderr.write('usage: fork(natsPeer.ts, [natsUrl], { execArgv: ["-r", "@swc-node/register"] })\n');
    process.exit(2);
  }
  process.on('message', (raw: { id: number; cmd: PeerCommand }) => {
    run(raw.cmd).then(
      (value) => process.send?.({ id: raw.id, ok: true, value } satisfies PeerReply),
      (error: unknown) => process.send?.({ id: raw.id, ok: false, error: toPeerError(error) } satisfies PeerReply),
    );
  });
  process.on('disconnect', () => void shutdown(1));
  emit({ event: 'ready', pid: process.pid });
}
