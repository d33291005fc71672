import { connect as netConnect } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, connectGateway, dataPayload, publishAcked, startTestCollector } from './collector-fixture.js';

/** Broker limits (packet size, publish rate, connections per gateway) and HTTP hardening, over real sockets. */
let collector: Awaited<ReturnType<typeof startTestCollector>>;
beforeAll(async () => {
  collector = await startTestCollector({
    configure: (config) => {
      config.mqtt.limits.maxPacketSize = '1KiB';
      config.mqtt.limits.publishRate = 100;
      config.mqtt.limits.publishBurst = 20;
      config.mqtt.limits.maxThrottleDelay = '500ms';
      config.mqtt.limits.maxConnectionsPerGateway = 1;
      config.mqtt.limits.devicesPerGateway = 2;
    },
  });
});
afterAll(async () => {
  await collector?.close();
});

const root = 'medtel/v1/bench/gw-2';
const closed = (client: MqttClient) => new Promise<void>((r) => (client.connected ? client.once('close', () => r()) : r()));
const metric = (name: string) => collector.metrics.registry.getSingleMetricAsString(name);

describe('MQTT limits', () => {
  it('closes a connection whose packet is over maxPacketSize, before reading its body', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-2', SECRETS['gw-2']);
    const gone = closed(client);
    client.publish(`${root}/dev/pump-1/data`, Buffer.alloc(2048, 0x20), { qos: 1 });
    await gone;
    client.end(true);
    // An absurd length field (256 MiB) on a raw socket, before CONNECT: closed at once.
    const end = await new Promise<string>((resolve) => {
      const socket = netConnect(collector.mqttPort, '127.0.0.1', () => socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0x00])));
      socket.on('close', () => resolve('closed'));
      socket.on('error', () => undefined);
    });
    expect(end).toBe('closed');
    expect(await metric('medtel_broker_limit_rejections_total')).toMatch(/limit="packet_size"[^}]*} 2/);
    expect(collector.log()).toMatch(/MQTT packet over the size limit: connection closed/);
  });

  it('slows a gateway over its publish rate (PUBACKs delayed, all stored) and disconnects a flood', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-2', SECRETS['gw-2']);
    for (let seq = 1; seq <= 40; seq++) await publishAcked(client, `${root}/dev/pump-2/data`, dataPayload(seq, 'pump-2'));
    expect(await metric('medtel_broker_throttled_publishes_total')).toMatch(/ [1-9]\d*$/m);
    const gone = closed(client);
    for (let seq = 41; seq <= 400; seq++) client.publish(`${root}/dev/pump-2/data`, dataPayload(seq, 'pump-2'), { qos: 0 });
    await gone;
    client.end(true);
    expect(await metric('medtel_broker_limit_rejections_total')).toMatch(/limit="rate"[^}]*} 1/);
    expect(collector.log()).toMatch(/publish flood: connection closed/);
    const stored = await collector.store.queryTelemetry('gw-2.pump-2', { limit: 1000 });
    expect(stored.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses a second connection of the same gateway id over maxConnectionsPerGateway', async () => {
    const first = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    await expect(connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1'])).rejects.toMatchObject({ code: 5 });
    first.end(true);
    expect(await metric('medtel_broker_limit_rejections_total')).toMatch(/limit="connections_per_gateway"[^}]*} 1/);
  });
});

describe('devices per gateway', () => {
  it('quarantines messages of a device over devicesPerGateway, counts them, and keeps the known devices working', async () => {
    const client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    const gw1 = 'medtel/v1/bench/gw-1';
    await publishAcked(client, `${gw1}/dev/bed-1/data`, dataPayload(1, 'bed-1'));
    await publishAcked(client, `${gw1}/dev/bed-2/data`, dataPayload(2, 'bed-2'));
    // A third device: acknowledged (so the agent does not resend it for ever) but quarantined, not registered.
    await publishAcked(client, `${gw1}/dev/bed-3/data`, dataPayload(3, 'bed-3'));
    await publishAcked(client, `${gw1}/dev/bed-3/data`, dataPayload(4, 'bed-3'));
    await publishAcked(client, `${gw1}/dev/bed-1/data`, dataPayload(5, 'bed-1'));
    expect(client.connected).toBe(true);
    const devices = (await collector.store.listDevices({ gateway: 'gw-1', limit: 10, offset: 0 })).items.map((d) => d.device).sort();
    expect(devices).toEqual(['bed-1', 'bed-2']);
    expect((await collector.store.counts()).quarantined).toBeGreaterThanOrEqual(2);
    expect(await metric('medtel_broker_limit_rejections_total')).toMatch(/limit="devices_per_gateway"[^}]*} 2/);
    // Logged once, however often the refused device publishes (the log is JSON: quotes escaped).
    expect(collector.log().match(/device \\"bed-3\\" refused/g)).toHaveLength(1);
    client.end(true);
  });
});

describe('HTTP hardening', () => {
  it('sends security headers, no CORS headers, and no caching', async () => {
    const res = await fetch(`${collector.httpUrl}/api/v1/devices`, {
      headers: { authorization: `Bearer ${await collector.token('viewer')}`, origin: 'https://evil.example' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${collector.httpUrl}/api/v1/devices`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses oversized headers with 431', async () => {
    const res = await fetch(`${collector.httpUrl}/healthz`, { headers: { 'x-big': 'a'.repeat(20_000) } });
    expect(res.status).toBe(431);
  });
});
