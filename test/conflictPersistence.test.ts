/**
 * Conflict-engine state in a snapshot store: a new engine (a restarted process, with its own
 * bus and clock) restores it. Open conflicts continue where they were, with their votes and
 * their absolute deadlines; finished ones are records whose decision never runs again; the
 * performance ledger survives; the previous engine is fenced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { CommunicationBus } from '../src/bus/communicationBus';
import type { Message } from '../src/bus/message';
import { NotRunningError, ValidationError } from '../src/errors';
import { ConflictResolutionEngine, ConflictStateError, DuplicateConflictError, type ConflictEvent, type ConflictResolutionEngineOptions } from '../src/conflict';
import { FileSnapshotStore, MemorySnapshotStore, type SnapshotStore } from '../src/store';
import { storedState } from './support/storedState';
import { signalConflict } from './support/conflictFixtures';

/** Lets bus deliveries, responses, promise chains and store writes run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

type Answer = { decision: unknown; confidence: number; reasoning?: string } | undefined;

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/**
 * One "process": its own clock (starting at `at`), bus and engine on a shared store.
 * `agent(id, answer)` answers votes (undefined: never answers) and counts the votes it was asked for.
 */
async function processOn(store: SnapshotStore, at = 0, options: Omit<ConflictResolutionEngineOptions, 'bus' | 'store'> = {}) {
  const clock = new SimulatedClock();
  clock.set(at);
  const bus = new CommunicationBus({ clock });
  await bus.start();
  const engine = new ConflictResolutionEngine({ bus, store, ...options });
  const events: ConflictEvent[] = [];
  engine.events$.subscribe((event) => events.push(event));
  /** Everything agents received that was not a vote request, with who received it. */
  const inbox: (Message & { receivedBy: string })[] = [];
  const asked: string[] = [];
  const agent = (agentId: string, answer?: Answer) =>
    bus.registerAgent(agentId, {
      handler: (message, handle) => {
        if (message.topic === 'conflict_vote' || message.topic === 'expert_resolution') {
          asked.push(agentId);
          if (answer !== undefined) handle.respond(message, answer);
          return;
        }
        inbox.push({ ...message, receivedBy: handle.agentId });
      },
    });
  const commands = () => inbox.filter((m) => m.topic === 'execute_trade' || m.topic === 'execute_decision');
  cleanups.push(async () => {
    await engine.stop();
    await bus.stop();
  });
  return { clock, bus, engine, events, inbox, asked, agent, commands };
}

/** A resolution the dying process never sees: its rejection at stop is expected. */
const abandoned = (pending: Promise<unknown>) => void pending.catch(() => undefined);

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const fileStore = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nf-conflicts-'));
  tmpDirs.push(dir);
  return new FileSnapshotStore({ directory: join(dir, 'state') });
};

