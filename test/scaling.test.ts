import { MultiRegionCoordinator, NoRegionError, planScaling, regionTaskSubject, scoreRegion, type AgentInstance, type ScalingMetrics } from '../src/scaling';

const agents = (type: string, n: number, utilization = 50): AgentInstance[] => Array.from({ length: n }, (_, i) => ({ agentId: `${type}_${i}`, agentType: type, utilization }));
const load = (cpuUsage: number, memoryUsage = 10, queueDepth = 0): ScalingMetrics => ({ cpuUsage, memoryUsage, queueDepth });

describe('planScaling (SPEC 5 thresholds)', () => {
  test('CPU over 80 % doubles the cpu_intensive agents', () => {
    const d = planScaling(load(81), agents('cpu_intensive', 3));
    expect(d.scaleOut).toEqual({ reason: 'cpu', agentType: 'cpu_intensive', launch: ['cpu_intensive_3', 'cpu_intensive_4', 'cpu_intensive_5'] });
  });

  test('exactly at the thresholds nothing scales out', () => {
    expect(planScaling(load(80, 85, 100), agents('cpu_intensive', 3)).scaleOut).toBeUndefined();
  });

  test('CPU takes precedence over memory, memory over queue depth', () => {
    expect(planScaling(load(90, 90, 500), []).scaleOut?.reason).toBe('cpu');
    expect(planScaling(load(50, 86, 500), []).scaleOut?.reason).toBe('memory');
    expect(planScaling(load(50, 50, 101), []).scaleOut).toEqual({ reason: 'queue', agentType: 'queue_bound', launch: ['queue_bound_0'] });
  });

  test('doubling stops at 20 per type', () => {
    expect(planScaling(load(95), agents('cpu_intensive', 15)).scaleOut?.launch).toHaveLength(5);
    expect(planScaling(load(95), agents('cpu_intensive', 20)).scaleOut?.launch).toEqual([]);
  });

  test('scale in below 30 % CPU removes agents under 20 % utilization, keeping 2 per type', () => {
    const pool = [...agents('worker', 4, 10), ...agents('busy', 2, 90)];
    expect(planScaling(load(29), pool).scaleIn).toEqual(['worker_0', 'worker_1']);
    expect(planScaling(load(30), pool).scaleIn).toEqual([]);
  });

  test('no scale in with 3 agents or fewer', () => {
    expect(planScaling(load(5), agents('worker', 3, 0)).scaleIn).toEqual([]);
    expect(planScaling(load(5), agents('worker', 4, 0)).scaleIn).toEqual(['worker_0', 'worker_1']);
  });

  test('policy and metrics are validated', () => {
    expect(() => planScaling(load(5), [], { cpuScaleOutPercent: 150 })).toThrow(expect.objectContaining({ field: 'cpuScaleOutPercent' }));
    expect(() => planScaling({ cpuUsage: Number.NaN, memoryUsage: 0, queueDepth: 0 }, [])).toThrow(expect.objectContaining({ field: 'cpuUsage' }));
  });
});

describe('MultiRegionCoordinator', () => {
  test('score is 0.4 latency + 0.3 load + 0.3 capability', () => {
    const s = scoreRegion({ region: 'us-east', latencyMs: 100, load: 0.25, capabilities: ['a'] }, ['a', 'b']);
    expect(s.latencyScore).toBeCloseTo(0.8);
    expect(s.loadScore).toBeCloseTo(0.75);
    expect(s.capabilityScore).toBeCloseTo(0.5);
    expect(s.score).toBeCloseTo(0.4 * 0.8 + 0.3 * 0.75 + 0.3 * 0.5);
  });

  test('routes each task to the best-scoring capable region', async () => {
    const sent: [string, string][] = [];
    const regions = new MultiRegionCoordinator<{ taskId: string; requiredCapabilities?: string[] }>({
      dispatch: (region, task) => void sent.push([region, task.taskId]),
    });
    regions.updateRegion({ region: 'us-east', latencyMs: 10, load: 0.9, capabilities: ['trading'] });
    regions.updateRegion({ region: 'eu-central', latencyMs: 80, load: 0.1, capabilities: ['trading', 'risk'] });
    regions.updateRegion({ region: 'asia-pacific', latencyMs: 5, load: 0, capabilities: [] });
    await regions.routeTask({ taskId: 't1', requiredCapabilities: ['trading'] });
    await regions.routeTask({ taskId: 't2', requiredCapabilities: ['risk'] });
    await regions.routeTask({ taskId: 't3' });
    expect(sent).toEqual([
      ['eu-central', 't1'], // 0.4·0.84+0.3·0.9+0.3 = 0.906 > us-east 0.4·0.98+0.03+0.3 = 0.722
      ['eu-central', 't2'],
      ['asia-pacific', 't3'],
    ]);
    await expect(regions.routeTask({ taskId: 't4', requiredCapabilities: ['quantum'] })).rejects.toBeInstanceOf(NoRegionError);
  });

  test('region names are subject tokens and statuses are validated', () => {
    const regions = new MultiRegionCoordinator({ dispatch: () => undefined });
    expect(() => regions.updateRegion({ region: 'us.east', latencyMs: 1, load: 0, capabilities: [] })).toThrow(expect.objectContaining({ field: 'region' }));
    expect(() => regions.updateRegion({ region: 'x', latencyMs: 1, load: 2, capabilities: [] })).toThrow(expect.objectContaining({ field: 'load' }));
    expect(regionTaskSubject('prod', 'eu-central')).toBe('nf.prod.region.eu-central.tasks');
  });
});
