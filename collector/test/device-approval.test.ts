import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, connectGateway, publishAcked, reading, startTestCollector } from './collector-fixture.js';
import { waitFor } from '../../test/helpers.js';

/**
 * Plug and play, collector side: fake gateways over real MQTT publish what
 * the agent publishes when it identifies a device by itself (a birth with
 * `discovery`, a retained `ports` report), and a technician decides through
 * the API.
 */
let collector: Awaited<ReturnType<typeof startTestCollector>>;
let gw1: MqttClient;
let gw2: MqttClient;
const tokens: Record<string, string> = {};
let seq = 0;
const commands: Array<{ topic: string; device: unknown }> = [];

const root = (gateway: string) => `medtel/v1/bench/${gateway}`;
const birth = (device: string, serial: string, discovered: boolean) =>
  JSON.stringify({
    v: 1,
    seq: ++seq,
    sentAt: Date.now(),
    device,
    type: 'ventilator',
    manufacturer: 'medtel simulated',
    model: 'MT-VENT-200',
    serial,
    protocol: 'serial',
    profile: 'medtel-mt-vent-200',
    metrics: [{ metric: 'rate', unit: 'mL/h' }],
    diagnostics: [{ name: 'self_test', description: 'Built-in self-test', changesState: false }],
    ...(discovered ? { discovery: { method: 'probe', port: 'usb-FTDI_FT232R-if00-port0', settings: '19200 8E1', identifiedAt: Date.now() } } : {}),
  });
const data = (device: string, value: number) =>
  JSON.stringify({ v: 1, seq: ++seq, sentAt: Date.now(), device, clock: 'agent', readings: [reading(Date.now(), value)] });

const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, role: string, body?: object, ifMatch?: number) => {
  const res = await collector.api.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[role]}`, ...(ifMatch !== undefined ? { 'if-match': `"${ifMatch}"` } : {}) },
    ...(body ? { payload: body } : {}),
  });
  return { status: res.statusCode, body: res.json() };
};

beforeAll(async () => {
  collector = await startTestCollector();
  for (const role of ['viewer', 'technician', 'admin'] as const) tokens[role] = await collector.token(role);
  gw1 = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
  gw2 = await connectGateway(collector.mqttPort, 'gw-2', SECRETS['gw-2']);
  for (const [client, gateway] of [
    [gw1, 'gw-1'],
    [gw2, 'gw-2'],
  ] as const)
    await publishAcked(client, `${root(gateway)}/state`, JSON.stringify({ v: 1, sentAt: Date.now(), state: 'online', agentVersion: '0.1.0' }));
  await gw2.subscribeAsync(`${root('gw-2')}/cmd/#`, { qos: 1 });
  gw2.on('message', (topic, payload) => commands.push({ topic, device: JSON.parse(payload.toString()).device }));
});
afterAll(async () => {
  await gw1?.endAsync();
  await gw2?.endAsync();
  await collector.close();
});

