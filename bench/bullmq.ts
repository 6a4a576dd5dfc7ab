/**
 * BullMQ reference runs shared by the benchmarks, against a `redis-server` the calling bench
 * started (`startRedisServer` in test/support/servers.ts): jobs added with `addBulk` then
 * taken by one Worker, and flows (a parent job and its children, FlowProducer) whose parent
 * runs once its children completed. Both count jobs per second, add → complete.
 */
import { performance } from 'node:perf_hooks';
import type { TestServer } from '../test/support/servers';

/** Jobs added per `addBulk` call. */
const CHUNK = 1_000;

type Payload = (i: number) => Record<string, unknown>;

const noPayload: Payload = (i) => ({ i });

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function connectionTo(redis: TestServer) {
  return { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
}

/**
 * Jobs per second for `n` jobs (after a 500-job warm-up): `addBulk` in chunks of 1 000,
 * one Worker at `concurrency` with an instant processor, removed on completion.
 */
export async function bullmqJobsPerSecond(redis: TestServer, n: number, concurrency: number, payload: Payload = noPayload): Promise<number> {
  const { Queue, Worker } = await import('bullmq');
  const connection = connectionTo(redis);
  const name = `bench-jobs-${concurrency}-${Date.now()}`;
  const queue = new Queue(name, { connection });
  let completed = 0;
  const worker = new Worker(name, async () => undefined, { connection, concurrency });
  worker.on('completed', () => void completed++);
  await worker.waitUntilReady();
  const run = async (count: number) => {
    const base = completed;
    const start = performance.now();
    for (let i = 0; i < count; i += CHUNK) {
      await queue.addBulk(Array.from({ length: Math.min(CHUNK, count - i) }, (_, k) => ({ name: 'task', data: payload(i + k), opts: { removeOnComplete: true } })));
    }
    await until(() => completed - base >= count, 120_000, 'BullMQ jobs');
    return count / ((performance.now() - start) / 1000);
  };
  try {
    await run(500);
    return await run(n);
  } finally {
    await worker.close();
    await queue.close();
  }
}

/**
 * Jobs per second for `flows` flows of a parent and `children` children each (after a
 * 100-flow warm-up), counted in jobs (parent + children): FlowProducer `addBulk` in
 * chunks, one Worker at `concurrency` taking both children and parents; a flow is done when
 * its parent completed.
 */
export async function bullmqFlowJobsPerSecond(redis: TestServer, flows: number, children: number, concurrency: number): Promise<number> {
  const { FlowProducer, Worker } = await import('bullmq');
  const connection = connectionTo(redis);
  const name = `bench-flows-${children}-${Date.now()}`;
  const producer = new FlowProducer({ connection });
  let parentsDone = 0;
  const worker = new Worker(name, async () => undefined, { connection, concurrency });
  worker.on('completed', (job) => {
    if (job.name === 'parent') parentsDone++;
  });
  await worker.waitUntilReady();
  const perChunk = Math.max(1, Math.floor(CHUNK / (children + 1)));
  const run = async (count: number) => {
    const base = parentsDone;
    const start = performance.now();
    for (let i = 0; i < count; i += perChunk) {
      await producer.addBulk(
        Array.from({ length: Math.min(perChunk, count - i) }, (_, k) => ({
          name: 'parent',
          queueName: name,
          data: { flow: i + k },
          opts: { removeOnComplete: true },
          children: Array.from({ length: children }, (_, c) => ({ name: 'child', queueName: name, data: { c }, opts: { removeOnComplete: true } })),
        })),
      );
    }
    await until(() => parentsDone - base >= count, 120_000, 'BullMQ flows');
    return (count * (children + 1)) / ((performance.now() - start) / 1000);
  };
  try {
    await run(100);
    return await run(flows);
  } finally {
    await worker.close();
    await producer.close();
  }
}
