import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, type NeuroFlux } from '../src/runtime/createNeuroFlux';
import { DistributedTracer, formatTraceparent, instrumentTracing, parseTraceparent, traceContextOf, traceHeaders } from '../src/observability';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('neuroflux-test');

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});
beforeEach(() => exporter.reset());

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets simulated time pass, step by step, until `done()` holds. */
async function until(done: () => boolean, clock: SimulatedClock): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) {
    await settle();
    clock.increment(100);
  }
  await settle();
  if (!done()) throw new Error('condition not reached');
}

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((s) => s.name === name);
const one = (name: string, where: (s: ReadableSpan) => boolean = () => true): ReadableSpan => {
  const found = named(name).filter(where);
  if (found.length !== 1) throw new Error(`expected one '${name}' span, found ${found.length}`);
  return found[0] as ReadableSpan;
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const attr = (key: string, value: unknown) => (s: ReadableSpan) => s.attributes[key] === value;

describe('tracing: one workflow, one trace', () => {
  let nf: NeuroFlux;
  let clock: SimulatedClock;
  let stopTracing: () => void;

  beforeEach(async () => {
    clock = new SimulatedClock();
    nf = createNeuroFlux({ clock });
    stopTracing = instrumentTracing(nf, { tracer });
    let failedOnce = false;
    nf.bus.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
    nf.orchestrator.registerAgent('local', {
      capabilities: ['local'],
      execute: async (task) => {
        if (task.taskId === 'report') {
          await nf.bus.sendRequest({ senderId: 'local', recipientId: 'echo', topic: 'lookup', payload: 1 });
          if (!failedOnce) {
            failedOnce = true;
            throw new Error('flaky data source');
          }
        }
        return task.taskId;
      },
    });
    // An agent that lives "elsewhere": it gets task_assignment commands over the bus and
    // answers with task_result notifications.
    nf.bus.registerAgent('remote', {
      handler: (m, agent) => {
        if (m.topic !== 'task_assignment') return;
        const { task, attempt } = m.payload as { task: { taskId: string }; attempt: number };
        agent.send({ recipientId: 'orchestrator', messageType: 'notification', topic: 'task_result', payload: { taskId: task.taskId, attempt, status: 'completed', result: 42 } });
      },
    });
    nf.orchestrator.registerAgent('remote', { capabilities: ['remote'] });
    await nf.start();
  });

  afterEach(async () => {
    stopTracing();
    await nf.stop();
  });

  test('workflow → tasks → queued/attempts/retry backoff, and the messages of each attempt under it', async () => {
    const submitted = nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'fetch', taskType: 'fetch', requiredCapabilities: ['local'] },
        { taskId: 'analyse', taskType: 'analysis', dependencies: ['fetch'], requiredCapabilities: ['remote'] },
        { taskId: 'report', taskType: 'report', dependencies: ['analyse'], requiredCapabilities: ['local'], retryPolicy: { maxRetries: 2, initialDelay: 1 } },
      ],
    });
    let finished = false;
    void nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId)).then(() => (finished = true));
    await until(() => finished && named('workflow').length === 1, clock);

    const workflow = one('workflow');
    expect(parentOf(workflow)).toBeUndefined();
    const traceId = workflow.spanContext().traceId;
    expect(new Set(spans().map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    expect(workflow.attributes['neuroflux.workflow.tasks']).toBe(3);

    const task = (id: string) => one(`task ${id === 'fetch' ? 'fetch' : id === 'analyse' ? 'analysis' : 'report'}`, attr('neuroflux.task.id', id));
    for (const id of ['fetch', 'analyse', 'report']) {
      expect(parentOf(task(id))).toBe(idOf(workflow));
      expect(task(id).status.code).toBe(SpanStatusCode.OK);
      expect(
        named('task.queued')
          .filter(attr('neuroflux.task.id', id))
          .every((s) => parentOf(s) === idOf(task(id))),
      ).toBe(true);
    }
    // Retries: two attempts of `report`, the first failed, with a backoff between them.
    const attempts = named('task.attempt').filter(attr('neuroflux.task.id', 'report'));
    expect(attempts.map((a) => a.attributes['neuroflux.task.attempt']).sort()).toEqual([0, 1]);
    expect(attempts.find(attr('neuroflux.task.attempt', 0))?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'flaky data source' });
    expect(parentOf(one('task.retry_backoff'))).toBe(idOf(task('report')));
    expect(task('report').events.map((e) => e.name)).toContain('retry');

    // The remote agent's assignment: attempt → send → deliver → handle → its result message.
    const analyseAttempt = one('task.attempt', attr('neuroflux.task.id', 'analyse'));
    const send = one('send task_assignment');
    expect(parentOf(send)).toBe(idOf(analyseAttempt));
    const deliver = one('deliver task_assignment');
    expect(parentOf(deliver)).toBe(idOf(send));
    expect(deliver.attributes['neuroflux.agent.id']).toBe('remote');
    const handle = one('handle task_assignment');
    expect(parentOf(handle)).toBe(idOf(deliver));
    expect(parentOf(one('send task_result'))).toBe(idOf(handle));

    // What an in-process executor sends belongs to its attempt.
    const lookups = named('send lookup');
    expect(lookups).toHaveLength(2);
    expect(lookups.map(parentOf).sort()).toEqual(attempts.map(idOf).sort());
    const responses = named('send response');
    expect(responses.every((r) => named('handle lookup').some((h) => idOf(h) === parentOf(r)))).toBe(true);
  });

  test('dispose removes the hooks: no more spans, no more trace headers', async () => {
    stopTracing();
    const reply = await nf.bus.sendRequest({ senderId: 'me', recipientId: 'echo', topic: 'ping', payload: 1 });
    expect(reply.headers).toBeUndefined();
    expect(spans()).toHaveLength(0);
  });

  test('dispose ends the spans still open, marked incomplete', async () => {
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'stuck', requiredCapabilities: ['nobody'] }] }, { requireCapableAgents: false });
    await settle();
    expect(named('task.queued')).toHaveLength(0);
    stopTracing();
    expect(one('task.queued').attributes['neuroflux.trace.incomplete']).toBe(true);
    expect(one('workflow').attributes['neuroflux.trace.incomplete']).toBe(true);
  });
});

