import { Registry } from 'prom-client';
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, type NeuroFlux } from '../src/runtime/createNeuroFlux';
import { createMetrics, instrumentTracing, type RuntimeMetrics } from '../src/observability';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The value of one sample line of the text format (`name{labels} value`). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  let clock: SimulatedClock;
  let nf: NeuroFlux;
  let metrics: RuntimeMetrics;

  beforeEach(async () => {
    clock = new SimulatedClock();
    nf = createNeuroFlux({ clock });
    metrics = createMetrics(nf);
    await nf.start();
  });

  afterEach(async () => {
    metrics.dispose();
    await nf.stop();
  });

  test('messages by type, priority and outcome, with handler and delivery latency histograms', async () => {
    nf.bus.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
    nf.bus.registerAgent('flaky', {
      handler: () => {
        throw new Error('boom');
      },
    });
    await nf.bus.sendRequest({ senderId: 'me', recipientId: 'echo', topic: 'ping', payload: 1, priority: 'high' });
    nf.bus.sendMessage({ senderId: 'me', recipientId: 'flaky', messageType: 'command', topic: 'go', maxRetries: 1, priority: 'critical' });
    await nf.bus.whenIdle();
    const text = await metrics.text();
    expect(sample(text, 'neuroflux_messages_total{type="request",priority="high",outcome="accepted"}')).toBe(1);
    expect(sample(text, 'neuroflux_messages_total{type="request",priority="high",outcome="handled"}')).toBe(1);
    expect(sample(text, 'neuroflux_messages_total{type="response",priority="high",outcome="accepted"}')).toBe(1);
    expect(sample(text, 'neuroflux_messages_total{type="command",priority="critical",outcome="failed"}')).toBe(2);
    expect(sample(text, 'neuroflux_messages_total{type="command",priority="critical",outcome="dead_lettered"}')).toBe(1);
    expect(sample(text, 'neuroflux_dead_letters_total{reason="max_retries"}')).toBe(1);
    expect(sample(text, 'neuroflux_message_handler_duration_seconds_count{type="request"}')).toBe(1);
    // The retried copy is not timed from acceptance: one latency sample for the command.
    expect(sample(text, 'neuroflux_message_delivery_latency_seconds_count{priority="critical"}')).toBe(1);
    expect(sample(text, 'neuroflux_message_delivery_latency_seconds_bucket{le="+Inf",priority="high"}')).toBe(1);
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  test('mailbox depth, dead letters by reason and registered agents', async () => {
    nf.bus.registerAgent('puller');
    for (let i = 0; i < 3; i++) nf.bus.sendMessage({ senderId: 'me', recipientId: 'puller', messageType: 'command', topic: 'job' });
    nf.bus.sendMessage({ senderId: 'me', recipientId: 'nobody', messageType: 'command', topic: 'lost' });
    nf.bus.sendMessage({ senderId: 'me', recipientId: 'puller', messageType: 'command', topic: 'stale', ttl: 1 });
    clock.increment(5000);
    await settle();
    const text = await metrics.text();
    expect(sample(text, 'neuroflux_mailbox_depth')).toBe(3);
    expect(sample(text, 'neuroflux_dead_letters_total{reason="no_route"}')).toBe(1);
    expect(sample(text, 'neuroflux_dead_letters_total{reason="expired"}')).toBe(1);
    expect(sample(text, 'neuroflux_registered_agents')).toBe(nf.bus.getAgentIds().length);
  });

  test('task durations by type and status, retries, tasks by status', async () => {
    let attempts = 0;
    nf.orchestrator.registerAgent('worker', {
      capabilities: ['work'],
      execute: async (task) => {
        if (task.taskType === 'flaky' && attempts++ === 0) throw new Error('first attempt fails');
        return 'ok';
      },
    });
    const submitted = nf.orchestrator.submitWorkflow(
      {
        tasks: [
          { taskId: 'a', taskType: 'steady', requiredCapabilities: ['work'] },
          { taskId: 'b', taskType: 'flaky', requiredCapabilities: ['work'], retryPolicy: { maxRetries: 1, initialDelay: 1 } },
          { taskId: 'c', taskType: 'never', requiredCapabilities: ['absent'] },
        ],
      },
      { requireCapableAgents: false },
    );
    for (let i = 0; i < 20 && nf.orchestrator.getTaskStatus('b') !== 'completed'; i++) {
      await settle();
      clock.increment(500);
    }
    expect(submitted).toHaveLength(3);
    const text = await metrics.text();
    expect(sample(text, 'neuroflux_tasks_finished_total{task_type="steady",status="completed"}')).toBe(1);
    expect(sample(text, 'neuroflux_tasks_finished_total{task_type="flaky",status="completed"}')).toBe(1);
    expect(sample(text, 'neuroflux_task_duration_seconds_count{task_type="flaky",status="completed"}')).toBe(1);
    expect(sample(text, 'neuroflux_task_retries_total')).toBe(1);
    expect(sample(text, 'neuroflux_tasks{status="pending"}')).toBe(1);
  });

  test('conflicts by type and outcome, votes, and swarm density', async () => {
    nf.conflicts.registerVoter('a', () => ({ decision: 'BUY', confidence: 0.9 }));
    nf.conflicts.registerVoter('b', () => ({ decision: 'BUY', confidence: 0.8 }));
    await nf.conflicts.resolveConflict({ conflictType: 'signal_conflict', involvedAgents: ['a', 'b'], severity: 0.4 });
    nf.swarm.addAgent('x');
    nf.swarm.addAgent('y');
    nf.swarm.addAgent('z');
    nf.swarm.createConnection('x', 'y');
    const text = await metrics.text();
    expect(sample(text, 'neuroflux_conflicts_total{type="signal_conflict",outcome="resolved"}')).toBe(1);
    expect(sample(text, 'neuroflux_conflict_votes_total{kind="vote"}')).toBe(2);
    expect(sample(text, 'neuroflux_conflicts_active')).toBe(0);
    expect(sample(text, 'neuroflux_swarm_neurons')).toBe(3);
    expect(sample(text, 'neuroflux_swarm_connections')).toBe(1);
    expect(sample(text, 'neuroflux_swarm_density')).toBeCloseTo((2 * 1) / (3 * 2));
  });

  test('works beside tracing (both hook the bus), and dispose stops counting', async () => {
    const stopTracing = instrumentTracing(nf);
    nf.bus.registerAgent('sink', { handler: () => undefined });
    nf.bus.sendMessage({ senderId: 'me', recipientId: 'sink', messageType: 'event', topic: 'tick' });
    await nf.bus.whenIdle();
    expect(sample(await metrics.text(), 'neuroflux_messages_total{type="event",priority="medium",outcome="handled"}')).toBe(1);
    stopTracing();
    nf.bus.sendMessage({ senderId: 'me', recipientId: 'sink', messageType: 'event', topic: 'tick' });
    await nf.bus.whenIdle();
    expect(sample(await metrics.text(), 'neuroflux_messages_total{type="event",priority="medium",outcome="handled"}')).toBe(2);
    metrics.dispose();
    expect((await metrics.text()).trim()).toBe('');
  });

  test('a registry and prefix of your own', async () => {
    const registry = new Registry();
    const own = createMetrics(nf, { registry, prefix: 'desk_' });
    expect(await registry.metrics()).toMatch(/^# HELP desk_messages_total/m);
    own.dispose();
    expect((await registry.metrics()).trim()).toBe('');
    expect(() => createMetrics(nf, { prefix: 'bad prefix' })).toThrow(/prefix/);
  });
});
