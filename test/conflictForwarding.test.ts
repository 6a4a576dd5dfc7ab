/**
 * Under a leader election, a conflict reported in a standby goes to the leader's engine
 * (over NATS, validated on receipt) instead of staying in the standby's memory, where
 * nobody would persist it and a second engine would decide it. Two runtimes on one
 * nats-server of their own, sharing a store as two processes would.
 */
import { randomUUID } from 'node:crypto';
import { createNeuroFlux, MemorySnapshotStore, nats, type AnyDeadLetter, type NeuroFlux, type SnapshotStore } from '../src';
import { UnknownConflictError } from '../src/conflict';
import { cleanupAfterEach } from './support/cleanup';
import { signalConflict } from './support/conflictFixtures';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite, waitFor } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'conflicts reported in a standby', () => {
  const server = natsServerForSuite();
  const cleanup = cleanupAfterEach();

  /** A candidate for the lead, as if in a process of its own; its engine's voters all answer `decision`. */
  async function candidate(namespace: string, store: SnapshotStore, holder: string): Promise<NeuroFlux> {
    const nf = cleanup.add(
      createNeuroFlux({
        transport: nats({ servers: server().url, namespace }),
        // A lease long enough that nobody takes over during a test: who leads is who started first.
        orchestrator: { store, leaderElection: { holder, ttlMs: 60_000 } },
        conflicts: { store },
      }),
    );
    for (const id of ['a', 'b', 'c']) nf.conflicts.registerVoter(id, () => ({ decision: 'BUY', confidence: 0.9, reasoning: holder }));
    await nf.start();
    return nf;
  }

  async function leaderAndStandby() {
    const namespace = `fwd-${randomUUID().slice(0, 8)}`;
    const store = new MemorySnapshotStore();
    const leader = await candidate(namespace, store, 'leader');
    await leader.leadership?.whenLeader();
    const standby = await candidate(namespace, store, 'standby');
    expect(standby.leadership?.state).toBe('standby');
    return { leader, standby };
  }

  test('a conflict reported in the standby is registered and decided by the leader, not kept in the standby', async () => {
    const { leader, standby } = await leaderAndStandby();
    const id = standby.conflicts.reportConflict(signalConflict({ conflictId: 'from-standby' }));
    expect(id).toBe('from-standby');
    expect(standby.conflicts.getConflict(id)).toBeUndefined();
    expect(standby.conflicts.getStats()).toMatchObject({ conflictsDetected: 0, activeConflicts: 0 });
    await waitFor(() => leader.conflicts.getConflict(id) !== undefined, 10_000, 'the leader registering the forwarded conflict');
    expect(leader.conflicts.getConflict(id)?.conflict).toMatchObject({ conflictType: 'signal_conflict', involvedAgents: ['a', 'b', 'c'] });

    // Resolving it through the standby waits for the leader's resolution.
    const resolution = await standby.conflicts.resolveConflict(id);
    expect(resolution).toMatchObject({ conflictId: id, status: 'resolved', decision: 'BUY' });
    expect(resolution).toEqual(leader.conflicts.getConflict(id)?.resolution);
    // The leader persists it: it is in the leader's state, written under its key.
    await leader.conflicts.flush();
    expect(leader.conflicts.getStats().persistence).toMatchObject({ fenced: false });
    expect(standby.conflicts.getStats().persistence).toMatchObject({ saves: 0 });
  });

  test('a new conflict resolved through the standby is reported to the leader with it; unknown ids fail as they would there', async () => {
    const { leader, standby } = await leaderAndStandby();
    const resolution = await standby.conflicts.resolveConflict(signalConflict({ conflictId: 'resolve-new' }), { strategy: 'voting_consensus' });
    expect(resolution).toMatchObject({ conflictId: 'resolve-new', status: 'resolved', strategy: 'voting_consensus' });
    expect(leader.conflicts.getConflict('resolve-new')?.resolution).toEqual(resolution);
    expect(standby.conflicts.getConflict('resolve-new')).toBeUndefined();
    await expect(standby.conflicts.resolveConflict('nobody-reported-this')).rejects.toBeInstanceOf(UnknownConflictError);
    // An input the standby can check is refused there, before anything is sent.
    expect(() => standby.conflicts.reportConflict(signalConflict({ severity: 7 }))).toThrow(/severity/);
  });

  test('forged or malformed forwards are refused on receipt and the leader carries on', async () => {
    const { leader, standby } = await leaderAndStandby();
    const deadLetters: AnyDeadLetter[] = [];
    leader.bus.deadLetters$.subscribe((d) => deadLetters.push(d));
    // A report whose conflict fails the leader's validation, and one that is not even shaped like a report.
    for (const payload of [{ conflict: { conflictType: 'no_such_type', involvedAgents: [] } }, { conflict: 'x', extra: true }]) {
      standby.bus.sendMessage({ senderId: 'forger', recipientId: 'conflict_intake', messageType: 'command', topic: 'conflict_forwarded', payload, maxRetries: 0 });
    }
    await waitFor(() => deadLetters.length >= 2, 10_000, 'both forwards dead-lettered by the leader');
    expect(deadLetters.map((d) => d.error)).toEqual([expect.stringMatching(/conflictType/), expect.stringMatching(/forwarded conflict/)]);
    // A resolve request with a mismatched conflict is answered with the validation error.
    const answer = await standby.bus.sendRequest({
      senderId: 'forger',
      recipientId: 'conflict_intake',
      topic: 'conflict_resolve_forwarded',
      payload: { conflictId: 'one', conflict: { ...signalConflict(), conflictId: 'another' } },
      timeoutMs: 10_000,
    });
    expect(answer.payload).toEqual({ error: { code: 'ERR_VALIDATION', message: expect.stringMatching(/conflict.conflictId/) } });
    expect(leader.conflicts.getConflict('another')).toBeUndefined();
    // Still working.
    standby.conflicts.reportConflict(signalConflict({ conflictId: 'after' }));
    await waitFor(() => leader.conflicts.getConflict('after') !== undefined, 10_000, 'a good forward after the bad ones');
  });
});