describe('tracing: W3C trace context in message headers', () => {
  test('a trace continues in another process that receives the message', async () => {
    const a = createNeuroFlux({ clock: new SimulatedClock() });
    const b = createNeuroFlux({ clock: new SimulatedClock() });
    const stopA = instrumentTracing(a, { tracer });
    const stopB = instrumentTracing(b, { tracer });
    let received: { headers?: Record<string, string> } | undefined;
    b.bus.registerAgent('sink', { handler: (m) => void (received = m) });
    // A's bridge forwards what it gets as a frame to B, headers included (what a transport does).
    a.bus.registerAgent('bridge', {
      handler: (m) => void b.bus.acceptFrame({ senderId: m.senderId, recipientId: 'sink', messageType: m.messageType, topic: m.topic, payload: m.payload, headers: m.headers }),
    });
    await a.start();
    await b.start();
    a.bus.sendMessage({ senderId: 'client', recipientId: 'bridge', messageType: 'command', topic: 'order' });
    await a.bus.whenIdle();
    await b.bus.whenIdle();
    const [sendA, sendB] = named('send order').sort((x, y) => (parentOf(x) === undefined ? -1 : parentOf(y) === undefined ? 1 : 0));
    expect(sendA && sendB).toBeTruthy();
    expect(sendB?.spanContext().traceId).toBe(sendA?.spanContext().traceId);
    expect(parentOf(sendB as ReadableSpan)).toBe(idOf(sendA as ReadableSpan));
    expect(sendB?.parentSpanContext?.isRemote).toBe(true);
    expect(parseTraceparent(received?.headers?.['traceparent'] ?? '')?.spanId).toBe(idOf(sendB as ReadableSpan));
    stopA();
    stopB();
    await a.stop();
    await b.stop();
  });

  test('traceparent parsing and formatting follow the spec', () => {
    const value = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const parsed = parseTraceparent(value);
    expect(parsed).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true });
    expect(formatTraceparent(parsed!)).toBe(value);
    expect(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeNull();
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeNull();
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra')).toBeNull();
    expect(parseTraceparent('garbage')).toBeNull();
    const span = tracer.startSpan('outer');
    const headers = traceHeaders(trace.setSpan(context.active(), span));
    expect(headers['traceparent']).toBe(formatTraceparent(span.spanContext()));
    expect(trace.getSpanContext(traceContextOf(headers))?.spanId).toBe(span.spanContext().spanId);
    span.end();
  });
});

