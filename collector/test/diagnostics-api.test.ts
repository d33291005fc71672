import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../dist/store/sqlite/sqlite-store.js';
import { SECRETS, connectGateway, publishAcked, startTestCollector } from './collector-fixture.js';
import { tempDir, waitFor } from '../../test/helpers.js';

/**
 * Diagnostics through the API with a fake gateway over real MQTT: it
 * announces its tests in a birth, receives the command on its cmd/#, and
 * answers on res/{requestId} the way the agent does.
 */
let collector: Awaited<ReturnType<typeof startTestCollector>>;
let gateway: MqttClient;
let technician: string;
let viewer: string;
let seq = 0;
/** How the fake gateway answers each command: a result body, or nothing (to test timeouts). */
let answer: (cmd: Record<string, unknown>) => Record<string, unknown> | undefined = () => undefined;
const received: Array<Record<string, unknown>> = [];

const birth = (device: string) =>
  JSON.stringify({
    v: 1,
    seq: ++seq,
    sentAt: Date.now(),
    device,
    type: 'infusion-pump',
    manufacturer: 'medtel simulated',
    model: 'MT-LVP-100',
    protocol: 'modbus-tcp',
    profile: 'medtel-mt-lvp-100',
    metrics: [],
    diagnostics: [
      { name: 'self_test', description: 'Built-in self-test', changesState: false },
      { name: 'alarm_acknowledge', description: 'Acknowledge latched alarms', changesState: true },
    ],
  });