describe('discovered devices: approval', () => {
  const VENT = 'gw-1.vent-SN123';

  it('lists a discovered device as pending with how it was found, keeps its data flagged, and a technician approves it on the audit trail', async () => {
    await publishAcked(gw1, `${root('gw-1')}/dev/vent-SN123/birth`, birth('vent-SN123', 'SN123', true));
    await publishAcked(gw1, `${root('gw-1')}/dev/vent-SN123/data`, data('vent-SN123', 42));
    await publishAcked(gw1, `${root('gw-1')}/dev/vent-cfg/birth`, birth('vent-cfg', 'CFG1', false));

    const pending = await call('GET', '/devices?approval=pending', 'viewer');
    expect(pending.body.items).toHaveLength(1);
    expect(pending.body.items[0]).toMatchObject({
      id: VENT,
      model: 'MT-VENT-200',
      serial: 'SN123',
      approval: 'pending',
      discovery: { method: 'probe', port: 'usb-FTDI_FT232R-if00-port0', settings: '19200 8E1', identifiedAt: expect.any(String) },
    });
    // A device configured on its gateway is approved already.
    expect((await call('GET', '/devices/gw-1.vent-cfg', 'viewer')).body).toMatchObject({ approval: 'approved', discovery: null });
    const telemetry = await call('GET', `/devices/${VENT}/telemetry`, 'viewer');
    expect(telemetry.body).toMatchObject({ device: VENT, approval: 'pending', count: 1, readings: [{ value: 42 }] });

    const binding = { assetTag: 'BME-00123', location: 'ICU-3 bed 4', department: 'Intensive care', note: 'plugged in by biomed' };
    expect((await call('POST', `/devices/${VENT}/approve`, 'viewer', binding, 1)).status).toBe(403);
    expect((await call('POST', `/devices/${VENT}/approve`, 'technician', binding)).status).toBe(428);
    const missing = await call('POST', `/devices/${VENT}/approve`, 'technician', { assetTag: 'x', location: 'y' }, 1);
    expect([missing.status, missing.body.parameter]).toEqual([400, 'department']);
    const noReason = await call('POST', `/devices/${VENT}/reject`, 'technician', {}, 1);
    expect([noReason.status, noReason.body.parameter]).toEqual([400, 'reason']);
    expect((await call('POST', `/devices/${VENT}/approve`, 'technician', binding, 7)).status).toBe(409);

    const approved = await call('POST', `/devices/${VENT}/approve`, 'technician', binding, 1);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      approval: 'approved',
      assetTag: 'BME-00123',
      location: 'ICU-3 bed 4',
      department: 'Intensive care',
      approvalBy: 'test-technician',
      approvalNote: 'plugged in by biomed',
      version: 2,
    });
    const again = await call('POST', `/devices/${VENT}/approve`, 'technician', binding, 2);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/already approved/);
    expect((await call('GET', '/devices?approval=pending', 'viewer')).body.total).toBe(0);

    const audit = await call('GET', `/audit?objectId=${VENT}&action=device:approve`, 'admin');
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      actor: 'test-technician',
      role: 'technician',
      oldValue: { approval: 'pending', assetTag: null },
      newValue: { approval: 'approved', assetTag: 'BME-00123', location: 'ICU-3 bed 4', department: 'Intensive care' },
      reason: 'plugged in by biomed',
    });
  });

  it('a rejected device: its data is acknowledged and counted, not stored', async () => {
    const id = 'gw-1.vent-SN999';
    await publishAcked(gw1, `${root('gw-1')}/dev/vent-SN999/birth`, birth('vent-SN999', 'SN999', true));
    await publishAcked(gw1, `${root('gw-1')}/dev/vent-SN999/data`, data('vent-SN999', 1));
    const rejected = await call('POST', `/devices/${id}/reject`, 'technician', { reason: 'belongs to the neighbouring ward' }, 1);
    expect(rejected.body).toMatchObject({ approval: 'rejected', approvalNote: 'belongs to the neighbouring ward' });
    expect((await call('POST', `/devices/${id}/reject`, 'technician', { reason: 'again' }, 2)).status).toBe(409);
    await publishAcked(gw1, `${root('gw-1')}/dev/vent-SN999/data`, data('vent-SN999', 2));
    const telemetry = await call('GET', `/devices/${id}/telemetry`, 'viewer');
    expect(telemetry.body).toMatchObject({ approval: 'rejected', count: 1, readings: [{ value: 1 }] });
    const metrics = (await collector.api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/medtel_ingest_messages_total\{kind="data",outcome="rejected_device"[^}]*\} 1\n/);
    expect(metrics).toMatch(/medtel_devices_awaiting_approval(\{[^}]*\})? 0\n/);
    expect((await call('GET', `/audit?objectId=${id}&action=device:reject`, 'admin')).body.items[0]).toMatchObject({
      reason: 'belongs to the neighbouring ward',
    });
  });

  it('the same device born on another gateway keeps its registry entry, records and approval; diagnostics go to the new gateway', async () => {
    const pm = await call('POST', `/devices/${VENT}/pm-schedules`, 'technician', {
      task: 'IPM-VENT-01',
      frequency: 'semiannual',
      firstDueAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(pm.status).toBe(201);
    // Another device id on the new gateway proves the entry follows the serial, not the name.
    await publishAcked(gw2, `${root('gw-2')}/dev/vent-b/birth`, birth('vent-b', 'SN123', true));
    await publishAcked(gw2, `${root('gw-2')}/dev/vent-b/data`, data('vent-b', 77));

    const all = await call('GET', '/devices?limit=1000', 'viewer');
    expect(all.body.items.filter((d: { serial: string }) => d.serial === 'SN123')).toHaveLength(1);
    const moved = await call('GET', `/devices/${VENT}`, 'viewer');
    expect(moved.body).toMatchObject({ id: VENT, gateway: 'gw-2', device: 'vent-b', approval: 'approved', assetTag: 'BME-00123' });
    expect((await call('GET', `/pm-schedules/${pm.body.id}`, 'viewer')).body).toMatchObject({ deviceId: VENT });
    expect((await call('GET', `/devices/${VENT}/telemetry`, 'viewer')).body.readings[0]).toMatchObject({ value: 77 });
    expect((await call('GET', '/devices/gw-2.vent-b', 'viewer')).status).toBe(404);
    const move = await call('GET', `/audit?objectId=${VENT}&action=device:move`, 'admin');
    expect(move.body.items[0]).toMatchObject({
      actor: 'collector',
      role: 'system',
      oldValue: { gateway: 'gw-1', device: 'vent-SN123' },
      newValue: { gateway: 'gw-2', device: 'vent-b' },
    });

    const diag = await collector.api.inject({
      method: 'POST',
      url: `/api/v1/devices/${VENT}/diagnostics`,
      headers: { authorization: `Bearer ${tokens.technician}` },
      payload: { test: 'self_test' },
    });
    expect(diag.statusCode).toBe(202);
    const sent = await waitFor('command on gw-2', () => commands.find((c) => c.topic.includes(diag.json().requestId)));
    expect(sent).toMatchObject({ topic: `${root('gw-2')}/cmd/${diag.json().requestId}`, device: 'vent-b' });
  });
});