describe.each([
  ['MemorySnapshotStore', () => new MemorySnapshotStore()],
  ['FileSnapshotStore', fileStore],
] as const)('open conflicts restored (%s)', (_, makeStore) => {
  test('keep their votes and escalate at the original absolute deadline, not a fresh full period', async () => {
    const store = makeStore();
    const first = await processOn(store, 0, { voteTimeoutMs: 120_000 });
    expect(await first.engine.restore()).toBe(0);
    first.agent('a', { decision: 'BUY', confidence: 0.9, reasoning: 'breakout, first process' });
    first.agent('b');
    first.agent('c');
    const id = first.engine.reportConflict(signalConflict({ conflictId: 'sig-1' })); // deadline 0 + 60 s
    abandoned(first.engine.resolveConflict(id));
    await settle();
    first.clock.increment(10_000);
    await first.engine.flush(); // the write of this state lands; then the first process "dies"

    const second = await processOn(store, 40_000, { voteTimeoutMs: 120_000 });
    second.agent('b');
    second.agent('c');
    const escalations: Message[] = [];
    second.bus.messages$.subscribe((m) => m.topic === 'conflict_escalation' && escalations.push(m));
    expect(await second.engine.restore()).toBe(1);
    expect(second.events).toEqual([]); // nothing new happened: no events
    const record = second.engine.getConflict(id);
    expect(record).toMatchObject({ status: 'resolving', strategy: 'voting_consensus', algorithm: 'weighted_consensus' });
    expect(record?.votes).toEqual([expect.objectContaining({ agentId: 'a', decision: 'BUY', reasoning: 'breakout, first process' })]);
    await settle();
    expect(second.asked.sort()).toEqual(['b', 'c']); // only those not heard from

    second.clock.increment(19_999); // 59 999
    await settle();
    expect(second.engine.getConflict(id)?.status).toBe('resolving');
    second.clock.increment(1); // 60 000: the deadline of the first process
    await settle();
    const resolution = second.engine.getConflict(id)?.resolution;
    expect(resolution).toMatchObject({ status: 'escalated', reason: 'deadline_passed', finishedAt: 60_000 });
    expect(escalations).toHaveLength(1);
    expect((escalations[0]?.payload as { votes: unknown[] }).votes).toEqual([expect.objectContaining({ agentId: 'a', decision: 'BUY' })]);
    expect(second.engine.getStats()).toMatchObject({ conflictsDetected: 1, conflictsEscalated: 1, activeConflicts: 0, votesReceived: 1 });
  });

  test('re-arm the vote window for its remaining time; voters already heard are not asked again', async () => {
    const store = makeStore();
    const first = await processOn(store, 0, { voteTimeoutMs: 30_000 });
    await first.engine.restore();
    first.agent('a', { decision: 'BUY', confidence: 0.9 });
    first.agent('b');
    first.agent('c');
    const id = first.engine.reportConflict(signalConflict({ resolutionDeadline: 300_000 }));
    abandoned(first.engine.resolveConflict(id));
    await settle();
    expect(first.engine.getConflict(id)?.votes).toHaveLength(1);
    await first.engine.flush();

    const second = await processOn(store, 10_000, { voteTimeoutMs: 30_000 });
    second.agent('a', { decision: 'SELL', confidence: 1 }); // would change the outcome if asked again
    second.agent('b', { decision: 'BUY', confidence: 0.8 });
    // Silent, and through a vote function (which has no request timeout of its own): only the window closes it.
    second.engine.registerVoter('c', () => {
      second.asked.push('c');
      return new Promise(() => undefined);
    });
    await second.engine.restore();
    const settled = second.engine.resolveConflict(id); // waits for the restored conflict
    await settle();
    expect(second.asked.sort()).toEqual(['b', 'c']);
    expect(second.engine.getConflict(id)?.votes.map((v) => v.agentId)).toEqual(['a', 'b']);

    second.clock.increment(19_999); // 29 999: the window opened at 0 is still open
    await settle();
    expect(second.engine.getConflict(id)?.status).toBe('resolving');
    second.clock.increment(1); // 30 000
    const resolution = await settled;
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'BUY', action: 'execute', finishedAt: 30_000 });
    const votes = second.engine.getConflict(id)?.votes ?? [];
    expect(votes.map((v) => [v.agentId, v.decision, v.timestamp])).toEqual([
      ['a', 'BUY', 0],
      ['b', 'BUY', 10_000],
      ['c', null, 30_000],
    ]);
    await settle();
    // Executed once, by this process, to the voters that are bus agents (c only has a vote function).
    expect(
      second
        .commands()
        .map((m) => [m.topic, m.receivedBy])
        .sort(),
    ).toEqual([
      ['execute_trade', 'a'],
      ['execute_trade', 'b'],
    ]);
  });
});

