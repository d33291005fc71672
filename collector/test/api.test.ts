import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, connectGateway, dataPayload, publishAcked, startTestCollector } from './collector-fixture.js';

let collector: Awaited<ReturnType<typeof startTestCollector>>;
let viewer: string;
const get = (url: string, token: string | null = viewer) =>
  collector.api.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

beforeAll(async () => {
  collector = await startTestCollector();
  viewer = await collector.token('viewer');
  const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
  const birth = {
    v: 1,
    seq: 1,
    sentAt: 1,
    device: 'pump-1',
    type: 'infusion-pump',
    deviceCode: 69985,
    manufacturer: 'medtel simulated',
    model: 'MT-LVP-100',
    serial: 'SN-1',
    firmware: '1.4.2',
    protocol: 'modbus-tcp',
    profile: 'medtel-mt-lvp-100',
    metrics: [{ metric: 'rate', code: 157784, refId: 'MDC_FLOW_FLUID_PUMP', unit: 'mL/h', unitCode: 265266 }],
  };
  await publishAcked(
    client,
    'medtel/v1/bench/gw-1/state',
    JSON.stringify({ v: 1, sentAt: Date.now(), state: 'online', agentVersion: '0.1.0', devices: ['pump-1'] }),
  );
  await publishAcked(client, 'medtel/v1/bench/gw-1/dev/pump-1/birth', JSON.stringify(birth));
  for (let seq = 2; seq <= 6; seq++) await publishAcked(client, 'medtel/v1/bench/gw-1/dev/pump-1/data', dataPayload(seq, 'pump-1', [100 + seq]));
  await client.endAsync();
});
afterAll(async () => collector.close());

