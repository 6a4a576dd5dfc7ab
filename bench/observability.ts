/**
 * Cost of observability (issue 7): bus throughput and workflow throughput with metrics,
 * tracing (without an SDK: the API's no-op tracer; with an SDK: every span recorded and
 * batched to an exporter that drops them) and the live inspector, each as a ratio to the
 * same runtime without them, measured in the same run. Each configuration runs in a
 * fresh Node process (same heap and JIT start for all), the baseline first and last.
 * "Disabled" had every tool enabled and then disposed: it must run at the baseline's speed.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createNeuroFlux, type NeuroFlux } from '../src';
import { createMetrics, instrumentTracing, startInspector } from '../src/observability';
import { bestOf, fmt, forceGc, ratio } from './measure';

const N = 100_000;
const CHUNK = 1000;
const TASKS = 5_000;
const ROUNDS = 5;

/** Records spans (the SDK's full cost) and throws them away. */
const droppingExporter: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};
const sdkTracer: Tracer = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(droppingExporter)] }).getTracer('bench');

type Setup = (nf: NeuroFlux) => Promise<() => Promise<void> | void>;

const configurations: { name: string; setup: Setup }[] = [
  { name: 'baseline (nothing enabled)', setup: async () => () => undefined },
  {
    name: 'metrics (prom-client)',
    setup: async (nf) => {
      const metrics = createMetrics(nf);
      return () => metrics.dispose();
    },
  },
  {
    name: 'tracing, no SDK (no-op tracer)',
    setup: async (nf) => {
      const stop = instrumentTracing(nf);
      return stop;
    },
  },
  {
    name: 'tracing, SDK recording every span',
    setup: async (nf) => {
      const stop = instrumentTracing(nf, { tracer: sdkTracer });
      return stop;
    },
  },
  {
    name: 'metrics + tracing (SDK)',
    setup: async (nf) => {
      const metrics = createMetrics(nf);
      const stop = instrumentTracing(nf, { tracer: sdkTracer });
      return () => {
        stop();
        metrics.dispose();
      };
    },
  },
  {
    name: 'inspector (hub + server, no page)',
    setup: async (nf) => {
      const inspector = await startInspector(nf);
      return () => inspector.close();
    },
  },
];

/** Every tool enabled, then disposed: what "disabled" leaves behind. */
const enableThenDispose: Setup = async (nf) => {
  const metrics = createMetrics(nf);
  const stopTracing = instrumentTracing(nf, { tracer: sdkTracer });
  const inspector = await startInspector(nf);
  metrics.dispose();
  stopTracing();
  await inspector.close();
  return () => undefined;
};

/** Bus sending as `run()` does, on a runtime prepared by `setup`. */
async function busRunner(setup: Setup): Promise<() => Promise<void>> {
  const nf = createNeuroFlux({ bus: { maxQueueSize: CHUNK * 2 } });
  nf.bus.registerAgent('sink', { handler: () => undefined });
  const source = nf.bus.registerAgent('source');
  await nf.start();
  await setup(nf);
  return async () => {
    for (let i = 0; i < N; i += CHUNK) {
      for (let j = 0; j < CHUNK; j++) source.send({ recipientId: 'sink', messageType: 'command', topic: 'tick', payload: j });
      await nf.bus.whenIdle();
    }
  };
}

/**
 * Disabled against never enabled, in one process, alternating A and B so that drift
 * (heap growth, JIT) hits both alike: the median of the ratios.
 */
async function disabledVersusBaseline(): Promise<void> {
  const never = await busRunner(async () => () => undefined);
  const disposed = await busRunner(enableThenDispose);
  const ratios: number[] = [];
  for (let round = 0; round < 5; round++) {
    forceGc();
    const a = await bestOf(2, N, never);
    forceGc();
    const b = await bestOf(2, N, disposed);
    ratios.push(b / a);
  }
  ratios.sort((x, y) => x - y);
  process.stdout.write(`${JSON.stringify({ ratio: ratios[2], min: ratios[0], max: ratios[4] })}\n`);
}