const post = (id: string, body: unknown, token: string | null = technician) =>
  collector.api.inject({
    method: 'POST',
    url: `/api/v1/devices/${id}/diagnostics`,
    payload: body as object,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
const get = (url: string, token = viewer) => collector.api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
const poll = (location: string, until: (body: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
  waitFor(
    `diagnostic at ${location}`,
    async () => {
      const body = (await get(location)).json();
      return until(body) ? body : undefined;
    },
    timeoutMs,
  );

beforeAll(async () => {
  collector = await startTestCollector();
  technician = await collector.token('technician');
  viewer = await collector.token('viewer');
  gateway = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
  await gateway.subscribeAsync('medtel/v1/bench/gw-1/cmd/#', { qos: 1 });
  gateway.on('message', (topic, payload) => {
    const cmd = JSON.parse(payload.toString()) as Record<string, unknown>;
    received.push({ topic, ...cmd });
    const body = answer(cmd);
    // Not awaited: at the end of the run the client may close first, which is fine.
    if (body)
      publishAcked(
        gateway,
        `medtel/v1/bench/gw-1/res/${cmd.requestId}`,
        JSON.stringify({ v: 1, seq: ++seq, sentAt: Date.now(), requestId: cmd.requestId, ...body }),
      ).catch(() => undefined);
  });
  await publishAcked(gateway, 'medtel/v1/bench/gw-1/dev/pump-1/birth', birth('pump-1'));
  // A device of a gateway that is not connected.
  const other = await connectGateway(collector.mqttPort, 'gw-2', SECRETS['gw-2']);
  await publishAcked(other, 'medtel/v1/bench/gw-2/dev/pump-7/birth', birth('pump-7'));
  await other.endAsync();
  await waitFor('gw-2 gone', () => !collector.broker.isGatewayConnected('gw-2'));
});
afterAll(async () => {
  await gateway?.endAsync();
  await collector.close();
});

describe('diagnostics API', () => {
  it('lists the tests a device offers on GET /devices/{id}', async () => {
    expect((await get('/api/v1/devices/gw-1.pump-1')).json().diagnostics).toEqual([
      { name: 'self_test', description: 'Built-in self-test', changesState: false },
      { name: 'alarm_acknowledge', description: 'Acknowledge latched alarms', changesState: true },
    ]);
  });

  it('answers 202 with a Location to poll, sends the command to the owning gateway, and completes with its result', async () => {
    answer = () => ({ ok: true, result: { test: 'self_test', outcome: 'pass', code: 0, text: 'passed' } });
    const res = await post('gw-1.pump-1', { test: 'self_test' });
    expect(res.statusCode).toBe(202);
    const created = res.json();
    expect(res.headers.location).toBe(`/api/v1/diagnostics/${created.requestId}`);
    expect(created).toMatchObject({
      device: 'gw-1.pump-1',
      test: 'self_test',
      timeoutSeconds: 30,
      requestedBy: { sub: 'test-technician', role: 'technician' },
    });
    expect(['pending', 'completed']).toContain(created.state);
    const done = await poll(res.headers.location as string, (b) => b.state === 'completed');
    expect(done).toMatchObject({ ok: true, result: { outcome: 'pass', code: 0 }, error: null, lateResult: null });
    const cmd = received.find((c) => c.requestId === created.requestId);
    expect(cmd).toMatchObject({
      topic: `medtel/v1/bench/gw-1/cmd/${created.requestId}`,
      command: 'diagnostics',
      device: 'pump-1',
      args: { test: 'self_test', timeoutMs: 28_000 },
    });
    expect((cmd?.expiresAt as number) - (cmd?.issuedAt as number)).toBe(28_000);
    const history = (await get('/api/v1/devices/gw-1.pump-1/diagnostics')).json();
    expect(history.items[0]).toMatchObject({ requestId: created.requestId, state: 'completed' });
  });

  it('records a failed test as completed with ok:false and the error', async () => {
    answer = () => ({ ok: false, result: { outcome: 'fail', code: 1 }, error: 'self_test failed: pressure sensor out of range (code 1)' });
    const res = await post('gw-1.pump-1', { test: 'self_test' });
    const done = await poll(res.headers.location as string, (b) => b.state === 'completed');
    expect(done).toMatchObject({ ok: false, error: 'self_test failed: pressure sensor out of range (code 1)' });
  });

  it('says gateway-offline at once when the owning gateway is not connected, and sends nothing', async () => {
    const before = received.length;
    const res = await post('gw-2.pump-7', { test: 'self_test' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      state: 'gateway-offline',
      ok: null,
      error: expect.stringMatching(/gateway gw-2 is not connected; the test was not sent/),
    });
    expect(received.length).toBe(before);
  });

  it('times out without a result, and keeps a late result without leaving timed-out', async () => {
    let late: Record<string, unknown> | undefined;
    answer = (cmd) => {
      late = cmd;
      return undefined;
    };
    const res = await post('gw-1.pump-1', { test: 'self_test', timeoutSeconds: 1 });
    expect(res.json()).toMatchObject({ state: 'pending', timeoutSeconds: 1 });
    const timedOut = await poll(res.headers.location as string, (b) => b.state === 'timed-out');
    expect(timedOut).toMatchObject({ ok: null, error: 'no result from gateway gw-1 within 1 s', lateResult: null });
    await waitFor('the command', () => late);
    await publishAcked(
      gateway,
      `medtel/v1/bench/gw-1/res/${late?.requestId}`,
      JSON.stringify({ v: 1, seq: ++seq, sentAt: Date.now(), requestId: late?.requestId, ok: true, result: { outcome: 'pass' } }),
    );
    const after = await poll(res.headers.location as string, (b) => b.lateResult !== null);
    expect(after).toMatchObject({ state: 'timed-out', lateResult: { ok: true, result: { outcome: 'pass' } } });
  });

  it('refuses an unknown test (400 naming test), a state-changing test without a reason, and a timeout past the maximum', async () => {
    const unknown = await post('gw-1.pump-1', { test: 'warp_drive' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({
      parameter: 'test',
      message: expect.stringMatching(/offers no test "warp_drive"; it offers: self_test, alarm_acknowledge/),
    });
    const noReason = await post('gw-1.pump-1', { test: 'alarm_acknowledge' });
    expect([noReason.statusCode, noReason.json().parameter]).toEqual([400, 'reason']);
    const tooLong = await post('gw-1.pump-1', { test: 'self_test', timeoutSeconds: 3600 });
    expect([tooLong.statusCode, tooLong.json().parameter]).toEqual([400, 'timeoutSeconds']);
    const typo = await post('gw-1.pump-1', { tset: 'self_test' });
    expect(typo.statusCode).toBe(400);
  });

  it('audits every request with actor, device, test and reason', async () => {
    answer = () => ({ ok: true, result: { outcome: 'done' } });
    const res = await post('gw-1.pump-1', { test: 'alarm_acknowledge', reason: 'VTBI complete acknowledged after bag change' });
    expect(res.statusCode).toBe(202);
    const audit = (await get('/api/v1/audit?action=diagnostic:run', await collector.token('admin'))).json();
    expect(audit.items[0]).toMatchObject({
      actor: 'test-technician',
      role: 'technician',
      action: 'diagnostic:run',
      objectType: 'device',
      objectId: 'gw-1.pump-1',
      newValue: { requestId: res.json().requestId, test: 'alarm_acknowledge', state: 'pending' },
      reason: 'VTBI complete acknowledged after bag change',
    });
    expect((await collector.store.audit.verify()).ok).toBe(true);
  });

  it('answers 404 for an unknown device or request, 403 for a viewer, 401 without a token', async () => {
    expect((await post('gw-1.nope', { test: 'self_test' })).statusCode).toBe(404);
    expect((await get('/api/v1/diagnostics/no-such-request')).statusCode).toBe(404);
    expect((await get('/api/v1/devices/gw-1.nope/diagnostics')).statusCode).toBe(404);
    expect((await post('gw-1.pump-1', { test: 'self_test' }, viewer)).statusCode).toBe(403);
    expect((await post('gw-1.pump-1', { test: 'self_test' }, null)).statusCode).toBe(401);
  });
});

describe('diagnostics store across a restart', () => {
  it('times out requests whose deadline passed while the collector was down, and applies results stored meanwhile', async () => {
    const dir = tempDir();
    const file = `${dir.path}/c.db`;
    const actor = { sub: 'alice', role: 'technician' as const };
    let store = new SqliteStore(file);
    const old = Date.now() - 60_000;
    const base = { deviceId: 'gw-1.pump-1', gateway: 'gw-1', test: 'self_test', timeoutMs: 30_000, state: 'pending' as const };
    await store.diagnostics.create({ ...base, requestId: 'overdue', requestedAt: old }, actor);
    await store.diagnostics.create({ ...base, requestId: 'answered', requestedAt: old }, actor);
    await store.diagnostics.create({ ...base, requestId: 'fresh', requestedAt: Date.now() }, actor);
    // The result reached the store, but the collector stopped before the listener ran.
    await store.apply([
      {
        kind: 'res',
        site: 'bench',
        gateway: 'gw-1',
        receivedAt: old + 1000,
        message: { v: 1, seq: 1, sentAt: old, requestId: 'answered', ok: true, result: { outcome: 'pass' } },
      },
    ]);
    await store.close();
    store = new SqliteStore(file);
    await store.diagnostics.recover(Date.now());
    expect(await store.diagnostics.get('overdue')).toMatchObject({ state: 'timed-out', error: 'no result from gateway gw-1 within 30 s' });
    expect(await store.diagnostics.get('answered')).toMatchObject({ state: 'completed', ok: true, result: { outcome: 'pass' } });
    expect(await store.diagnostics.get('fresh')).toMatchObject({ state: 'pending' });
    await store.close();
    dir.remove();
  });
});