describe('HTTP API', () => {
  it('lists devices from their births', async () => {
    const res = await get('/api/v1/devices');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.total).toBe(1);
    expect(body.items[0]).toMatchObject({ id: 'gw-1.pump-1', model: 'MT-LVP-100', serial: 'SN-1', deviceCode: 69985, gatewayState: 'online' });
  });

  it('refuses bodies over 1 MiB with 413 and a JSON error, and keeps serving', async () => {
    const technician = await collector.token('technician');
    const huge = await collector.api.inject({
      method: 'POST',
      url: '/api/v1/work-orders',
      headers: { authorization: `Bearer ${technician}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ deviceId: 'gw-1.pump-1', type: 'corrective', title: 'x'.repeat(1_100_000) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ error: 'Payload Too Large' });
    const notJson = await collector.api.inject({
      method: 'POST',
      url: '/api/v1/work-orders',
      headers: { authorization: `Bearer ${technician}`, 'content-type': 'application/xml' },
      payload: '<workOrder/>',
    });
    expect(notJson.statusCode).toBe(415);
    expect((await get('/api/v1/devices')).statusCode).toBe(200);
  });

  it('lists gateways with their devices, connectivity and last seen', async () => {
    const body = (await get('/api/v1/gateways')).json();
    expect(body.items).toEqual([
      expect.objectContaining({
        id: 'gw-1',
        state: 'online',
        agentVersion: '0.1.0',
        devices: [
          {
            id: 'gw-1.pump-1',
            device: 'pump-1',
            type: 'infusion-pump',
            model: 'MT-LVP-100',
            approval: 'approved',
            connectivity: 'unknown',
            lastSeen: expect.any(String),
          },
        ],
      }),
    ]);
  });

  it('serves one device, and 404 with a JSON error for an unknown one', async () => {
    expect((await get('/api/v1/devices/gw-1.pump-1')).json()).toMatchObject({ id: 'gw-1.pump-1', type: 'infusion-pump' });
    const missing = await get('/api/v1/devices/gw-1.nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'Not Found', message: expect.stringContaining('no device "gw-1.nope"') });
  });

  it('serves telemetry newest first with ISO times, filtered by time range', async () => {
    const res = await get('/api/v1/devices/gw-1.pump-1/telemetry?metric=rate&limit=2');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      device: 'gw-1.pump-1',
      approval: 'approved',
      count: 2,
      readings: [
        {
          t: new Date(6000).toISOString(),
          metric: 'rate',
          code: 157784,
          refId: 'MDC_FLOW_FLUID_PUMP',
          unit: 'mL/h',
          unitCode: 265266,
          value: 106,
          quality: 'good',
        },
        {
          t: new Date(5000).toISOString(),
          metric: 'rate',
          code: 157784,
          refId: 'MDC_FLOW_FLUID_PUMP',
          unit: 'mL/h',
          unitCode: 265266,
          value: 105,
          quality: 'good',
        },
      ],
    });
    const ranged = await get(`/api/v1/devices/gw-1.pump-1/telemetry?from=${new Date(3000).toISOString()}&to=4000`);
    expect(ranged.json().readings.map((r: { value: number }) => r.value)).toEqual([103]);
  });

  it.each([
    ['/api/v1/devices/gw-1.pump-1/telemetry?limit=0', 'limit'],
    ['/api/v1/devices/gw-1.pump-1/telemetry?limit=abc', 'limit'],
    ['/api/v1/devices/gw-1.pump-1/telemetry?metirc=rate', 'metirc'],
    ['/api/v1/devices/gw-1.pump-1/telemetry?from=yesterday', 'from'],
    ['/api/v1/devices/gw-1.pump-1/telemetry?from=5000&to=4000', 'to'],
    ['/api/v1/devices?status=happy', 'status'],
  ])('answers 400 naming the parameter for %s', async (url, parameter) => {
    const res = await get(url);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'Bad Request', parameter });
    expect(res.json().message).toContain(parameter);
  });

  it('answers 404 JSON for unknown routes', async () => {
    const res = await get('/api/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toBe('no route GET /api/v1/nothing-here');
  });

  it('publishes an OpenAPI 3 document generated from the route schemas', async () => {
    const doc = (await get('/api/v1/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/devices', '/api/v1/devices/{id}', '/api/v1/devices/{id}/telemetry', '/api/v1/gateways']),
    );
    const params = doc.paths['/api/v1/devices/{id}/telemetry'].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(['metric', 'from', 'to', 'limit', 'id']));
  });

  it('refuses the API without a valid token (401), and serves probes and the OpenAPI document without one', async () => {
    for (const url of ['/api/v1/devices', '/api/v1/devices/gw-1.pump-1/telemetry', '/api/v1/gateways', '/api/v1/audit']) {
      const res = await get(url, null);
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect((await get('/api/v1/devices', 'not.a.token')).statusCode).toBe(401);
    for (const url of ['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json']) expect((await get(url, null)).statusCode, url).toBe(200);
  });

  it('keeps the audit trail for administrators (403 for lower roles)', async () => {
    expect((await get('/api/v1/audit')).statusCode).toBe(403);
    const res = await get('/api/v1/audit', await collector.token('admin'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ head: { seq: expect.any(Number) } });
  });

  it('lets a technician edit registry fields with If-Match, refuses stale edits, and audits old and new values', async () => {
    const patch = (body: unknown, token: string | null, ifMatch?: string, id = 'gw-1.pump-1') =>
      collector.api.inject({
        method: 'PATCH',
        url: `/api/v1/devices/${id}`,
        payload: body as object,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(ifMatch ? { 'if-match': ifMatch } : {}) },
      });
    const technician = await collector.token('technician');
    const edit = { assetTag: 'BME-004711', location: 'ICU bed 3', department: 'Intensive care', reason: 'incoming inspection' };
    expect((await patch(edit, viewer, '"1"')).statusCode).toBe(403);
    expect((await patch(edit, null, '"1"')).statusCode).toBe(401);
    const noIfMatch = await patch(edit, technician);
    expect(noIfMatch.statusCode).toBe(428);
    expect(noIfMatch.json().message).toMatch(/If-Match/);
    const got = await get('/api/v1/devices/gw-1.pump-1');
    expect(got.headers.etag).toBe('"1"');
    const ok = await patch(edit, technician, got.headers.etag as string);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).toBe('"2"');
    expect(ok.json()).toMatchObject({ assetTag: 'BME-004711', location: 'ICU bed 3', department: 'Intensive care', lifecycle: 'active', version: 2 });
    const stale = await patch({ location: 'OR 2' }, technician, '"1"');
    expect(stale.statusCode).toBe(409);
    expect(stale.json().message).toMatch(/changed meanwhile \(now version 2\)/);
    expect((await patch({ location: 'OR 2' }, technician, '"1"', 'gw-1.nope')).statusCode).toBe(404);
    const badValue = await patch({ lifecycle: 'scrapped' }, technician, '"2"');
    expect([badValue.statusCode, badValue.json().parameter]).toEqual([400, 'lifecycle']);
    const unknown = await patch({ colour: 'red' }, technician, '"2"');
    expect([unknown.statusCode, unknown.json().message]).toEqual([400, 'body "colour": unknown field']);
    expect((await get('/api/v1/devices/gw-1.pump-1')).json()).toMatchObject({ location: 'ICU bed 3', version: 2 });

    const audit = (await get('/api/v1/audit', await collector.token('admin'))).json();
    expect(audit.total).toBe(1);
    expect(audit.items[0]).toMatchObject({
      actor: 'test-technician',
      role: 'technician',
      action: 'device:update',
      objectType: 'device',
      objectId: 'gw-1.pump-1',
      oldValue: { assetTag: null, location: null, department: null },
      newValue: { assetTag: 'BME-004711', location: 'ICU bed 3', department: 'Intensive care' },
      reason: 'incoming inspection',
    });
    expect(await collector.store.audit.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await get('/healthz')).json()).toMatchObject({ status: 'ok' });
    expect((await get('/readyz')).json()).toEqual({ status: 'ready', checks: { store: 'ok', broker: 'ok', ingest: 'ok' } });
    const metrics = await get('/metrics');
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.body).toMatch(/medtel_ingest_readings_total\{component="collector"\} 5/);
    expect(metrics.body).toMatch(/medtel_process_resident_memory_bytes/);
  });
});
