/**
 * Guide: distributed tracing. NeuroFlux emits OpenTelemetry spans (bring your SDK): one
 * workflow gives one trace, task spans under the workflow, attempts under the tasks, and
 * W3C trace context travels in message headers across processes.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createNeuroFlux, instrumentTracing } from '../src';

export async function runTracing(): Promise<{ traces: number; spans: string[] }> {
  const exporter = new InMemorySpanExporter(); // in production: an OTLP exporter
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);

  const nf = createNeuroFlux();
  const stopTracing = instrumentTracing(nf, { tracer: provider.getTracer('trading-desk') });
  nf.orchestrator.registerAgent('analysis_agent_1', { capabilities: ['technical_analysis'], execute: async () => ({ signal: 'BUY' }) });
  nf.orchestrator.registerAgent('trading_agent_1', { capabilities: ['trading'], execute: async () => ({ filled: true }) });
  await nf.start();
  nf.orchestrator.submitWorkflow({
    tasks: [
      { taskId: 'analysis', requiredCapabilities: ['technical_analysis'] },
      { taskId: 'trade', dependencies: ['analysis'], requiredCapabilities: ['trading'] },
    ],
  });
  await nf.orchestrator.waitForWorkflow(['analysis', 'trade']);
  stopTracing();
  await nf.stop();
  context.disable();

  const spans = exporter.getFinishedSpans();
  return { traces: new Set(spans.map((s) => s.spanContext().traceId)).size, spans: [...new Set(spans.map((s) => s.name))].sort() };
}

if (require.main === module) void runTracing().then((r) => console.log(r));
