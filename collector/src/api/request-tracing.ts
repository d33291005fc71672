import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpanKind, SpanStatusCode, contextFromTraceparent, medtelTracer, otelContext, otelTrace, tracingActive, type Context, type Span } from '@medtel/shared';

/** The header a caller (a proxy, an integration engine) may set to correlate its logs with ours. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * A caller's id is kept only if it is short and plain (UUIDs, ULIDs, hex,
 * base64url, dotted or colon-separated ids): it is written into every log
 * line of the request and echoed, so nothing that could forge a log field or
 * split a header gets through; anything else is replaced by a new UUID.
 */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:=+/-]{1,128}$/;

/** Fastify options: the request id from X-Request-Id when sane, else a new UUID (Fastify writes it as `reqId` on every request log line). */
export const requestIdOptions = {
  // Fastify's own header handling would take any value unchecked: genReqId reads it instead.
  requestIdHeader: false as const,
  genReqId(req: IncomingMessage): string {
    const given = req.headers[REQUEST_ID_HEADER];
    return typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : randomUUID();
  },
};

const spans = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();

/**
 * X-Request-Id echoed on every response (errors and 404s included), and with
 * tracing on a SERVER span per request, continuing the caller's traceparent.
 * The span's context is made active around the hooks and the handler, so log
 * lines written there carry trace_id/span_id (the logger's mixin) and any
 * span made inside is its child. Install before any other hook.
 */
export function installRequestTracing(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    return payload;
  });
  app.addHook('onRequest', (request, _reply, done) => {
    if (!tracingActive()) {
      done();
      return;
    }
    const header = request.headers.traceparent;
    const parent = contextFromTraceparent(typeof header === 'string' ? header : undefined) ?? otelContext.active();
    const span = medtelTracer().startSpan(
      `HTTP ${request.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': request.url.split('?')[0] as string, 'medtel.request_id': request.id },
      },
      parent,
    );
    if (!span.isRecording()) {
      done();
      return;
    }
    const ctx = otelTrace.setSpan(parent, span);
    spans.set(request, { span, ctx });
    otelContext.with(ctx, done);
  });
  // Body parsing may run outside the request's async context: enter it again for the handler.
  app.addHook('preHandler', (request, _reply, done) => {
    const traced = spans.get(request);
    if (traced) otelContext.with(traced.ctx, done);
    else done();
  });
  app.addHook('onResponse', async (request, reply) => {
    const traced = spans.get(request);
    if (!traced) return;
    const route = request.routeOptions.url;
    if (route) {
      traced.span.updateName(`HTTP ${request.method} ${route}`);
      traced.span.setAttribute('http.route', route);
    }
    traced.span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
    traced.span.end();
  });
}
