/**
 * What users and user balancers are given of an agent (`getAgent`, a scoring balancer's
 * `score`, a choosing balancer's `choose`, `getAgentTaskHistory`) reads the orchestrator's
 * figures but cannot change them. Before, `getAgent` returned the orchestrator's own record:
 * `load = -100` made the agent take tasks without bound and `capabilities.add(...)` changed
 * what it was scheduled for; a history entry changed was the one the recent score reads.
 */
import { inspect } from 'node:util';
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, type AgentView } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

/** Every way a caller could try to change an agent through what it was given. */
function tamperWith(view: AgentView): void {
  const writable = view as unknown as Record<string, unknown>;
  for (const field of ['load', 'maxConcurrentTasks', 'performance', 'agentId']) {
    try {
      writable[field] = -100;
    } catch {
      // A getter without a setter throws in strict mode: refused either way.
    }
  }
  try {
    (view.capabilities as Set<string>).add('ghost');
    (view.capabilities as Set<string>).clear();
  } catch {
    // As above.
  }
}

describe('agent views', () => {
  test('getAgent reads the figures and cannot change them', async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    let release: () => void = () => {};
    nf.orchestrator.registerAgent('a', { capabilities: ['w'], maxConcurrentTasks: 1, execute: () => new Promise<void>((resolve) => (release = resolve)) });
    await nf.start();
    tamperWith(nf.orchestrator.getAgent('a') as AgentView);
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'x', requiredCapabilities: ['w'] },
        { taskId: 'y', requiredCapabilities: ['w'] },
      ],
    });
    await settle();
    const view = nf.orchestrator.getAgent('a') as AgentView;
    expect({ load: view.load, max: view.maxConcurrentTasks, performance: view.performance, id: view.agentId, capabilities: [...view.capabilities] }).toEqual({
      load: 1,
      max: 1,
      performance: 1,
      id: 'a',
      capabilities: ['w'],
    });
    // One slot: the second task waits, however the view was written to.
    expect(nf.orchestrator.getTask('y')?.status).toBe('pending');
    expect(JSON.parse(JSON.stringify(view))).toMatchObject({ agentId: 'a', capabilities: ['w'], load: 1, maxConcurrentTasks: 1 });
    expect(inspect(view)).toMatch(/agentId: 'a'.*load: 1/s);
    release();
    await nf.orchestrator.waitForWorkflow(['x']);
  });

  test('user balancers are given views: what they write does not reach the agents', async () => {
    const nf = cleanup.add(
      createNeuroFlux({
        clock: new SimulatedClock(),
        orchestrator: {
          balancers: [
            {
              name: 'meddling-score',
              score: (agent: AgentView) => {
                tamperWith(agent);
                return 1;
              },
            },
            {
              name: 'meddling-choice',
              choose: (_task: unknown, candidates: readonly AgentView[]) => {
                for (const agent of candidates) tamperWith(agent);
                return candidates[0]?.agentId;
              },
            },
          ],
        },
      }),
    );
    nf.orchestrator.registerAgent('a', { capabilities: ['w'], maxConcurrentTasks: 2, execute: () => 1 });
    await nf.start();
    const tasks = Array.from({ length: 6 }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['w'], balancer: i % 2 === 0 ? 'meddling-score' : 'meddling-choice' }));
    nf.orchestrator.submitWorkflow({ tasks });
    const records = await nf.orchestrator.waitForWorkflow(tasks.map((t) => t.taskId));
    expect(records.map((r) => r.status)).toEqual(Array.from({ length: 6 }, () => 'completed'));
    expect(nf.orchestrator.getAgent('a')).toMatchObject({ load: 0, maxConcurrentTasks: 2, performance: expect.any(Number) as number });
    expect([...(nf.orchestrator.getAgent('a') as AgentView).capabilities]).toEqual(['w']);
  });

  test('a history entry changed by its reader is not the one the recent score reads', async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    nf.orchestrator.registerAgent('a', { capabilities: ['w'], execute: () => 1 });
    await nf.start();
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'x', requiredCapabilities: ['w'] }] });
    await nf.orchestrator.waitForWorkflow(['x']);
    const before = (nf.orchestrator.getAgent('a') as AgentView).recentPerformance;
    for (const entry of nf.orchestrator.getAgentTaskHistory('a')) (entry as { outcome: string }).outcome = 'failed';
    expect(nf.orchestrator.getAgentTaskHistory('a').map((e) => e.outcome)).toEqual(['completed']);
    expect((nf.orchestrator.getAgent('a') as AgentView).recentPerformance).toBe(before);
  });
});
