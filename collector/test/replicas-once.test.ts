import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, waitFor } from '../../test/helpers.js';
import type { TestRedis } from '../../test/redis-server.js';
import type { CollectorConfig } from '../dist/index.js';
import { FakePumpGateway, pressureRule } from './alerts-helpers.js';
import { type Collector, startReplicaPair, stopReplicaPair } from './replica-pair.js';
import { SECRETS, connectGateway, startTestCollector } from './collector-fixture.js';

/**
 * What must happen once across replicas (docs/replicas.md), two replicas in
 * this process sharing a real redis-server and one store (SQLite file, or
 * PostgreSQL with MEDTEL_TEST_STORE=postgres): a rule created through one
 * replica's API is evaluated by the other without a restart; two people
 * resolving the same alert on two replicas at once: one wins, the other gets
 * 409; a gateway that moves is not left offline on the replica it left; a SIGKILLed lease holder's job moves to another replica within the
 * lease's TTL.
 */
let redis: TestRedis;
let a: Collector;
let b: Collector;
const stopped = new Set<Collector>();

const LEASE_TTL_MS = 2000;
const GRACE_MS = 1000;
const fast = (url: string) => (c: CollectorConfig) => {
  c.redis = { url, brokerHeartbeat: '1s', leaseTtl: `${LEASE_TTL_MS}ms` };
  c.alerts.holdOff = '0s';
  c.alerts.evaluateEvery = '100ms';
  c.alerts.calibrationCheckEvery = '200ms';
  c.alerts.connectivityGrace = `${GRACE_MS}ms`;
};

const call = async (c: Collector, method: string, url: string, token: string, payload?: unknown, headers: Record<string, string> = {}) => {
  const res = await c.api.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> & { items?: Array<Record<string, unknown>> } };
};