describe('conflict engine persistence', () => {
  test('an open conflict restored after its deadline escalates at once, asking nobody', async () => {
    const store = new MemorySnapshotStore();
    const first = await processOn(store);
    await first.engine.restore();
    first.agent('a', { decision: 'BUY', confidence: 0.9 });
    first.agent('b');
    first.agent('c');
    const id = first.engine.reportConflict(signalConflict());
    abandoned(first.engine.resolveConflict(id));
    await settle();
    await first.engine.flush();

    const second = await processOn(store, 100_000);
    second.agent('a', { decision: 'BUY', confidence: 0.9 });
    second.agent('b', { decision: 'BUY', confidence: 0.9 });
    second.agent('c', { decision: 'BUY', confidence: 0.9 });
    const escalations: Message[] = [];
    second.bus.messages$.subscribe((m) => m.topic === 'conflict_escalation' && escalations.push(m));
    expect(await second.engine.restore()).toBe(1);
    // At once: before any timer or delivery runs.
    expect(second.engine.getConflict(id)?.resolution).toMatchObject({ status: 'escalated', reason: 'deadline_passed', finishedAt: 100_000 });
    await settle();
    second.clock.increment(60_000);
    await settle();
    expect(second.asked).toEqual([]);
    expect(escalations).toHaveLength(1);
    expect(second.engine.getStats()).toMatchObject({ conflictsEscalated: 1, activeConflicts: 0 });
  });

  test('finished conflicts come back as records: never executed again; resolution and outcome kept', async () => {
    const store = new MemorySnapshotStore();
    const first = await processOn(store);
    await first.engine.restore();
    for (const id of ['a', 'b', 'c']) first.agent(id, { decision: 'BUY', confidence: 0.9 });
    const one = await first.engine.resolveConflict(signalConflict({ conflictId: 'one' }));
    const two = await first.engine.resolveConflict(signalConflict({ conflictId: 'two' }));
    expect([one.action, two.action]).toEqual(['execute', 'execute']);
    first.engine.recordOutcome('one', 'BUY');
    await settle();
    await first.engine.flush();
    expect(first.commands()).toHaveLength(6);

    const second = await processOn(store, 5_000);
    for (const id of ['a', 'b', 'c']) second.agent(id, { decision: 'SELL', confidence: 1 });
    expect(await second.engine.restore()).toBe(2);
    await settle();
    second.clock.increment(600_000);
    await settle();
    expect(second.commands()).toHaveLength(0);
    expect(second.asked).toHaveLength(0);
    expect(second.engine.getConflict('one')).toMatchObject({ status: 'resolved', resolution: one });
    await expect(second.engine.resolveConflict('two')).resolves.toEqual(two);
    expect(() => second.engine.recordOutcome('one', 'BUY')).toThrow(ConflictStateError);
    expect(second.engine.recordOutcome('two', 'SELL').consensusCorrect).toBe(false);
    expect(() => second.engine.reportConflict(signalConflict({ conflictId: 'one' }))).toThrow(DuplicateConflictError);
    expect(second.engine.getStats()).toMatchObject({ conflictsDetected: 2, conflictsResolved: 2, decisionsExecuted: 2, activeConflicts: 0 });
  });

  test('the performance ledger survives: seeded and learned weights, and the stakes they give', async () => {
    const store = new MemorySnapshotStore();
    const first = await processOn(store);
    await first.engine.restore();
    first.engine.setAgentPerformance('seeded', { overall: 1.5, byType: { risk_conflict: 1.2 } });
    first.agent('right', { decision: 'BUY', confidence: 0.9 });
    first.agent('wrong', { decision: 'SELL', confidence: 0.6 });
    first.agent('third', { decision: 'BUY', confidence: 0.8 });
    const resolution = await first.engine.resolveConflict(signalConflict({ conflictId: 'learn', involvedAgents: ['right', 'wrong', 'third'] }));
    first.engine.recordOutcome(resolution.conflictId, 'BUY');
    const learned = ['seeded', 'right', 'wrong', 'third'].map((id) => first.engine.getAgentPerformance(id));
    const wrongStake = first.engine.getStake('wrong', 'signal_conflict');
    expect(wrongStake).toBeLessThan(0.5); // the update happened: the test can tell
    await first.engine.flush();

    const second = await processOn(store, 1_000);
    await second.engine.restore();
    expect(['seeded', 'right', 'wrong', 'third'].map((id) => second.engine.getAgentPerformance(id))).toEqual(learned);
    expect(second.engine.getStake('wrong', 'signal_conflict')).toBe(wrongStake);
    // And new votes carry those stakes.
    second.agent('wrong', { decision: 'SELL', confidence: 0.6 });
    second.agent('seeded', { decision: 'SELL', confidence: 0.6 });
    await second.engine.resolveConflict(signalConflict({ conflictId: 'next', involvedAgents: ['wrong', 'seeded'] }));
    const stakes = Object.fromEntries(second.engine.getConflict('next')?.votes.map((v) => [v.agentId, v.stake]) ?? []);
    expect(stakes).toEqual({ wrong: wrongStake, seeded: first.engine.getStake('seeded', 'signal_conflict') });
  });

  test('a human-intervention conflict waits for its decision again after a restart', async () => {
    const store = new MemorySnapshotStore();
    const first = await processOn(store);
    await first.engine.restore();
    const id = first.engine.reportConflict(signalConflict({ involvedAgents: ['a'] }));
    abandoned(first.engine.resolveConflict(id, { strategy: 'human_intervention' }));
    await settle();
    expect(first.engine.getConflict(id)?.status).toBe('awaiting_human');
    await first.engine.stop(); // a graceful stop keeps the conflict open in the store

    const second = await processOn(store, 20_000);
    second.agent('a');
    await second.engine.restore();
    expect(second.engine.getConflict(id)?.status).toBe('awaiting_human');
    const settled = second.engine.resolveConflict(id);
    second.engine.submitHumanDecision(id, 'HOLD', { decidedBy: 'ops', confidence: 0.95 });
    await expect(settled).resolves.toMatchObject({ status: 'resolved', decision: 'HOLD', strategy: 'human_intervention' });
  });

  test('restoring fences the previous engine: its next write fails and it stops', async () => {
    const store = new MemorySnapshotStore();
    const first = await processOn(store);
    await first.engine.restore();
    first.engine.reportConflict(signalConflict({ conflictId: 'kept' }));
    await first.engine.flush();

    const second = await processOn(store, 1_000);
    expect(await second.engine.restore()).toBe(1);
    await second.engine.flush(); // the takeover write lands
    const revision = (await store.load('conflicts'))?.revision;

    first.engine.reportConflict(signalConflict({ conflictId: 'stale' }));
    await settle();
    expect(first.engine.getStats().persistence).toMatchObject({ saveErrors: 0, fenced: true });
    expect(() => first.engine.reportConflict(signalConflict())).toThrow(NotRunningError);
    const stored = await storedState<{ open: { conflict: { conflictId: string } }[] }>(store, 'conflicts');
    expect(stored.revision).toBe(revision);
    expect(stored.value.open.map((c) => c.conflict.conflictId)).toEqual(['kept']);
    expect(second.engine.getStats().persistence).toMatchObject({ fenced: false });
    // The new engine goes on writing.
    second.engine.reportConflict(signalConflict({ conflictId: 'fresh' }));
    await settle();
    const after = await storedState<{ open: { conflict: { conflictId: string } }[] }>(store, 'conflicts');
    expect(after.value.open.map((c) => c.conflict.conflictId)).toEqual(['kept', 'fresh']);
  });

  test('a bad stored document is refused with a ValidationError naming the field, and left as it is', async () => {
    const store = new MemorySnapshotStore();
    const first = await processOn(store);
    await first.engine.restore();
    first.engine.reportConflict(signalConflict({ conflictId: 'x' }));
    await settle();
    const envelope = (await store.load<{ state: Record<string, unknown> }>('conflicts'))?.value;
    const good = envelope?.state ?? {};
    const open = good['open'] as { conflict: Record<string, unknown> }[];

    const bad = { ...envelope, state: { ...good, open: [{ ...open[0], conflict: { ...open[0]?.conflict, severity: 7 } }] } };
    const revision = await store.save('conflicts', bad);
    const second = await processOn(store, 1_000);
    const error = await second.engine.restore().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('state.open.0.conflict.severity');
    await settle();
    expect((await store.load('conflicts'))?.revision).toBe(revision);
    expect(second.engine.getStats().activeConflicts).toBe(0);

    await store.save('conflicts', { ...envelope, state: { ...good, version: 2 } });
    await expect(second.engine.restore()).rejects.toMatchObject({ code: 'ERR_VALIDATION', field: 'state.version' });
    await store.save('conflicts', { ...good, ledger: [{ agentId: 'a', overall: -1, byType: {} }] });
    await expect(second.engine.restore()).rejects.toMatchObject({ field: 'ledger.0.overall' });
  });

  test('store errors are counted without crashing; the state is written once the store is back', async () => {
    const inner = new MemorySnapshotStore();
    let down = false;
    const store: SnapshotStore = {
      load: (key) => inner.load(key),
      save: async (key, value, expected) => {
        if (down) throw new Error('store unreachable');
        return inner.save(key, value, expected);
      },
      delete: (key) => inner.delete(key),
      keys: () => inner.keys(),
      close: () => inner.close(),
    };
    const { engine, agent } = await processOn(store);
    await engine.restore();
    await settle();
    down = true;
    for (const id of ['a', 'b', 'c']) agent(id, { decision: 'BUY', confidence: 0.9 });
    const resolution = await engine.resolveConflict(signalConflict({ conflictId: 'during-outage' }));
    expect(resolution.status).toBe('resolved');
    await settle();
    const { saveErrors, fenced } = engine.getStats().persistence ?? { saveErrors: 0, fenced: true };
    expect(saveErrors).toBeGreaterThan(0);
    expect(fenced).toBe(false);

    down = false;
    engine.reportConflict(signalConflict({ conflictId: 'after-outage' }));
    await settle();
    const stored = await storedState<{
      open: { conflict: { conflictId: string } }[];
      finished: { record: { conflict: { conflictId: string } } }[];
    }>(inner, 'conflicts');
    expect(stored.value.finished.map((f) => f.record.conflict.conflictId)).toEqual(['during-outage']);
    expect(stored.value.open.map((c) => c.conflict.conflictId)).toEqual(['after-outage']);
  });

  test('nothing is written before restore(); without a store, restore() restores nothing', async () => {
    const store = new MemorySnapshotStore();
    const { engine } = await processOn(store);
    engine.setAgentPerformance('early', { overall: 1 });
    engine.reportConflict(signalConflict({ conflictId: 'early' }));
    await settle();
    expect(await store.keys()).toEqual([]);
    expect(await engine.restore()).toBe(0);
    await settle();
    const stored = await storedState<{ open: unknown[]; ledger: { agentId: string }[] }>(store, 'conflicts');
    expect(stored.value.open).toHaveLength(1);
    expect(stored.value.ledger.map((l) => l.agentId)).toEqual(['early']);
    expect(await engine.restore()).toBe(0); // once

    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    const plain = new ConflictResolutionEngine({ bus });
    expect(await plain.restore()).toBe(0);
    expect(plain.getStats().persistence).toBeNull();
    await plain.stop();
    await bus.stop();
  });

  test('store options are validated', () => {
    const bus = new CommunicationBus({ clock: new SimulatedClock() });
    const fieldOf = (options: Partial<ConflictResolutionEngineOptions>) => {
      try {
        new ConflictResolutionEngine({ bus, ...options });
      } catch (error) {
        return error instanceof ValidationError ? error.field : 'not a ValidationError';
      }
      return 'accepted';
    };
    expect(fieldOf({ store: {} as SnapshotStore })).toBe('store');
    expect(fieldOf({ store: new MemorySnapshotStore(), storeKey: '.bad' })).toBe('storeKey');
    expect(fieldOf({ store: new MemorySnapshotStore(), storeKey: 'conflicts.desk-1' })).toBe('accepted');
  });
});