describe('tracing: conflicts', () => {
  test('a conflict span holds its consensus round, with one event per vote and the vote requests under it', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const stop = instrumentTracing(nf, { tracer });
    nf.bus.registerAgent('bus_voter', {
      handler: (m, agent) => void agent.respond(m, { decision: 'BUY', confidence: 0.9, reasoning: 'momentum' }),
    });
    nf.conflicts.registerVoter('fn_voter', () => ({ decision: 'BUY', confidence: 0.8 }));
    await nf.start();
    const resolution = await nf.conflicts.resolveConflict({ conflictType: 'signal_conflict', involvedAgents: ['bus_voter', 'fn_voter'], severity: 0.5 });
    expect(resolution.status).toBe('resolved');
    await settle();
    const conflict = one('conflict signal_conflict');
    expect(parentOf(conflict)).toBeUndefined();
    expect(conflict.attributes['neuroflux.conflict.outcome']).toBe('resolved');
    const consensus = one('consensus voting_consensus');
    expect(parentOf(consensus)).toBe(idOf(conflict));
    expect(
      consensus.events
        .filter((e) => e.name === 'vote')
        .map((e) => e.attributes?.['neuroflux.vote.agent'])
        .sort(),
    ).toEqual(['bus_voter', 'fn_voter']);
    expect(parentOf(one('send conflict_vote'))).toBe(idOf(consensus));
    stop();
    await nf.stop();
  });
});

describe('DistributedTracer: the guide API over OpenTelemetry', () => {
  test('traces, nested spans, tags and logs become OTel spans, attributes and events', () => {
    const guide = new DistributedTracer({ tracer });
    const traceId = guide.startTrace('rebalance', 'portfolio_agent');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const fetch = guide.startSpan(traceId, 'fetch_prices') as string;
    const parse = guide.startSpan(traceId, 'parse', fetch) as string;
    guide.addSpanTag(traceId, fetch, 'symbols', 12);
    guide.logToSpan(traceId, parse, 'bad row skipped', 'warn');
    guide.logToSpan(traceId, parse, 'feed down', 'error');
    expect(guide.getTrace(traceId)).toMatchObject({ operation: 'rebalance', agentId: 'portfolio_agent', openSpans: 3 });
    guide.endSpan(traceId, parse);
    guide.endTrace(traceId);
    expect(guide.getTrace(traceId)).toBeUndefined();
    const root = one('rebalance');
    expect(root.spanContext().traceId).toBe(traceId);
    expect(root.attributes['neuroflux.agent.id']).toBe('portfolio_agent');
    const fetchSpan = one('fetch_prices');
    expect(parentOf(fetchSpan)).toBe(idOf(root));
    expect(fetchSpan.attributes['symbols']).toBe(12);
    const parseSpan = one('parse');
    expect(parentOf(parseSpan)).toBe(fetch);
    expect(parseSpan.events.map((e) => e.attributes?.['log.severity'])).toEqual(['warn', 'error']);
    expect(parseSpan.status.code).toBe(SpanStatusCode.ERROR);
  });

  test('unknown ids are ignored, and without an SDK ids are still unique', () => {
    const guide = new DistributedTracer({ tracer: trace.getTracer('no-sdk') });
    const first = guide.startTrace('a', 'x');
    const second = guide.startTrace('b', 'x');
    expect(first).not.toBe(second);
    expect(guide.startSpan('nope', 'child')).toBeUndefined();
    expect(guide.startSpan(first, 'child', 'nope')).toBeUndefined();
    expect(() => guide.endSpan('nope', 'nope')).not.toThrow();
    expect(() => guide.addSpanTag(first, 'nope', 'k', 1)).not.toThrow();
    const child = guide.startSpan(first, 'child') as string;
    expect(guide.contextOf(first, child)).toBeDefined();
    guide.endTrace(first);
    guide.endTrace(second);
  });
});
