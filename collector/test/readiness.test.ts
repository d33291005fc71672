import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers.js';
import { SECRETS, connectGateway, dataPayload, startTestCollector } from './collector-fixture.js';

/**
 * /readyz is what a load balancer or Kubernetes uses to send gateways elsewhere: it must fail while
 * the store cannot take data (commits failing) and while the MQTT listener does not listen, and
 * recover by itself when the store does.
 */
let collector: Awaited<ReturnType<typeof startTestCollector>>;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector.close();
});

const readyz = async () => {
  const res = await collector.api.inject({ method: 'GET', url: '/readyz' });
  return { status: res.statusCode, body: res.json() as { status: string; checks: Record<string, string> } };
};

describe('collector /readyz', () => {
  it('is not ready while store commits fail, and ready again once one succeeds', async () => {
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', checks: { store: 'ok', broker: 'ok', ingest: 'ok' } } });
    // Another process holding the write lock (a stuck backup, an operator's sqlite3 shell) past the busy timeout.
    const other = new Database(`${collector.dir}/collector.db`);
    other.exec('BEGIN IMMEDIATE');
    let client: MqttClient | undefined;
    try {
      client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
      client.publish('medtel/v1/bench/gw-1/dev/pump-a/data', dataPayload(1, 'pump-a', [1]), { qos: 1 });
      const failing = await waitFor('readyz to fail', async () => ((await readyz()).status === 503 ? readyz() : undefined), 20_000, 200);
      expect(failing.body.status).toBe('not ready');
      expect(failing.body.checks.ingest).toMatch(/^store commits failing: database is locked/);
      expect(collector.log()).toContain('store commit failed; gateways will re-send');
    } finally {
      other.exec('ROLLBACK');
      other.close();
      client?.end(true);
    }
    // The gateway re-sends what was not acknowledged; the commit succeeds and readiness follows.
    const again = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    again.publish('medtel/v1/bench/gw-1/dev/pump-a/data', dataPayload(1, 'pump-a', [1]), { qos: 1 });
    await waitFor('readyz to recover', async () => (await readyz()).status === 200 || undefined, 20_000, 200);
    again.end(true);
  }, 40_000);

  it('is not ready when the MQTT listener has stopped listening', async () => {
    await new Promise<void>((resolve) => collector.broker.server.close(() => resolve()));
    const res = await readyz();
    expect(res.status).toBe(503);
    expect(res.body.checks.broker).toBe('MQTT listener is not listening');
    expect(res.body.checks.store).toBe('ok');
  });
});
