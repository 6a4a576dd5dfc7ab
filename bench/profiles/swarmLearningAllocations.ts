/**
 * What the swarm's learning allocates, garbage included: the 10 000-task DAG's outcome batches
 * (recordedSwarmOutcomes.ts) replayed `REPEATS` times (default 5) from a fresh state under V8's
 * sampling heap profiler (objects collected by minor and major GCs counted too), then the bytes
 * by allocating function, largest first:
 *
 *   node -r @swc-node/register bench/profiles/swarmLearningAllocations.ts
 */
import { Session } from 'node:inspector';
import { learnFromTasks, type TaskOutcomeBatch } from '../../src/swarm/model/outcomeLearning';
import { initialSwarmState } from '../../src/swarm/model/swarmState';
import { recordFlushes } from './recordedSwarmOutcomes';

interface SamplingNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly SamplingNode[];
}

async function main(): Promise<void> {
  const flushes = (await recordFlushes()) as TaskOutcomeBatch[][];
  const outcomes = flushes.flat().reduce((n, batch) => n + batch.outcomes.length, 0);
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const repeats = Number(process.env['REPEATS'] ?? 5);
  for (let round = 0; round < repeats; round++) {
    let state = initialSwarmState({ networkId: 'replay', seed: 1 });
    for (const batches of flushes) state = learnFromTasks(state, batches);
  }
  const { profile } = await post<{ profile: { head: SamplingNode } }>('HeapProfiler.stopSampling');
  const bytes = new Map<string, number>();
  let total = 0;
  const walk = (node: SamplingNode): void => {
    total += node.selfSize;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${lineNumber + 1}`;
    bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(profile.head);
  console.log(`${outcomes} outcomes in ${flushes.length} steps, ${repeats} replays: ${(total / repeats / outcomes).toFixed(0)} bytes an outcome`);
  for (const [where, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`${((100 * size) / total).toFixed(1).padStart(5)} %  ${where}`);
  }
}

void main();
