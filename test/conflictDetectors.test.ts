import { ValidationError } from '../src/errors';
import { detectPriorityConflicts } from '../src/conflict/detectors/priorityDetector';
import { detectResourceConflicts } from '../src/conflict/detectors/resourceDetector';
import { detectSignalConflicts } from '../src/conflict/detectors/signalDetector';
import { detectTimingConflicts } from '../src/conflict/detectors/timingDetector';

const NOW = 1_000;

describe('signal conflicts', () => {
  const signals = [
    { agentId: 'a', symbol: 'BTC', signal: 'BUY', confidence: 0.9 },
    { agentId: 'b', symbol: 'BTC', signal: 'BUY', confidence: 0.7 },
    { agentId: 'c', symbol: 'BTC', signal: 'sell', confidence: 0.4 },
    { agentId: 'd', symbol: 'ETH', signal: 'SELL', confidence: 0.9 },
  ];

  it('guide rule: severity = |mean BUY − mean SELL| when above 0.3, 60 s deadline', () => {
    const [conflict, ...rest] = detectSignalConflicts(signals, NOW);
    expect(rest).toHaveLength(0); // ETH has no opposing signal
    expect(conflict).toMatchObject({
      conflictType: 'signal_conflict',
      involvedAgents: ['a', 'b', 'c'],
      detectedAt: NOW,
      resolutionDeadline: NOW + 60_000,
      options: ['BUY', 'SELL', 'HOLD'],
      conflictingElements: { symbol: 'BTC', rule: 'guide', sellConfidence: 0.4 },
    });
    expect(conflict?.severity).toBeCloseTo(0.4, 12);
    expect(conflict?.conflictingElements?.['buyConfidence']).toBeCloseTo(0.8, 12);
  });

  it('guide rule: confident on both sides is no conflict (0.9 − 0.6 is not above 0.3)', () => {
    const balanced = [
      { agentId: 'a', symbol: 'BTC', signal: 'BUY', confidence: 0.9 },
      { agentId: 'b', symbol: 'BTC', signal: 'SELL', confidence: 0.6 },
    ];
    expect(detectSignalConflicts(balanced, NOW)).toEqual([]);
    expect(detectSignalConflicts(balanced, NOW, { rule: 'code' })).toHaveLength(1);
  });

  it('code rule: any BUY and SELL in one symbol and timeframe, severity 0.8, 300 s', () => {
    const withTimeframes = [
      { agentId: 'a', symbol: 'BTC', timeframe: '1h', signal: 'BUY', confidence: 0.9 },
      { agentId: 'b', symbol: 'BTC', timeframe: '1d', signal: 'SELL', confidence: 0.9 },
      { agentId: 'c', symbol: 'BTC', timeframe: '1h', signal: 'SELL', confidence: 0.8 },
    ];
    const conflicts = detectSignalConflicts(withTimeframes, NOW, { rule: 'code' });
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ severity: 0.8, resolutionDeadline: NOW + 300_000, involvedAgents: ['a', 'c'] });
  });

  it('needs two signals, and validates them', () => {
    expect(detectSignalConflicts([signals[0] as (typeof signals)[0]], NOW)).toEqual([]);
    expect(() => detectSignalConflicts([{ agentId: 'a', signal: 'MAYBE', confidence: 0.5 }], NOW)).toThrow(ValidationError);
    expect(() => detectSignalConflicts([{ agentId: 'a', signal: 'BUY', confidence: 2 }], NOW)).toThrow(expect.objectContaining({ field: '0.confidence' }) as Error);
  });
});

describe('resource conflicts', () => {
  const requests = [
    { agentId: 'a', resourceType: 'gpu', amount: 3 },
    { agentId: 'b', resourceType: 'gpu', amount: 2 },
    { agentId: 'c', resourceType: 'cpu', amount: 2 },
  ];

  it('severity = min(1, (requested − available) / available), 120 s deadline', () => {
    const [gpu, ...rest] = detectResourceConflicts(requests, { gpu: 4, cpu: 8 }, NOW);
    expect(rest).toHaveLength(0);
    expect(gpu).toMatchObject({
      conflictType: 'resource_conflict',
      involvedAgents: ['a', 'b'],
      severity: 0.25,
      resolutionDeadline: NOW + 120_000,
      conflictingElements: { resourceType: 'gpu', totalRequested: 5, available: 4 },
    });
  });

  it('caps severity at 1 and treats a missing resource as 0 available', () => {
    const conflicts = detectResourceConflicts(requests, (type) => (type === 'gpu' ? 1 : 0), NOW);
    expect(conflicts.map((c) => [c.conflictingElements?.['resourceType'], c.severity])).toEqual([
      ['gpu', 1],
      ['cpu', 1],
    ]);
  });

  it('validates requests and availability', () => {
    expect(() => detectResourceConflicts([{ agentId: 'a', resourceType: 'gpu', amount: -1 }], {}, NOW)).toThrow(ValidationError);
    expect(() => detectResourceConflicts(requests, () => Number.NaN, NOW)).toThrow(ValidationError);
  });
});

