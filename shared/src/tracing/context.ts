import { ROOT_CONTEXT, TraceFlags, trace, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';

/**
 * What the data path needs from OpenTelemetry, through the API package only:
 * without a started SDK every call here is a cheap no-op, and the hot paths
 * test `tracingActive()` first so that, with tracing off, they do no work at all.
 */

let active = false;

/** True once startTracing() has installed an SDK (and until it shuts down). */
export function tracingActive(): boolean {
  return active;
}

/** Set by the SDK module only. */
export function setTracingActive(on: boolean): void {
  active = on;
}

export function medtelTracer(): Tracer {
  return trace.getTracer('medtel');
}

/** Wall-clock milliseconds with sub-millisecond precision: a span start recorded before we knew it was traced. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** W3C traceparent of a span, or undefined if it is not sampled (only sampled context travels in payloads). */
export function traceparentOf(span: Span | SpanContext): string | undefined {
  const sc = 'spanContext' in span ? span.spanContext() : span;
  if ((sc.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags.toString(16).padStart(2, '0')}`;
}

/** A context whose parent is the remote span a traceparent names; undefined if it is malformed or all zeros. */
export function contextFromTraceparent(traceparent: string | undefined): Context | undefined {
  if (!traceparent) return undefined;
  const m = TRACEPARENT.exec(traceparent);
  if (!m) return undefined;
  const [, traceId, spanId, flags] = m as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true });
}

/**
 * pino mixin: trace_id and span_id on every line written while a sampled span
 * is active, so a log search finds the trace and a trace view finds its logs.
 */
export function traceLogFields(): Record<string, string> {
  if (!active) return {};
  const span = trace.getActiveSpan();
  if (!span) return {};
  const sc = span.spanContext();
  if ((sc.traceFlags & TraceFlags.SAMPLED) === 0) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
