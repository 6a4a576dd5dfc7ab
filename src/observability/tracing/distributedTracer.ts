import { randomBytes } from 'node:crypto';
import type { AttributeValue, Context, Span, Tracer } from '@opentelemetry/api';
import { otelApi } from './otelApi';

/** Levels of `logToSpan`; `error` also marks the span as failed. */
export type SpanLogLevel = 'debug' | 'info' | 'warn' | 'error';

interface OpenTrace {
  readonly traceId: string;
  readonly rootSpanId: string;
  readonly operation: string;
  readonly agentId: string;
  readonly startedAt: number;
  readonly spans: Map<string, { readonly span: Span; readonly ctx: Context }>;
}

/** What {@link DistributedTracer.getTrace} tells of a trace. */
export interface TraceSummary {
  readonly traceId: string;
  readonly rootSpanId: string;
  readonly operation: string;
  readonly agentId: string;
  /** Wall-clock ms. */
  readonly startedAt: number;
  /** Spans not ended yet (the root included). */
  readonly openSpans: number;
}

/**
 * The guide's tracer API (`startTrace`, `startSpan`, `endSpan`, `addSpanTag`,
 * `logToSpan`) as a thin layer over OpenTelemetry: traces and spans are OTel spans (tags
 * are attributes, logs are span events), exported by whatever SDK the application
 * registered. Ids are OTel's hex ids; without an SDK (no-op tracer) local ids are made up
 * so that the API still works.
 *
 * @example
 * ```ts
 * const tracer = new DistributedTracer();
 * const traceId = tracer.startTrace('rebalance', 'portfolio_agent');
 * const spanId = tracer.startSpan(traceId, 'fetch_prices');
 * tracer.addSpanTag(traceId, spanId, 'symbols', 12);
 * tracer.logToSpan(traceId, spanId, 'cache miss', 'warn');
 * tracer.endSpan(traceId, spanId);
 * tracer.endTrace(traceId);
 * ```
 */
export class DistributedTracer {
  private readonly tracer: Tracer;
  private readonly traces = new Map<string, OpenTrace>();

  constructor(options: { readonly tracer?: Tracer } = {}) {
    this.tracer = options.tracer ?? otelApi().trace.getTracer('neuroflux');
  }

  private ids(span: Span): { traceId: string; spanId: string } {
    const spanContext = span.spanContext();
    if (otelApi().isSpanContextValid(spanContext)) return { traceId: spanContext.traceId, spanId: spanContext.spanId };
    return { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
  }

  /**
   * Starts a trace: its root span is named after the operation and tagged with the agent.
   * Returns the trace id.
   */
  startTrace(operation: string, agentId: string, parent: Context = otelApi().ROOT_CONTEXT): string {
    const span = this.tracer.startSpan(operation, { kind: otelApi().SpanKind.INTERNAL, attributes: { 'neuroflux.agent.id': agentId } }, parent);
    const { traceId: firstTraceId, spanId } = this.ids(span);
    let traceId = firstTraceId;
    while (this.traces.has(traceId)) traceId = randomBytes(16).toString('hex');
    const spans = new Map([[spanId, { span, ctx: otelApi().trace.setSpan(parent, span) }]]);
    this.traces.set(traceId, { traceId, rootSpanId: spanId, operation, agentId, startedAt: Date.now(), spans });
    return traceId;
  }

  /**
   * Starts a span in a trace, under `parentSpanId` (default: the trace's root span).
   * Returns the span id, or `undefined` for an unknown trace or parent.
   */
  startSpan(traceId: string, operation: string, parentSpanId?: string): string | undefined {
    const open = this.traces.get(traceId);
    if (!open) return undefined;
    const parent = open.spans.get(parentSpanId ?? open.rootSpanId);
    if (!parent) return undefined;
    const span = this.tracer.startSpan(operation, { kind: otelApi().SpanKind.INTERNAL }, parent.ctx);
    let { spanId } = this.ids(span);
    while (open.spans.has(spanId)) spanId = randomBytes(8).toString('hex');
    open.spans.set(spanId, { span, ctx: otelApi().trace.setSpan(parent.ctx, span) });
    return spanId;
  }

  /** Ends a span (ending the root span ends the trace's bookkeeping too, not its open children). */
  endSpan(traceId: string, spanId: string): void {
    const open = this.traces.get(traceId);
    const entry = open?.spans.get(spanId);
    if (!open || !entry) return;
    entry.span.end();
    open.spans.delete(spanId);
    if (open.spans.size === 0) this.traces.delete(traceId);
  }

  /** Sets a tag (an OTel attribute) on an open span. */
  addSpanTag(traceId: string, spanId: string, key: string, value: AttributeValue): void {
    this.traces.get(traceId)?.spans.get(spanId)?.span.setAttribute(key, value);
  }

  /** Adds a log entry (an OTel span event `log` with `level` and `message`) to an open span. */
  logToSpan(traceId: string, spanId: string, message: string, level: SpanLogLevel = 'info'): void {
    const span = this.traces.get(traceId)?.spans.get(spanId)?.span;
    if (!span) return;
    span.addEvent('log', { 'log.severity': level, 'log.message': message });
    if (level === 'error') span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message });
  }

  /** Ends every open span of a trace, its root last. */
  endTrace(traceId: string): void {
    const open = this.traces.get(traceId);
    if (!open) return;
    const root = open.spans.get(open.rootSpanId);
    for (const [spanId, entry] of open.spans) if (spanId !== open.rootSpanId) entry.span.end();
    root?.span.end();
    this.traces.delete(traceId);
  }

  /**
   * The OTel context of an open span: run code in it (`context.with(ctx, fn)`) so that
   * spans started by instrumented code (bus messages, for instance) join the trace.
   */
  contextOf(traceId: string, spanId?: string): Context | undefined {
    const open = this.traces.get(traceId);
    return open?.spans.get(spanId ?? open.rootSpanId)?.ctx;
  }

  /** What is known of an open trace. */
  getTrace(traceId: string): TraceSummary | undefined {
    const open = this.traces.get(traceId);
    if (!open) return undefined;
    const { spans: _spans, ...summary } = open;
    return { ...summary, openSpans: open.spans.size };
  }
}