describe('priority conflicts', () => {
  it('two critical tasks competing for the last slot of one agent', () => {
    const conflicts = detectPriorityConflicts(
      [
        { taskId: 't1', agentId: 'worker', priority: 'critical', requesterId: 'a' },
        { taskId: 't2', agentId: 'worker', priority: 'critical', requesterId: 'b' },
        { taskId: 't3', agentId: 'worker', priority: 'high', requesterId: 'c' },
      ],
      { worker: 1 },
      NOW,
    );
    expect(conflicts).toEqual([
      expect.objectContaining({
        conflictType: 'priority_conflict',
        involvedAgents: ['a', 'b', 'worker'],
        severity: 1,
        options: ['t1', 't2'],
        resolutionDeadline: NOW + 30_000,
        conflictingElements: expect.objectContaining({ agentId: 'worker', priority: 'critical', freeSlots: 1, contendingTasks: ['t1', 't2'] }),
      }),
    ]);
  });

  it('is no conflict when slots suffice or priority already decides', () => {
    const claims = [
      { taskId: 't1', agentId: 'w', priority: 'critical' as const },
      { taskId: 't2', agentId: 'w', priority: 'high' as const },
    ];
    expect(detectPriorityConflicts(claims, { w: 1 }, NOW)).toEqual([]);
    const twoHigh = [
      { taskId: 't1', agentId: 'w', priority: 'high' as const },
      { taskId: 't2', agentId: 'w', priority: 'high' as const },
    ];
    expect(detectPriorityConflicts(twoHigh, { w: 2 }, NOW)).toEqual([]);
    expect(detectPriorityConflicts(twoHigh, () => 0, NOW)[0]).toMatchObject({ severity: 0.75, involvedAgents: ['w'] });
  });
});

describe('timing conflicts', () => {
  it('opposing actions by different agents on one resource within the window', () => {
    const conflicts = detectTimingConflicts(
      [
        { agentId: 'a', resource: 'BTC', action: 'buy', timestamp: 1000 },
        { agentId: 'b', resource: 'BTC', action: 'SELL', timestamp: 2000 },
        { agentId: 'c', resource: 'BTC', action: 'buy', timestamp: 9000 },
        { agentId: 'd', resource: 'ETH', action: 'sell', timestamp: 1500 },
      ],
      NOW,
      { windowMs: 5000 },
    );
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      conflictType: 'timing_conflict',
      involvedAgents: ['a', 'b'],
      options: ['buy', 'SELL'],
      resolutionDeadline: NOW + 60_000,
      conflictingElements: { resource: 'BTC', minGapMs: 1000, windowMs: 5000 },
    });
    expect(conflicts[0]?.severity).toBeCloseTo(0.9, 12); // 0.5 + 0.5 × (1 − 1000/5000)
  });

  it('ignores one agent reversing itself, actions outside the window and non-opposing pairs', () => {
    const actions = [
      { agentId: 'a', resource: 'r', action: 'open', timestamp: 0 },
      { agentId: 'a', resource: 'r', action: 'close', timestamp: 10 },
      { agentId: 'b', resource: 'r', action: 'close', timestamp: 6000 },
      { agentId: 'c', resource: 'r', action: 'open', timestamp: 6000 },
    ];
    expect(detectTimingConflicts(actions.slice(0, 3), NOW)).toEqual([]);
    const [simultaneous] = detectTimingConflicts(actions, NOW);
    expect(simultaneous).toMatchObject({ involvedAgents: ['b', 'c'], severity: 1 });
    expect(detectTimingConflicts(actions, NOW, { opposites: [['pause', 'resume']] })).toEqual([]);
  });
});