describe('alerts of a device awaiting approval', () => {
  it('are marked pending in the alert views', async () => {
    await publishAcked(gw1, `${root('gw-1')}/dev/pump-alarm/birth`, birth('pump-alarm', 'PA-1', true));
    const alarm = { t: Date.now(), alarm: 'occlusion', priority: 'high', phase: 'start', state: 'active', text: 'Line occlusion' };
    await publishAcked(gw1, `${root('gw-1')}/dev/pump-alarm/alarm`, JSON.stringify({ v: 1, seq: ++seq, sentAt: Date.now(), device: 'pump-alarm', ...alarm }));
    const alert = await waitFor('alert raised', async () => (await call('GET', '/alerts?device=gw-1.pump-alarm', 'viewer')).body.items[0]);
    expect(alert).toMatchObject({ deviceId: 'gw-1.pump-alarm', deviceApproval: 'pending', source: 'device-alarm' });
    expect((await call('GET', `/alerts/${alert.id}`, 'viewer')).body.deviceApproval).toBe('pending');
    const alarms = await call('GET', '/devices/gw-1.pump-alarm/alarms', 'viewer');
    expect(alarms.body).toMatchObject({ approval: 'pending', count: 1 });
    await call('POST', '/devices/gw-1.pump-alarm/reject', 'technician', { reason: 'test bench pump' }, 1);
  });
});

describe('ports', () => {
  it('stores the latest port report and serves it; counts pending devices and unidentified ports per gateway', async () => {
    const since = Date.now() - 5_000;
    const report = {
      v: 1,
      sentAt: Date.now(),
      ports: [
        { port: 'usb-FTDI_FT232R-if00-port0', state: 'identified', device: 'vent-SN123', since },
        {
          port: 'usb-Prolific-if00-port0',
          state: 'unidentified',
          tried: [
            { profile: 'medtel-ecg-stream', outcome: 'no-answer' },
            { profile: 'medtel-mt-vent-200', settings: '19200 8E1', outcome: 'no-answer' },
          ],
          since,
        },
      ],
    };
    await new Promise<void>((resolve, reject) =>
      gw1.publish(`${root('gw-1')}/ports`, JSON.stringify(report), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())),
    );
    await publishAcked(gw1, `${root('gw-1')}/dev/pump-new/birth`, birth('pump-new', 'P-1', true));

    const ports = await call('GET', '/gateways/gw-1/ports', 'viewer');
    expect(ports.status).toBe(200);
    expect(ports.body).toMatchObject({ gateway: 'gw-1', reportedAt: expect.any(String) });
    expect(ports.body.ports).toEqual([
      { port: 'usb-FTDI_FT232R-if00-port0', state: 'identified', device: VENT_ID, tried: [], since: new Date(since).toISOString() },
      {
        port: 'usb-Prolific-if00-port0',
        state: 'unidentified',
        device: null,
        tried: report.ports[1]?.tried,
        since: new Date(since).toISOString(),
      },
    ]);
    expect((await call('GET', '/gateways/gw-2/ports', 'viewer')).body).toMatchObject({ gateway: 'gw-2', reportedAt: null, ports: [] });
    // Provisioned but never connected: an empty list too.
    await collector.store.gatewayCredentials.add({ id: 'gw-3', auth: 'secret', secretHash: null }, { sub: 'test', role: 'admin' });
    expect((await call('GET', '/gateways/gw-3/ports', 'viewer')).body).toMatchObject({ gateway: 'gw-3', reportedAt: null, ports: [] });
    expect((await call('GET', '/gateways/gw-9/ports', 'viewer')).status).toBe(404);
    const gateways = (await call('GET', '/gateways', 'viewer')).body.items;
    expect(gateways.find((g: { id: string }) => g.id === 'gw-1')).toMatchObject({ pendingDevices: 1, unidentifiedPorts: 1 });
    const metrics = (await collector.api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/medtel_devices_awaiting_approval(\{[^}]*\})? 1\n/);
  });

  it('a garbage ports payload is quarantined and the connection kept', async () => {
    const before = (await collector.store.counts()).quarantined;
    await publishAcked(gw1, `${root('gw-1')}/ports`, '{"v":1,"ports":"not a list"}');
    expect((await collector.store.counts()).quarantined).toBe(before + 1);
    expect(gw1.connected).toBe(true);
    await publishAcked(gw1, `${root('gw-1')}/dev/vent-cfg/data`, data('vent-cfg', 5));
    // The earlier report still stands.
    expect((await call('GET', '/gateways/gw-1/ports', 'viewer')).body.ports).toHaveLength(2);
  });
});

/** The registry id of the first device (it stays gw-1.… after moving to gw-2). */
const VENT_ID = 'gw-1.vent-SN123';
