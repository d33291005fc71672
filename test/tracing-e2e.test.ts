import { type IncomingMessage, type Server, createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * One pump reading's trace, end to end, as an OTLP backend (Jaeger, Tempo)
 * receives it: a pump simulator, the agent and the collector as processes
 * with tracing on through the standard OTEL_* variables (every batch
 * sampled), exporting OTLP/HTTP JSON to a receiver inside this test.
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  attributes: Record<string, unknown>;
}

const received: OtlpSpan[] = [];
let receiver: Server;
let stack: Stack;
const TRACING_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'];

/** OTLP JSON: any value as a plain JS value. */
function value(v: Record<string, unknown>): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  return v;
}
const attrs = (list: Array<{ key: string; value: Record<string, unknown> }> = []) => Object.fromEntries(list.map((a) => [a.key, value(a.value)]));

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const data = await body(req);
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
      res.writeHead(415).end();
      return;
    }
    const parsed = JSON.parse(data.toString()) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string; value: Record<string, unknown> }> };
        scopeSpans: Array<{ spans: Array<Omit<OtlpSpan, 'service' | 'attributes'> & { attributes: Array<{ key: string; value: Record<string, unknown> }> }> }>;
      }>;
    };
    for (const rs of parsed.resourceSpans) {
      const service = String(attrs(rs.resource.attributes)['service.name']);
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans)
          received.push({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            service,
            attributes: attrs(s.attributes),
          });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const port = await freePort();
  await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
  // Inherited by the collector and agent processes the stack starts.
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '1.0',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
  });
  const modbus = await freePort();
  try {
    stack = await startStack({
      gateway: 'gw-trace',
      site: 'ward-7',
      devices: [{ id: 'pump-1', profile: 'medtel-mt-lvp-100', connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: modbus }, pollInterval: '500ms' }],
      simulators: [['pump', '--modbus-tcp', `127.0.0.1:${modbus}`, '--serial', 'TRACE-0001', '--seed', '3']],
    });
  } finally {
    for (const k of TRACING_ENV) delete process.env[k];
  }
});

afterAll(async () => {
  await stack?.stop();
  receiver?.close();
});

describe('tracing end to end', () => {
  it("links the agent's and the collector's spans of one pump reading under one trace id", async () => {
    const trace = await waitFor(
      'a pump reading traced from the driver to the store commit',
      () => {
        const commits = received.filter((s) => s.name === 'store.commit' && s.service === 'medtel-collector');
        for (const commit of commits) {
          const spans = received.filter((s) => s.traceId === commit.traceId);
          const names = new Set(spans.map((s) => s.name));
          const all = ['agent.batch', 'driver.read', 'profile.map', 'outbox.commit', 'mqtt.publish', 'broker.authorize', 'ingest.classify', 'store.commit'];
          if (all.every((n) => names.has(n))) return spans;
        }
        return undefined;
      },
      30_000,
    );
    const one = (name: string) => trace.find((s) => s.name === name) as OtlpSpan;
    const root = one('agent.batch');
    expect(root.service).toBe('medtel-agent');
    expect(root.parentSpanId).toBeUndefined();
    expect(one('driver.read').attributes).toMatchObject({ 'medtel.device': 'pump-1', 'medtel.protocol': 'modbus-tcp' });
    expect(one('driver.read').attributes['medtel.read.bytes']).toBeGreaterThan(0);
    for (const child of ['driver.read', 'profile.map', 'outbox.commit', 'mqtt.publish']) expect(one(child).parentSpanId).toBe(root.spanId);
    // The collector continues under the publish that delivered the message.
    const authorize = one('broker.authorize');
    expect(authorize.service).toBe('medtel-collector');
    expect(authorize.parentSpanId).toBe(one('mqtt.publish').spanId);
    expect(authorize.attributes).toMatchObject({ 'medtel.gateway': 'gw-trace', 'medtel.device': 'pump-1', 'medtel.kind': 'data' });
    expect(authorize.attributes['medtel.seq']).toBe(one('outbox.commit').attributes['medtel.seq']);
    expect(one('store.commit').parentSpanId).toBe(authorize.spanId);
    expect(one('store.commit').attributes['medtel.outcome']).toBe('stored');
  });

  it('answers API requests with their request id, traced as a server span', async () => {
    const res = await fetch(`http://127.0.0.1:${stack.ports.http}/api/v1/devices/gw-trace.pump-1`, {
      headers: { authorization: `Bearer ${stack.token}`, 'x-request-id': 'e2e-req-1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('e2e-req-1');
    const span = await waitFor('the request span', () => received.find((s) => s.attributes['medtel.request_id'] === 'e2e-req-1'));
    expect(span).toMatchObject({ name: 'HTTP GET /api/v1/devices/:id', service: 'medtel-collector' });
  });
});
