import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '@medtel/shared';
import { SECRETS, connectGateway, dataPayload, publishAcked, startTestCollector } from './collector-fixture.js';
import { waitFor } from '../../test/helpers.js';

/**
 * The collector's spans with the real SDK (in-memory exporter, every trace
 * sampled): a PUBLISH carrying a traceparent continues that trace through
 * authorization and the store commit; API requests get a request id (the
 * caller's if sane), echoed, on every log line, and a span.
 */
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let collector: Awaited<ReturnType<typeof startTestCollector>>;

beforeAll(async () => {
  tracing = await startTracing({ serviceName: 'collector-test', exporter, env: { OTEL_TRACES_SAMPLER: 'parentbased_always_on' } });
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector?.close();
  await tracing?.shutdown();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const byName = (spans: ReadableSpan[], name: string) => spans.find((s) => s.name === name) as ReadableSpan;
const parentId = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('collector tracing', () => {
  it('continues the trace of a PUBLISH that carries a traceparent: broker.authorize -> ingest.classify, store.commit, ended by the PUBACK', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    try {
      const payload = { ...JSON.parse(dataPayload(41, 'pump-t')), traceparent: `00-${TRACE_ID}-${PARENT}-01` };
      await publishAcked(client, 'medtel/v1/ward/gw-1/dev/pump-t/data', JSON.stringify(payload));
      // Untraced messages make no spans at all.
      await publishAcked(client, 'medtel/v1/ward/gw-1/dev/pump-t/data', dataPayload(42, 'pump-t'));
    } finally {
      await client.endAsync();
    }
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID);
    expect(spans.map((s) => s.name).sort()).toEqual(['broker.authorize', 'ingest.classify', 'store.commit']);
    const root = byName(spans, 'broker.authorize');
    expect(parentId(root)).toBe(PARENT);
    expect(root.attributes).toMatchObject({ 'medtel.gateway': 'gw-1', 'medtel.device': 'pump-t', 'medtel.seq': 41, 'medtel.kind': 'data' });
    expect(parentId(byName(spans, 'ingest.classify'))).toBe(root.spanContext().spanId);
    const commit = byName(spans, 'store.commit');
    expect(parentId(commit)).toBe(root.spanContext().spanId);
    expect(commit.attributes['medtel.outcome']).toBe('stored');
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'broker.authorize')).toHaveLength(1);
  });

  it("echoes a sane X-Request-Id, puts it and the trace ids on the request's log lines, and makes a server span", async () => {
    const traceId = 'a'.repeat(31) + 'b';
    const res = await fetch(`${collector.httpUrl}/api/v1/devices`, {
      headers: { authorization: 'Bearer not-a-token', 'x-request-id': 'ticket-4711.retry:2', traceparent: `00-${traceId}-${PARENT}-01` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('ticket-4711.retry:2');
    const line = await waitFor('the refusal logged', () =>
      collector
        .log()
        .split('\n')
        .find((l) => l.includes('request refused: token') && l.includes('ticket-4711')),
    );
    const logged = JSON.parse(line) as Record<string, string>;
    expect(logged.reqId).toBe('ticket-4711.retry:2');
    expect(logged.trace_id).toBe(traceId);
    const span = await waitFor('the server span', () => exporter.getFinishedSpans().find((s) => s.spanContext().traceId === traceId));
    expect(span.name).toBe('HTTP GET /api/v1/devices');
    expect(logged.span_id).toBe(span.spanContext().spanId);
    expect(parentId(span)).toBe(PARENT);
    expect(span.attributes).toMatchObject({ 'http.response.status_code': 401, 'medtel.request_id': 'ticket-4711.retry:2', 'http.route': '/api/v1/devices' });
  });

  it('replaces an unsafe or overlong request id with a generated one', async () => {
    for (const bad of ['a b', 'x'.repeat(129), 'id"}{"admin":true']) {
      const res = await fetch(`${collector.httpUrl}/healthz`, { headers: { 'x-request-id': bad } });
      const echoed = res.headers.get('x-request-id');
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
      expect(echoed).not.toBe(bad);
    }
    const res = await fetch(`${collector.httpUrl}/healthz`);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
