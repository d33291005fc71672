import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, connectGateway, publishAcked, startTestCollector } from './collector-fixture.js';

/**
 * GET /devices/{id}/trend over real MQTT ingest and SQLite: readings are cut
 * into equal time buckets with min, max and average computed by the store.
 */
let collector: Awaited<ReturnType<typeof startTestCollector>>;
let viewer: string;
const get = (url: string, token: string | null = viewer) =>
  collector.api.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

/** Ten minutes of 1 Hz readings, value = second index (0..599), starting on a whole hour in the past. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const rate = (t: number, value: number | null, quality = 'good') => ({
  metric: 'rate',
  code: 157784,
  refId: 'MDC_FLOW_FLUID_PUMP',
  unit: 'mL/h',
  unitCode: 265266,
  t,
  value,
  quality,
});

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
    model: 'MT-LVP-100',
    metrics: [{ metric: 'rate', code: 157784, refId: 'MDC_FLOW_FLUID_PUMP', unit: 'mL/h', unitCode: 265266 }],
  };
  await publishAcked(client, 'medtel/v1/bench/gw-1/dev/pump-1/birth', JSON.stringify(birth));
  for (let m = 0; m < 6; m++) {
    const readings = Array.from({ length: 100 }, (_, i) => rate(T0 + (m * 100 + i) * 1000, m * 100 + i));
    await publishAcked(
      client,
      'medtel/v1/bench/gw-1/dev/pump-1/data',
      JSON.stringify({ v: 1, seq: m + 2, sentAt: Date.now(), device: 'pump-1', clock: 'agent', readings }),
    );
  }
  // A refused read carries no value and must not drag a bucket's minimum to 0.
  await publishAcked(
    client,
    'medtel/v1/bench/gw-1/dev/pump-1/data',
    JSON.stringify({ v: 1, seq: 8, sentAt: Date.now(), device: 'pump-1', clock: 'agent', readings: [rate(T0 + 30_500, null, 'bad')] }),
  );
  await client.endAsync();
});
afterAll(async () => collector.close());

describe('GET /api/v1/devices/{id}/trend', () => {
  it('cuts the range into buckets with min, max, average and count, oldest first', async () => {
    const res = await get(`/api/v1/devices/gw-1.pump-1/trend?metric=rate&from=${T0}&to=${T0 + 600_000}&points=10`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ device: 'gw-1.pump-1', metric: 'rate', unit: 'mL/h', bucketMs: 60_000, from: new Date(T0).toISOString() });
    expect(body.buckets).toHaveLength(10);
    body.buckets.forEach((b: { t: string; min: number; max: number; avg: number; count: number }, i: number) => {
      expect(b).toEqual({ t: new Date(T0 + i * 60_000).toISOString(), min: i * 60, max: i * 60 + 59, avg: i * 60 + 29.5, count: 60 });
    });
  });

  it('leaves out buckets without readings, and a day of readings never exceeds `points`', async () => {
    const day = await get(`/api/v1/devices/gw-1.pump-1/trend?metric=rate&from=${T0 - 23 * 3_600_000}&to=${T0 + 3_600_000}&points=300`);
    expect(day.statusCode).toBe(200);
    const { buckets, bucketMs } = day.json();
    expect(bucketMs).toBe(288_000);
    expect(buckets.length).toBeGreaterThan(0);
    expect(buckets.length).toBeLessThanOrEqual(3);
    expect(buckets.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(600);
    expect(Math.min(...buckets.map((b: { min: number }) => b.min))).toBe(0);
    expect(Math.max(...buckets.map((b: { max: number }) => b.max))).toBe(599);
  });

  it('defaults to the last hour and answers an empty list for a metric without readings', async () => {
    const res = await get('/api/v1/devices/gw-1.pump-1/trend?metric=line_pressure');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.buckets).toEqual([]);
    expect(body.unit).toBeNull();
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(3_600_000);
  });

  it('names the parameter it refuses, 404s an unknown device, and needs a token', async () => {
    expect((await get('/api/v1/devices/gw-1.pump-1/trend')).json()).toMatchObject({ parameter: 'metric' });
    expect((await get('/api/v1/devices/gw-1.pump-1/trend?metric=rate&points=5000')).json()).toMatchObject({ parameter: 'points' });
    const backwards = await get(`/api/v1/devices/gw-1.pump-1/trend?metric=rate&from=${T0}&to=${T0}`);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json()).toMatchObject({ parameter: 'to' });
    expect((await get('/api/v1/devices/gw-1.pump-1/trend?metric=rate&from=yesterday')).json()).toMatchObject({ parameter: 'from' });
    expect((await get('/api/v1/devices/gw-1.nope/trend?metric=rate')).statusCode).toBe(404);
    expect((await get('/api/v1/devices/gw-1.pump-1/trend?metric=rate', null)).statusCode).toBe(401);
  });
});
