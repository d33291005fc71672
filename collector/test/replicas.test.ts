import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers.js';
import type { TestRedis } from '../../test/redis-server.js';
import { followStream } from '../../test/sse-client.js';
import type { CollectorConfig } from '../dist/index.js';
import { FakePumpGateway } from './alerts-helpers.js';
import { type Collector, startReplicaPair, stopReplicaPair } from './replica-pair.js';
import { SECRETS, connectGateway, publishAcked } from './collector-fixture.js';

/**
 * Two collector replicas in this process sharing a real redis-server (and, for
 * want of PostgreSQL here, one SQLite file: two connections in one process is
 * safe for SQLite; the process-level test with PostgreSQL is
 * test/replicas-e2e.test.ts). What a user notices: a command sent through
 * replica B reaches a gateway on replica A and its result shows on B; a
 * stream on B shows an alert raised on A; scheduled work runs on one replica;
 * /readyz follows Redis.
 */
let redis: TestRedis;
let a: Collector;
let b: Collector;
const stopped = new Set<Collector>();

const fast = (url: string) => (c: CollectorConfig) => {
  c.redis = { url, brokerHeartbeat: '1s' };
  c.alerts.holdOff = '0s';
  c.alerts.evaluateEvery = '100ms';
  c.alerts.calibrationCheckEvery = '200ms';
  c.stream.heartbeat = '300ms';
};

describe('replicas sharing Redis', () => {
  beforeAll(async () => {
    ({ redis, a, b } = await startReplicaPair(fast));
  }, 60_000);

  afterAll(() => stopReplicaPair({ redis, a, b }, stopped));

  it('sends a command through replica B to a gateway connected to replica A, and shows its result on B', async () => {
    const gateway: MqttClient = await connectGateway(a.mqttPort, 'gw-1', SECRETS['gw-1'], { clean: false, clientId: 'gw-1-cmd' });
    let seq = 100;
    await gateway.subscribeAsync('medtel/v1/bench/gw-1/cmd/#', { qos: 1 });
    const received: string[] = [];
    gateway.on('message', (topic, payload) => {
      const cmd = JSON.parse(payload.toString()) as { requestId: string };
      received.push(topic);
      void publishAcked(
        gateway,
        `medtel/v1/bench/gw-1/res/${cmd.requestId}`,
        JSON.stringify({ v: 1, seq: ++seq, sentAt: Date.now(), requestId: cmd.requestId, ok: true, result: { passed: true } }),
      ).catch(() => undefined);
    });
    await publishAcked(
      gateway,
      'medtel/v1/bench/gw-1/dev/pump-9/birth',
      JSON.stringify({
        v: 1,
        seq: ++seq,
        sentAt: Date.now(),
        device: 'pump-9',
        type: 'infusion-pump',
        manufacturer: 'medtel simulated',
        model: 'MT-LVP-100',
        protocol: 'modbus-tcp',
        profile: 'medtel-mt-lvp-100',
        metrics: [],
        diagnostics: [{ name: 'self_test', description: 'Built-in self-test', changesState: false }],
      }),
    );
    const technician = await b.token('technician');
    const posted = await b.api.inject({
      method: 'POST',
      url: '/api/v1/devices/gw-1.pump-9/diagnostics',
      payload: { test: 'self_test' },
      headers: { authorization: `Bearer ${technician}` },
    });
    expect(posted.statusCode, posted.body).toBe(202);
    const location = posted.headers.location as string;
    expect(posted.json().state).toBe('pending');
    const done = await waitFor('the result, read through replica B', async () => {
      const body = (await b.api.inject({ method: 'GET', url: location, headers: { authorization: `Bearer ${technician}` } })).json();
      return body.state !== 'pending' ? body : undefined;
    });
    expect(done.state).toBe('completed');
    expect(received).toHaveLength(1);
    await gateway.endAsync();
  });

  it('streams on replica B an alert raised on replica A, once', async () => {
    const viewer = await b.token('viewer');
    const stream = followStream(`${b.httpUrl}/api/v1/stream?types=alerts`, viewer);
    await waitFor('stream open', () => b.metrics.streamClients.get().then((m) => (m.values[0]?.value ?? 0) >= 1));
    const client = await connectGateway(a.mqttPort, 'gw-2', SECRETS['gw-2']);
    const pump = new FakePumpGateway(client, 'gw-2', 'pump-3', 1);
    await pump.birth();
    await pump.alarm('start');
    const raised = await waitFor('the alarm alert on B', () =>
      stream.events.find((e) => e.event === 'alert' && (e.data as { change: string; alert: { deviceId: string } }).alert.deviceId === 'gw-2.pump-3'),
    );
    expect((raised.data as { change: string }).change).toBe('raised');
    // Give a duplicate every chance to arrive before counting.
    await pump.alarm('end');
    await waitFor('resolved on B', () => stream.events.find((e) => e.event === 'alert' && (e.data as { change: string }).change === 'resolved'));
    expect(stream.events.filter((e) => e.event === 'alert' && (e.data as { change: string }).change === 'raised')).toHaveLength(1);
    stream.stop();
    await client.endAsync();
  });

  it('is not ready while Redis is down, and ready again once it is back', async () => {
    const ready = async () => (await a.api.inject({ method: 'GET', url: '/readyz' })).statusCode;
    expect(await ready()).toBe(200);
    await redis.kill();
    const down = await waitFor('readyz 503', async () => {
      const res = await a.api.inject({ method: 'GET', url: '/readyz' });
      return res.statusCode === 503 ? (res.json() as { checks: Record<string, string> }) : undefined;
    });
    expect(down.checks.redis).toMatch(/Redis unreachable/);
    await redis.start();
    await waitFor('readyz 200 again', async () => (await ready()) === 200, 20_000);
  }, 40_000);
  it('runs the calibration-overdue job on one replica at a time, and hands it over when that one stops', async () => {
    const held = async (c: Collector) => (await c.metrics.leaseHeld.get()).values.find((v) => v.labels.lease === 'calibration-overdue')?.value ?? 0;
    await waitFor('one holder', async () => (await held(a)) + (await held(b)) === 1);
    const [holder, other] = (await held(a)) === 1 ? [a, b] : [b, a];
    await holder.stop();
    stopped.add(holder);
    await waitFor('the other replica takes over', async () => (await held(other)) === 1, 20_000);
  }, 40_000);
});
