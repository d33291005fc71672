export * from './config.js';
export * from './context.js';
export * from './sdk.js';
export { SpanKind, SpanStatusCode, context as otelContext, trace as otelTrace, type Context, type Span, type Attributes } from '@opentelemetry/api';
