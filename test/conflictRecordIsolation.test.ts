/**
 * A conflict record from `getConflict` is the caller's: changing it changes neither the
 * conflict its actor decides on nor the votes counted. Before, the record held the engine's
 * own conflict and the actor's votes, so `involvedAgents.push('ghost')` made the vote wait
 * for an agent that does not exist, and a vote pushed into `votes` was counted.
 */
import { createNeuroFlux, type ConflictRecord } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { signalConflict } from './support/conflictFixtures';

const cleanup = cleanupAfterEach();

describe('conflict records given to callers', () => {
  test('a record changed by its reader changes neither the conflict nor its votes', async () => {
    const nf = cleanup.add(createNeuroFlux());
    for (const agentId of ['a', 'b', 'c']) nf.conflicts.registerVoter(agentId, () => ({ decision: 'BUY', confidence: 0.9 }));
    await nf.start();
    const id = nf.conflicts.reportConflict(signalConflict());
    const record = nf.conflicts.getConflict(id) as ConflictRecord;
    (record.conflict.involvedAgents as string[]).push('ghost');
    (record.conflict.options as string[]).push('SELL_EVERYTHING');
    (record.votes as unknown[]).push({ agentId: 'ghost', decision: 'SELL_EVERYTHING', confidence: 1 });
    const resolution = await nf.conflicts.resolveConflict(id);
    expect(resolution).toMatchObject({ achieved: true, decision: 'BUY' });
    expect([...resolution.participants].sort()).toEqual(['a', 'b', 'c']);
    const after = nf.conflicts.getConflict(id) as ConflictRecord;
    expect(after.conflict.involvedAgents).toEqual(['a', 'b', 'c']);
    expect(after.conflict.options).toEqual(['BUY', 'SELL', 'HOLD']);
    expect(after.votes.map((v) => v.agentId).sort()).toEqual(['a', 'b', 'c']);
    // And once finished: the stored record stays as it was.
    (after.resolution as { decision: unknown }).decision = 'HOLD';
    expect(nf.conflicts.getConflict(id)?.resolution).toMatchObject({ decision: 'BUY' });
  });

  test('a resolution changed by one caller is not what the record or the next caller gets', async () => {
    const nf = cleanup.add(createNeuroFlux());
    for (const agentId of ['a', 'b', 'c']) nf.conflicts.registerVoter(agentId, () => ({ decision: 'BUY', confidence: 0.9 }));
    await nf.start();
    const id = nf.conflicts.reportConflict(signalConflict());
    const [first, second] = await Promise.all([nf.conflicts.resolveConflict(id), nf.conflicts.resolveConflict(id)]);
    (first as { decision: unknown }).decision = 'HACKED';
    (first.participants as string[]).push('ghost');
    expect(second).toMatchObject({ decision: 'BUY' });
    expect(nf.conflicts.getConflict(id)?.resolution).toMatchObject({ decision: 'BUY', participants: ['a', 'b', 'c'] });
    expect(await nf.conflicts.resolveConflict(id)).toMatchObject({ decision: 'BUY' });
  });
});
