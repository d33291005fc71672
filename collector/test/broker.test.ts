import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { SECRETS, connectGateway, dataPayload, publishAcked, startTestCollector } from './collector-fixture.js';
import { waitFor } from '../../test/helpers.js';

let collector: Awaited<ReturnType<typeof startTestCollector>>;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector.close();
});

const root = 'medtel/v1/bench/gw-1';
const closed = (client: MqttClient) => new Promise<void>((r) => (client.connected ? client.once('close', () => r()) : r()));

describe('broker: gateway authentication and topic ACL over real TCP', () => {
  it('refuses a wrong secret and an unknown gateway with CONNACK "bad user name or password"', async () => {
    await expect(connectGateway(collector.mqttPort, 'gw-1', 'wrong')).rejects.toMatchObject({ code: 4 });
    await expect(connectGateway(collector.mqttPort, 'gw-404', 'whatever')).rejects.toMatchObject({ code: 4 });
    expect(collector.log()).toMatch(/refused MQTT connection: wrong secret/);
    expect(collector.log()).not.toContain('"wrong"');
    expect(await collector.metrics.registry.getSingleMetricAsString('medtel_broker_auth_failures_total')).toMatch(/reason="wrong_secret"/);
  });

  it("closes the connection of a gateway that publishes under another gateway's root, and stores nothing", async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    const gone = closed(client);
    client.publish('medtel/v1/bench/gw-2/dev/pump-1/data', dataPayload(1), { qos: 1 });
    await gone;
    client.end(true);
    expect(await collector.store.getDevice('gw-2.pump-1')).toBeUndefined();
    expect(collector.log()).toMatch(/publish outside the gateway's own topics: connection closed/);
  });

  it("enforces a gateway's configured site", async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-2', SECRETS['gw-2']);
    const gone = closed(client);
    client.publish('medtel/v1/elsewhere/gw-2/dev/pump-1/data', dataPayload(1), { qos: 1 });
    await gone;
    client.end(true);
  });

  it('lets a gateway subscribe to its own cmd/# only', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    const granted = await client.subscribeAsync(`${root}/cmd/#`, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    const gone = closed(client);
    client.subscribe('medtel/v1/bench/gw-2/cmd/#', { qos: 1 });
    await gone;
    client.end(true);
    expect(collector.log()).toMatch(/subscription outside the gateway's own cmd\/#/);
  });
});

describe('ingest: validate, quarantine, dedupe, PUBACK after commit', () => {
  it('has the data committed by the time the PUBACK arrives', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    for (let seq = 100; seq < 120; seq++) {
      await publishAcked(client, `${root}/dev/pump-a/data`, dataPayload(seq, 'pump-a', [seq]));
      const rows = await collector.store.queryTelemetry('gw-1.pump-a', { limit: 1 });
      expect(rows[0]?.value).toBe(seq);
    }
    await client.endAsync();
  });

  it('quarantines garbage, acknowledges it, and keeps the same connection working', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    const before = (await collector.store.counts()).quarantined;
    const canary = 'CANARY-PATIENT-NAME';
    await publishAcked(client, `${root}/dev/pump-b/data`, `{"not json ${canary}`);
    await publishAcked(
      client,
      `${root}/dev/pump-b/data`,
      JSON.stringify({ v: 1, seq: 201, sentAt: 1, device: 'pump-b', clock: 'agent', readings: [], name: canary }),
    );
    await publishAcked(client, `${root}/dev/pump-b/data`, dataPayload(202, 'pump-OTHER'));
    await publishAcked(client, `${root}/dev/pump-b/status`, Buffer.from([0, 1, 2, 255]));
    expect(client.connected).toBe(true);
    await publishAcked(client, `${root}/dev/pump-b/data`, dataPayload(203, 'pump-b', [7]));
    expect((await collector.store.queryTelemetry('gw-1.pump-b', { limit: 10 })).map((r) => r.value)).toEqual([7]);
    expect((await collector.store.counts()).quarantined).toBe(before + 4);
    expect(collector.log()).toMatch(/does not match topic device/);
    expect(collector.log()).not.toContain(canary);
    expect(await collector.metrics.registry.getSingleMetricAsString('medtel_ingest_quarantined_total')).toMatch(/kind="data"[^}]*} 3/);
    await client.endAsync();
  });

  it('drops re-delivered messages: same (gateway, seq) stored once', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    for (let i = 0; i < 3; i++) await publishAcked(client, `${root}/dev/pump-c/data`, dataPayload(300, 'pump-c', [1, 2, 3]));
    expect(await collector.store.queryTelemetry('gw-1.pump-c', { limit: 10 })).toHaveLength(3);
    await client.endAsync();
  });

  it('keeps PUBACKs in PUBLISH order and loses nothing with many messages in flight', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-2', SECRETS['gw-2']);
    const order: number[] = [];
    const sends = Array.from({ length: 500 }, (_, i) => {
      const seq = 1_000 + i;
      return new Promise<void>((resolve, reject) =>
        client.publish('medtel/v1/bench/gw-2/dev/pump-d/data', dataPayload(seq, 'pump-d', [seq]), { qos: 1 }, (err) => {
          if (err) return reject(err);
          order.push(seq);
          resolve();
        }),
      );
    });
    await Promise.all(sends);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(await collector.store.queryTelemetry('gw-2.pump-d', { limit: 1000 })).toHaveLength(500);
    await client.endAsync();
  });

  it('records a gateway offline from its will when the connection drops without DISCONNECT', async () => {
    const will = {
      topic: 'medtel/v1/bench/gw-1/state',
      payload: Buffer.from(JSON.stringify({ v: 1, sentAt: Date.now(), state: 'offline' })),
      qos: 1 as const,
      retain: true,
    };
    const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1'], { will });
    // As the agent does: the will is composed at connect, so "online" is sent after it.
    await publishAcked(client, 'medtel/v1/bench/gw-1/state', JSON.stringify({ v: 1, sentAt: Date.now() + 1000, state: 'online', agentVersion: '9.9.9' }));
    expect((await collector.store.listGateways()).find((g) => g.id === 'gw-1')?.state).toBe('online');
    client.stream.destroy();
    await waitFor('gateway offline', async () => (await collector.store.listGateways()).find((g) => g.id === 'gw-1')?.state === 'offline');
    client.end(true);
  });
});
