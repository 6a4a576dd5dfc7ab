/**
 * One event object reaches every subscriber of `events$`, `finished$`, `attempts$` and
 * `outcomes$` (the swarm among them): a subscriber cannot change it for the others. Before,
 * a conflict event carried the engine's own conflict, so `event.conflict.involvedAgents.push('ghost')`
 * in a subscriber made the vote wait for an agent that does not exist; a task event's
 * `producerAgentIds` was the array the swarm learned from at the end of the turn.
 */
import type { ConflictEvent, TaskEvent } from '../src';
import { createNeuroFlux } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { signalConflict } from './support/conflictFixtures';

const cleanup = cleanupAfterEach();

function refusals(changes: (() => unknown)[]): string[] {
  return changes.map((change) => {
    try {
      change();
      return 'changed';
    } catch (error) {
      return (error as Error).constructor.name;
    }
  });
}

describe('events given to subscribers', () => {
  test("a conflict event's conflict, votes and resolution cannot be changed by a subscriber", async () => {
    const nf = cleanup.add(createNeuroFlux());
    for (const agentId of ['a', 'b', 'c']) nf.conflicts.registerVoter(agentId, () => ({ decision: 'BUY', confidence: 0.9 }));
    const tried: string[] = [];
    const seenAfter: ConflictEvent[] = [];
    nf.conflicts.events$.subscribe((event) => {
      if (event.type === 'CONFLICT_DETECTED')
        tried.push(...refusals([() => (event.conflict.involvedAgents as string[]).push('ghost'), () => ((event.conflict as { severity: number }).severity = 0)]));
      if (event.type === 'VOTE_RECEIVED') tried.push(...refusals([() => ((event.vote as { decision: string }).decision = 'SELL')]));
      if (event.type === 'CONFLICT_RESOLVED') tried.push(...refusals([() => ((event.resolution as { decision: unknown }).decision = 'HOLD')]));
    });
    nf.conflicts.events$.subscribe((event) => seenAfter.push(event));
    await nf.start();
    const id = nf.conflicts.reportConflict(signalConflict());
    const resolution = await nf.conflicts.resolveConflict(id);
    expect(tried.length).toBeGreaterThanOrEqual(6);
    expect(new Set(tried)).toEqual(new Set(['TypeError']));
    expect(resolution).toMatchObject({ achieved: true, decision: 'BUY' });
    expect([...resolution.participants].sort()).toEqual(['a', 'b', 'c']);
    const detected = seenAfter.find((event) => event.type === 'CONFLICT_DETECTED');
    expect(detected?.type === 'CONFLICT_DETECTED' && detected.conflict.involvedAgents).toEqual(['a', 'b', 'c']);
    expect(nf.conflicts.getConflict(id)?.conflict.severity).toBe(0.6);
  });

  test('a vote whose evidence holds a toJSON value reaches subscribers as JSON, without an error', async () => {
    const nf = cleanup.add(createNeuroFlux());
    const price = { value: 1.5, toJSON: () => '1.5' };
    for (const agentId of ['a', 'b', 'c']) nf.conflicts.registerVoter(agentId, () => ({ decision: 'BUY', confidence: 0.9, evidence: { price } }));
    const votes: unknown[] = [];
    nf.conflicts.events$.subscribe((event) => {
      if (event.type === 'VOTE_RECEIVED') votes.push(event.vote.evidence);
    });
    await nf.start();
    const resolution = await nf.conflicts.resolveConflict(nf.conflicts.reportConflict(signalConflict()));
    expect(resolution).toMatchObject({ achieved: true, decision: 'BUY' });
    expect(votes).toEqual([{ price: '1.5' }, { price: '1.5' }, { price: '1.5' }]);
  });

  test("a vote whose evidence holds a toJSON that throws reaches subscribers with that part null, and nothing of the engine's is shared", async () => {
    const nf = cleanup.add(createNeuroFlux());
    const broken = {
      toJSON(): never {
        throw new Error('cannot write this');
      },
    };
    for (const agentId of ['a', 'b', 'c']) nf.conflicts.registerVoter(agentId, () => ({ decision: 'BUY', confidence: 0.9, evidence: { broken, kept: [1, 2] } }));
    const votes: unknown[] = [];
    const tried: string[] = [];
    nf.conflicts.events$.subscribe((event) => {
      if (event.type !== 'VOTE_RECEIVED') return;
      votes.push(event.vote.evidence);
      tried.push(...refusals([() => ((event.vote as { decision: string }).decision = 'SELL'), () => (event.vote.evidence as { kept: number[] }).kept.push(3)]));
    });
    await nf.start();
    const resolution = await nf.conflicts.resolveConflict(nf.conflicts.reportConflict(signalConflict()));
    expect(resolution).toMatchObject({ achieved: true, decision: 'BUY' });
    expect(votes).toEqual([
      { broken: null, kept: [1, 2] },
      { broken: null, kept: [1, 2] },
      { broken: null, kept: [1, 2] },
    ]);
    expect(tried).toEqual(Array(6).fill('TypeError'));
  });

  test('an outcome given to outcomes$ subscribers is frozen and not the caller’s', async () => {
    const nf = cleanup.add(createNeuroFlux());
    for (const agentId of ['a', 'b', 'c']) nf.conflicts.registerVoter(agentId, () => ({ decision: 'BUY', confidence: 0.9 }));
    const outcomes: unknown[] = [];
    const engine = nf.conflicts as unknown as { outcomes$: { subscribe(f: (o: unknown) => void): unknown }; recordOutcome(id: string, decision: string): { voters: unknown[] } };
    engine.outcomes$.subscribe((outcome) => outcomes.push(outcome));
    await nf.start();
    const id = nf.conflicts.reportConflict(signalConflict());
    await nf.conflicts.resolveConflict(id);
    const returned = engine.recordOutcome(id, 'BUY');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toEqual(returned);
    expect(outcomes[0]).not.toBe(returned);
    expect(Object.isFrozen(outcomes[0])).toBe(true);
    expect(refusals([() => (outcomes[0] as { voters: unknown[] }).voters.push('ghost')])).toEqual(['TypeError']);
  });

  test('task events, finished$ and attempts$ are frozen, producerAgentIds too', async () => {
    const nf = cleanup.add(createNeuroFlux());
    nf.orchestrator.registerAgent('w', { capabilities: ['w'], execute: () => 1 });
    const tried: string[] = [];
    const collect = (event: { producerAgentIds?: readonly string[] } & object) => {
      tried.push(...refusals([() => ((event as { type: string }).type = 'forged')]));
      if (event.producerAgentIds) tried.push(...refusals([() => (event.producerAgentIds as string[]).push('ghost')]));
    };
    nf.orchestrator.events$.subscribe((event: TaskEvent) => collect(event));
    nf.orchestrator.finished$.subscribe(collect);
    nf.orchestrator.attempts$.subscribe(collect);
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'a', requiredCapabilities: ['w'] },
        { taskId: 'b', requiredCapabilities: ['w'], dependencies: ['a'] },
      ],
    });
    await nf.orchestrator.waitForWorkflow(['a', 'b']);
    expect(tried.length).toBeGreaterThan(10);
    expect(new Set(tried)).toEqual(new Set(['TypeError']));
    // What the swarm learned from b: the producer a's agent, not a subscriber's ghost.
    expect(nf.swarm.getNeuron('ghost')).toBeUndefined();
  });
});