async function busThroughput(setup: Setup): Promise<number> {
  const nf = createNeuroFlux({ bus: { maxQueueSize: CHUNK * 2 } });
  let received = 0;
  nf.bus.registerAgent('sink', { handler: () => void received++ });
  const source = nf.bus.registerAgent('source');
  await nf.start();
  const teardown = await setup(nf);
  forceGc();
  const perSecond = await bestOf(ROUNDS, N, async () => {
    for (let i = 0; i < N; i += CHUNK) {
      for (let j = 0; j < CHUNK; j++) source.send({ recipientId: 'sink', messageType: 'command', topic: 'tick', payload: j });
      await nf.bus.whenIdle();
    }
  });
  await teardown();
  await nf.stop();
  return perSecond;
}

async function workflowThroughput(setup: Setup): Promise<number> {
  const nf = createNeuroFlux({ bus: { maxQueueSize: 100_000 } });
  for (let i = 0; i < 50; i++) nf.orchestrator.registerAgent(`agent${i}`, { capabilities: ['work'], maxConcurrentTasks: 5, execute: () => undefined });
  await nf.start();
  const teardown = await setup(nf);
  let batch = 0;
  forceGc();
  const perSecond = await bestOf(3, TASKS, async () => {
    const b = batch++;
    // Chains of 5: dependencies, one workflow per chain.
    const tasks = Array.from({ length: TASKS }, (_, i) => ({
      taskId: `b${b}t${i}`,
      requiredCapabilities: ['work'],
      dependencies: i % 5 === 0 ? [] : [`b${b}t${i - 1}`],
    }));
    const submitted = nf.orchestrator.submitWorkflow({ tasks });
    await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
  });
  await teardown();
  await nf.stop();
  return perSecond;
}

/** One configuration, in this process: prints its figures as JSON. */
async function measureOne(name: string): Promise<void> {
  const configuration = configurations.find((c) => c.name === name);
  if (!configuration) throw new Error(`unknown configuration '${name}'`);
  const bus = await busThroughput(configuration.setup);
  const tasks = await workflowThroughput(configuration.setup);
  process.stdout.write(`${JSON.stringify({ bus, tasks })}\n`);
}

function inChild<T>(arg: string): T & { seconds: number } {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--expose-gc', '-r', '@swc-node/register', __filename, arg], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`'${arg}' failed: ${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  return { ...(JSON.parse(lines[lines.length - 1] as string) as T), seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (only === '--disabled') return disabledVersusBaseline();
  if (only) return measureOne(only);
  console.log(
    `node ${process.version}; bus: ${N.toLocaleString()} messages per run (batches of ${CHUNK}), best of ${ROUNDS}; ` +
      `workflows: ${TASKS.toLocaleString()} tasks in chains of 5, best of 3; one process per configuration\n`,
  );
  const names = [...configurations.map((c) => c.name), (configurations[0] as { name: string }).name];
  let base: { bus: number; tasks: number } | undefined;
  names.forEach((name, i) => {
    const r = inChild<{ bus: number; tasks: number }>(name);
    base ??= r;
    const label = i === names.length - 1 ? 'baseline again (noise floor)' : name;
    console.log(
      `${label.padEnd(36)} bus ${fmt(r.bus).padStart(9)} msg/s ${ratio(r.bus, base.bus).padStart(6)}   ` +
        `workflows ${fmt(r.tasks).padStart(7)} tasks/s ${ratio(r.tasks, base.tasks).padStart(6)}   (${r.seconds.toFixed(1)} s)`,
    );
  });
  const disabled = inChild<{ ratio: number; min: number; max: number }>('--disabled');
  console.log(
    `\ndisabled (every tool enabled, then disposed) against never enabled, same process, A/B alternated 5 times:\n` +
      `  bus throughput ratio ${disabled.ratio.toFixed(3)}× (median; range ${disabled.min.toFixed(3)} – ${disabled.max.toFixed(3)})`,
  );
}
main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
