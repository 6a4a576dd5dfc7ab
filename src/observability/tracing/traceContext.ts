import type { Context, SpanContext, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { otelApi } from './otelApi';

/** W3C Trace Context header names (lowercase, as messages carry them). */
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Parses a W3C `traceparent` value into a remote span context; null when it is malformed,
 * of the forbidden version `ff`, or all-zero.
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.traceId; // '4bf9…4736'
 * ```
 */
export function parseTraceparent(value: string): SpanContext | null {
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  const spanContext: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
  return otelApi().isSpanContextValid(spanContext) ? spanContext : null;
}

/**
 * Formats a span context as a W3C `traceparent` value (version 00).
 *
 * @example
 * ```ts
 * formatTraceparent(span.spanContext()); // '00-<trace id>-<span id>-01'
 * ```
 */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The W3C Trace Context propagator (`traceparent`, `tracestate`) on `@opentelemetry/api`
 * alone: message headers carry the trace across processes even when the application has
 * not registered a global propagator.
 *
 * @example
 * ```ts
 * const headers: Record<string, string> = {};
 * w3cTraceContextPropagator.inject(context.active(), headers, headerSetter);
 * ```
 */
export const w3cTraceContextPropagator: TextMapPropagator = {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = otelApi().trace.getSpanContext(context);
    if (!spanContext || !otelApi().isSpanContextValid(spanContext)) return;
    setter.set(carrier, TRACEPARENT_HEADER, formatTraceparent(spanContext));
    const state = spanContext.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE_HEADER, state);
  },
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = getter.get(carrier, TRACEPARENT_HEADER);
    const value = Array.isArray(header) ? header[0] : header;
    if (!value) return context;
    const spanContext = parseTraceparent(value);
    if (!spanContext) return context;
    const state = getter.get(carrier, TRACESTATE_HEADER);
    if (state) spanContext.traceState = otelApi().createTraceState(Array.isArray(state) ? state.join(',') : state);
    return otelApi().trace.setSpanContext(context, spanContext);
  },
  fields(): string[] {
    return [TRACEPARENT_HEADER, TRACESTATE_HEADER];
  },
};

/** Reads message headers (a string record). */
export const headerGetter: TextMapGetter<Record<string, string> | undefined> = {
  keys: (carrier) => (carrier ? Object.keys(carrier) : []),
  get: (carrier, key) => carrier?.[key],
};

/** Writes message headers (a string record). */
export const headerSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * The propagator to use: the application's global one when it registered one (an SDK
 * does), else {@link w3cTraceContextPropagator}.
 * @internal
 */
export function defaultPropagator(): TextMapPropagator {
  return otelApi().propagation.fields().length > 0 ? otelApi().propagation : w3cTraceContextPropagator;
}

/**
 * Headers that carry the active trace (or `ctx`'s) to another process: add them to a
 * message you forward or a frame you send, and the receiving runtime continues the trace.
 *
 * @example
 * ```ts
 * bus.sendMessage({ ...fields, headers: { ...traceHeaders() } });
 * ```
 */
export function traceHeaders(ctx: Context = otelApi().context.active(), propagator: TextMapPropagator = defaultPropagator()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagator.inject(ctx, headers, headerSetter);
  return headers;
}

/**
 * The trace context a message's headers carry (`ROOT_CONTEXT`'s when they carry none): run
 * code in it with `context.with(...)` to continue a trace that came from another process.
 *
 * @example
 * ```ts
 * context.with(traceContextOf(message.headers), () => tracer.startActiveSpan('work', (span) => { ...; span.end(); }));
 * ```
 */
export function traceContextOf(headers: Record<string, string> | undefined, propagator: TextMapPropagator = defaultPropagator()): Context {
  return propagator.extract(otelApi().ROOT_CONTEXT, headers, headerGetter);
}
