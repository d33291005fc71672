import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers.js';
import { followStream } from '../../test/sse-client.js';
import { SECRETS, connectGateway, startTestCollector } from './collector-fixture.js';
import { FakePumpGateway, pressureRule } from './alerts-helpers.js';

/** GET /api/v1/stream over a real HTTP connection, read as a dashboard would: fetch() streaming with the bearer header. */

let collector: Awaited<ReturnType<typeof startTestCollector>>;
let gw: FakePumpGateway;
let viewer: string;

beforeAll(async () => {
  collector = await startTestCollector({
    configure: (c) => {
      c.alerts.holdOff = '0s';
      c.alerts.evaluateEvery = '100ms';
      c.stream.heartbeat = '300ms';
      c.stream.maxBuffered = '64KiB';
    },
  });
  viewer = await collector.token('viewer');
  gw = new FakePumpGateway(await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']));
  await gw.birth();
  const technician = await collector.token('technician');
  const res = await collector.api.inject({
    method: 'POST',
    url: '/api/v1/alert-rules',
    headers: { authorization: `Bearer ${technician}` },
    payload: pressureRule,
  });
  expect(res.statusCode).toBe(201);
});
afterAll(async () => {
  await gw.client.endAsync();
  await collector.close();
});

describe('live stream (Server-Sent Events)', () => {
  it('needs a token (401 without), and names a bad type (400)', async () => {
    expect((await fetch(`${collector.httpUrl}/api/v1/stream`)).status).toBe(401);
    const bad = await fetch(`${collector.httpUrl}/api/v1/stream?types=alerts,weather`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { parameter: string }).parameter).toBe('types');
  });

  it('sends a hello, live readings of the chosen device, alert changes, and heartbeats', async () => {
    const all = followStream(`${collector.httpUrl}/api/v1/stream?types=alerts,readings&device=gw-1.pump-1`, viewer);
    const otherDevice = followStream(`${collector.httpUrl}/api/v1/stream?types=readings&device=gw-1.pump-9`, viewer);
    await waitFor('hello', () => all.events.find((e) => e.event === 'hello') && otherDevice.events.find((e) => e.event === 'hello'));
    expect(all.events[0]).toMatchObject({ id: '1', event: 'hello', data: { types: ['alerts', 'readings'], devices: ['gw-1.pump-1'], heartbeatSeconds: 0.3 } });
    await waitFor('stream clients gauge', async () =>
      (await collector.api.inject({ method: 'GET', url: '/metrics' })).body.includes('medtel_stream_clients{component="collector"} 2'),
    );

    await gw.pressure(61);
    const readings = await waitFor('readings event', () => all.events.find((e) => e.event === 'readings'));
    expect(readings.data).toMatchObject({ device: 'gw-1.pump-1', readings: [{ metric: 'line_pressure', value: 61, unit: 'mm[Hg]' }] });
    expect((readings.data as { readings: Array<{ t: string }> }).readings[0]?.t).toMatch(/^\d{4}-\d\d-\d\dT/);

    await gw.pressure(350);
    const raised = await waitFor('alert raised event', () => all.events.find((e) => e.event === 'alert' && (e.data as { change: string }).change === 'raised'));
    expect(raised.data).toMatchObject({ alert: { key: 'rule:1:gw-1.pump-1', state: 'active', value: 350 } });
    await gw.pressure(60);
    await waitFor('alert resolved event', () => all.events.find((e) => e.event === 'alert' && (e.data as { change: string }).change === 'resolved'));
    await waitFor('a heartbeat comment', () => all.comments.find((c) => c.startsWith(': heartbeat')));

    expect(otherDevice.events.filter((e) => e.event === 'readings')).toEqual([]);
    all.stop();
    otherDevice.stop();
    await waitFor('clients gone', async () =>
      (await collector.api.inject({ method: 'GET', url: '/metrics' })).body.includes('medtel_stream_clients{component="collector"} 0'),
    );
  });

  it('a client that stops reading loses events (counted), memory stays bounded, and others are not held up', async () => {
    // A raw socket that sends the request and never reads: the kernel buffers fill, then the collector's.
    const slow = connect(Number(new URL(collector.httpUrl).port), '127.0.0.1');
    await new Promise((r) => slow.once('connect', r));
    slow.write(`GET /api/v1/stream?types=readings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${viewer}\r\n\r\n`);
    slow.pause();
    const fast = followStream(`${collector.httpUrl}/api/v1/stream?types=readings`, viewer);
    await waitFor('fast hello', () => fast.events.find((e) => e.event === 'hello'));

    // ~30 MB of reading events: far more than the socket buffers hold.
    const big = Array.from({ length: 5000 }, (_, i) => 100 + (i % 50));
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 40; i++) await gw.pressure(...big);
    await waitFor('fast client got every batch', () => fast.events.filter((e) => e.event === 'readings').length === 40, 30_000);
    const metrics = (await collector.api.inject({ method: 'GET', url: '/metrics' })).body;
    const dropped = Number(/medtel_stream_dropped_events_total\{type="readings",component="collector"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(dropped).toBeGreaterThan(0);
    // What the collector holds for the slow client is its limit (64 KiB) plus one event, not the 30 MB it missed.
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
    fast.stop();
    slow.destroy();
  });

  it('closes open streams when the collector stops', async () => {
    const s = followStream(`${collector.httpUrl}/api/v1/stream?types=alerts`, viewer);
    await waitFor('hello', () => s.events.find((e) => e.event === 'hello'));
    await collector.stop();
    await waitFor('stream ended by the server', () => s.ended());
  });
});