describe('replicas: work that must happen once', () => {
  beforeAll(async () => {
    ({ redis, a, b } = await startReplicaPair(fast));
  }, 60_000);

  afterAll(() => stopReplicaPair({ redis, a, b }, stopped));

  it('evaluates a rule created through replica A on replica B at once, without a restart', async () => {
    const technician = await a.token('technician');
    const created = await call(a, 'POST', '/api/v1/alert-rules', technician, { ...pressureRule, reason: 'rule made on A' });
    expect(created.status).toBe(201);
    // The gateway is on B, which never saw the API request.
    const client = await connectGateway(b.mqttPort, 'gw-1', SECRETS['gw-1']);
    const pump = new FakePumpGateway(client, 'gw-1', 'pump-7', 1);
    await pump.birth();
    await waitFor('B picked up the rule', async () => {
      await pump.pressure(450);
      const open = await call(b, 'GET', '/api/v1/alerts?state=open&source=rule&device=gw-1.pump-7', technician);
      return (open.body.total as number) === 1 ? true : undefined;
    });
    // Disabled on B this time: A resolves nothing of B's by mistake, the alert is resolved once, B stops raising it.
    const rule = await call(b, 'GET', `/api/v1/alert-rules/${created.body.id}`, technician);
    const disabled = await call(
      b,
      'PUT',
      `/api/v1/alert-rules/${created.body.id}`,
      technician,
      { ...pressureRule, enabled: false, reason: 'rule off, from B' },
      { 'if-match': `"${rule.body.version}"` },
    );
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    await waitFor('rule alert resolved', async () => {
      const open = await call(a, 'GET', '/api/v1/alerts?state=open&source=rule&device=gw-1.pump-7', technician);
      return open.body.total === 0 ? true : undefined;
    });
    await pump.pressure(460);
    await b.alerts.idle();
    const all = await call(a, 'GET', '/api/v1/alerts?source=rule&device=gw-1.pump-7', technician);
    expect(all.body.total).toBe(1);
    await client.endAsync();
  });

  it('lets exactly one of two concurrent resolves of the same alert on two replicas win; the other gets 409', async () => {
    const client = await connectGateway(a.mqttPort, 'gw-2', SECRETS['gw-2']);
    const pump = new FakePumpGateway(client, 'gw-2', 'pump-8', 1);
    await pump.birth();
    await pump.alarm('start');
    const nurse = await a.token('technician');
    const alert = await waitFor('the alarm alert', async () => {
      const open = await call(b, 'GET', '/api/v1/alerts?state=open&source=device-alarm&device=gw-2.pump-8', nurse);
      return open.body.items?.[0];
    });
    const ifMatch = { 'if-match': `"${alert.version}"` };
    for (const action of ['ack', 'resolve'] as const) {
      const current = await call(a, 'GET', `/api/v1/alerts/${alert.id}`, nurse);
      const headers = { 'if-match': `"${current.body.version}"` };
      const results = await Promise.all(
        [a, b].map((r, i) => call(r, 'POST', `/api/v1/alerts/${alert.id}/${action}`, nurse, { reason: `${action} on replica ${i}` }, headers)),
      );
      expect(results.map((r) => r.status).sort(), JSON.stringify(results.map((r) => r.body))).toEqual([200, 409]);
    }
    // An old version is refused on either replica.
    expect((await call(b, 'POST', `/api/v1/alerts/${alert.id}/resolve`, nurse, { reason: 'late' }, ifMatch)).status).toBe(409);
    // One audit entry per action that won, none for those refused.
    const audit = await call(a, 'GET', `/api/v1/audit?objectType=alert&objectId=${alert.id}`, await a.token('admin'));
    expect(audit.status).toBe(200);
    expect(audit.body.items?.map((e) => e.action).sort()).toEqual(['alert:ack', 'alert:resolve']);
    await client.endAsync();
  });

  it('raises a gateway-offline alert once, not on the replica a gateway left, and clears it where the gateway comes back', async () => {
    const admin = await a.token('admin');
    const offlineAlerts = async (state?: 'open') => {
      const res = await call(a, 'GET', `/api/v1/alerts?source=connectivity${state ? '&state=open' : ''}`, admin);
      return (res.body.items ?? []).filter((x) => x.gateway === 'gw-2' && x.sourceRef === 'gateway');
    };
    const will = {
      topic: 'medtel/v1/bench/gw-2/state',
      payload: Buffer.from(JSON.stringify({ v: 1, sentAt: Date.now(), state: 'offline' })),
      qos: 1 as const,
      retain: true,
    };
    const connect = (port: number) => connectGateway(port, 'gw-2', SECRETS['gw-2'], { clientId: 'gw-2-agent', clean: false, will });
    // Dropped uncleanly on A (A publishes its will), back at once through B: A must not page anyone.
    const first = await connect(a.mqttPort);
    first.stream.destroy();
    const second = await connect(b.mqttPort);
    await waitFor('A saw the will', async () => (await a.store.listGateways()).find((g) => g.id === 'gw-2')?.state === 'offline' || undefined);
    await new Promise((r) => setTimeout(r, GRACE_MS * 3)); // the grace passes on A: what it does then is the point
    await a.alerts.idle();
    expect(await offlineAlerts()).toHaveLength(0);
    // Gone for good from B: raised once; back on A: cleared, not left open.
    second.stream.destroy();
    await waitFor('offline alert raised', async () => ((await offlineAlerts('open')).length === 1 ? true : undefined), 15_000);
    const third = await connect(a.mqttPort);
    await waitFor('offline alert resolved', async () => ((await offlineAlerts('open')).length === 0 ? true : undefined), 15_000);
    expect(await offlineAlerts()).toHaveLength(1);
    await third.endAsync();
  }, 60_000);

  it('moves a scheduled job to another replica within the lease TTL when its holder is SIGKILLed', async () => {
    const held = async (c: Collector) => (await c.metrics.leaseHeld.get()).values.find((v) => v.labels.lease === 'calibration-overdue')?.value ?? 0;
    // A real process that holds the lease, so that SIGKILL leaves it no chance to hand over.
    await a.stop();
    await b.stop();
    stopped.add(a);
    const config = join(a.dir, 'holder.yaml');
    writeFileSync(
      config,
      [
        `store: { path: ${join(a.dir, 'holder.db')} }`,
        `redis: { url: "${redis.url}", leaseTtl: ${LEASE_TTL_MS}ms }`,
        'mqtt: { host: 127.0.0.1, port: 0, plain: { enabled: true } }',
        'http: { host: 127.0.0.1, port: 0 }',
        `auth: { keyFile: ${join(a.dir, 'holder.key')} }`,
        '',
      ].join('\n'),
    );
    const holder = startCli('collector', ['run', '--config', config], a.dir);
    try {
      await holder.waitForLine(/lease acquired/, 60_000);
      b = await startTestCollector({ configure: fast(redis.url), dir: a.dir });
      expect(await held(b)).toBe(0);
      holder.child.kill('SIGKILL');
      await holder.exited();
      const killedAt = Date.now();
      await waitFor('the other replica takes the lease', async () => (await held(b)) === 1, LEASE_TTL_MS * 5, 50);
      // Within the TTL plus one attempt interval (TTL/3) plus scheduling slack on a busy machine.
      expect(Date.now() - killedAt).toBeLessThan(LEASE_TTL_MS + LEASE_TTL_MS / 3 + 1500);
    } finally {
      await holder.stop('SIGKILL');
    }
  }, 90_000);
});
