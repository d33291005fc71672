import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers.js';
import { SECRETS, connectGateway, startTestCollector } from './collector-fixture.js';
import { FakePumpGateway, pressureRule } from './alerts-helpers.js';

/**
 * The alert lifecycle through the HTTP API, driven by a gateway publishing
 * real MQTT messages: rules, device alarms, connectivity, external sync,
 * acknowledge/resolve with audit, 409 and missing-reason 400.
 */
type Alert = {
  id: number;
  key: string;
  source: string;
  state: string;
  count: number;
  version: number;
  value: number | null;
  clearedAt: string | null;
  deviceId: string | null;
  acknowledged: { by: string; role: string; note: string } | null;
  resolved: { by: string; role: string; note: string } | null;
};

let collector: Awaited<ReturnType<typeof startTestCollector>>;
let gw: FakePumpGateway;
const tokens: Record<string, string> = {};

async function call(method: string, url: string, role: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await collector.api.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${tokens[role]}`, ...headers },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
}

const alerts = async (query = '') => (await call('GET', `/api/v1/alerts${query}`, 'viewer')).body.items as Alert[];
const openAlert = (key: string) => waitFor(`open alert ${key}`, async () => (await alerts('?state=open')).find((a) => a.key === key));

beforeAll(async () => {
  collector = await startTestCollector({
    configure: (c) => {
      c.alerts.holdOff = '1500ms';
      c.alerts.connectivityGrace = '1s';
      c.alerts.evaluateEvery = '100ms';
    },
  });
  for (const role of ['viewer', 'technician', 'admin']) tokens[role] = await collector.token(role as 'viewer');
  gw = new FakePumpGateway(await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']));
  await gw.birth();
});
afterAll(async () => {
  await gw.client.endAsync();
  await collector.close();
});

describe('alert rules', () => {
  let ruleId: number;

  it('a technician creates a rule (201, audited); a viewer may read but not create', async () => {
    const created = await call('POST', '/api/v1/alert-rules', 'technician', { ...pressureRule, reason: 'occlusion watch' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(Number), version: 1, enabled: true, scope: { type: 'infusion-pump' } });
    ruleId = created.body.id;
    expect((await call('POST', '/api/v1/alert-rules', 'viewer', pressureRule)).status).toBe(403);
    expect((await call('GET', `/api/v1/alert-rules/${ruleId}`, 'viewer')).headers.etag).toBe('"1"');
    const audit = (await call('GET', '/api/v1/audit', 'admin')).body.items as Array<{ action: string; actor: string; reason: string; newValue: unknown }>;
    expect(audit.find((e) => e.action === 'alert-rule:create')).toMatchObject({ actor: 'test-technician', reason: 'occlusion watch' });
  });

  it.each([
    [{ ...pressureRule, sustainSeconds: 5 }, 'sustainSeconds'],
    [{ ...pressureRule, priority: 'urgent' }, 'priority'],
    [{ ...pressureRule, text: undefined }, 'text'],
  ])('refuses a bad rule with 400 naming the field (%#)', async (body, field) => {
    const res = await call('POST', '/api/v1/alert-rules', 'technician', body);
    expect(res.status).toBe(400);
    expect(res.body.parameter).toContain(field);
  });

  it('replacing needs If-Match; a stale version is 409', async () => {
    const next = { ...pressureRule, condition: { kind: 'above', limit: 250 } };
    expect((await call('PUT', `/api/v1/alert-rules/${ruleId}`, 'technician', next)).status).toBe(428);
    const ok = await call('PUT', `/api/v1/alert-rules/${ruleId}`, 'technician', next, { 'if-match': '"1"' });
    expect(ok.status).toBe(200);
    expect(ok.body.version).toBe(2);
    expect((await call('PUT', `/api/v1/alert-rules/${ruleId}`, 'technician', next, { 'if-match': '"1"' })).status).toBe(409);
    expect((await call('PUT', '/api/v1/alert-rules/999', 'technician', next, { 'if-match': '"1"' })).status).toBe(404);
    // back to 300 for the lifecycle tests
    expect((await call('PUT', `/api/v1/alert-rules/${ruleId}`, 'technician', pressureRule, { 'if-match': '"2"' })).status).toBe(200);
  });
});

describe('lifecycle of a rule alert', () => {
  let alert: Alert;

  it('raises one alert when pressure passes the limit; repeats do not duplicate it', async () => {
    await gw.pressure(60, 62);
    await gw.pressure(320, 340);
    await gw.pressure(360);
    alert = await openAlert('rule:1:gw-1.pump-1');
    expect(alert).toMatchObject({ source: 'rule', state: 'active', count: 1, value: 320, deviceId: 'gw-1.pump-1' });
    expect((await alerts('?state=open')).filter((a) => a.key === alert.key)).toHaveLength(1);
  });

  it('acknowledging needs a reason (400 naming it), If-Match (428), a current version (409) and role technician (403)', async () => {
    const url = `/api/v1/alerts/${alert.id}/ack`;
    const noReason = await call('POST', url, 'technician', {}, { 'if-match': `"${alert.version}"` });
    expect(noReason.status).toBe(400);
    expect(noReason.body.parameter).toBe('reason');
    const noBody = await call('POST', url, 'technician', undefined, { 'if-match': `"${alert.version}"` });
    expect(noBody.status).toBe(400);
    expect(noBody.body.parameter).toBe('reason');
    expect((await call('POST', url, 'technician', { reason: 'x' })).status).toBe(428);
    expect((await call('POST', url, 'technician', { reason: 'x' }, { 'if-match': `"${alert.version + 5}"` })).status).toBe(409);
    expect((await call('POST', url, 'viewer', { reason: 'x' }, { 'if-match': `"${alert.version}"` })).status).toBe(403);
    expect((await call('POST', '/api/v1/alerts/9999/ack', 'technician', { reason: 'x' }, { 'if-match': '"1"' })).status).toBe(404);
  });

  it('acknowledges with who, when and the note, audited with old and new state', async () => {
    const res = await call('POST', `/api/v1/alerts/${alert.id}/ack`, 'technician', { reason: 'checking the line' }, { 'if-match': `"${alert.version}"` });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'acknowledged', acknowledged: { by: 'test-technician', role: 'technician', note: 'checking the line' } });
    expect(res.headers.etag).toBe(`"${res.body.version}"`);
    const audit = (await call('GET', '/api/v1/audit', 'admin')).body.items as Array<Record<string, unknown>>;
    expect(audit.find((e) => e.action === 'alert:ack')).toMatchObject({
      actor: 'test-technician',
      role: 'technician',
      objectType: 'alert',
      objectId: String(alert.id),
      oldValue: { state: 'active' },
      newValue: { state: 'acknowledged' },
      reason: 'checking the line',
    });
    // acknowledging twice is refused
    expect((await call('POST', `/api/v1/alerts/${alert.id}/ack`, 'technician', { reason: 'again' }, { 'if-match': `"${res.body.version}"` })).status).toBe(409);
  });

  it('flap: clearing and re-raising within the hold-off continues the same alert (count 2)', async () => {
    await gw.pressure(100);
    await waitFor('clearing', async () => (await openAlert(alert.key)).clearedAt !== null);
    await gw.pressure(330);
    const again = await waitFor('count 2', async () => {
      const a = await openAlert(alert.key);
      return a.count === 2 && a.clearedAt === null ? a : undefined;
    });
    expect(again).toMatchObject({ id: alert.id, state: 'acknowledged' });
  });

  it('the system resolves it once values stay normal for the hold-off', async () => {
    await gw.pressure(60);
    const resolved = await waitFor('resolved by the system', async () => {
      const a = (await call('GET', `/api/v1/alerts/${alert.id}`, 'viewer')).body as Alert;
      return a.state === 'resolved' ? a : undefined;
    });
    expect(resolved.resolved).toMatchObject({ by: 'system', role: 'system' });
    expect(resolved.acknowledged).toMatchObject({ by: 'test-technician' }); // history kept
  });

  it('a new excursion after resolution is a new alert, which a person resolves with a reason', async () => {
    await gw.pressure(400);
    const fresh = await waitFor('a new alert', async () => (await alerts('?state=active')).find((a) => a.key === alert.key && a.id !== alert.id));
    const res = await call('POST', `/api/v1/alerts/${fresh.id}/resolve`, 'technician', { reason: 'line replaced' }, { 'if-match': `"${fresh.version}"` });
    expect(res.body).toMatchObject({ state: 'resolved', resolved: { by: 'test-technician', note: 'line replaced' } });
    expect((await call('POST', `/api/v1/alerts/${fresh.id}/resolve`, 'technician', { reason: 'again' }, { 'if-match': `"${res.body.version}"` })).status).toBe(
      409,
    );
    await gw.pressure(60);
  });
});

describe('other sources', () => {
  it("a device's own alarm: start raises, end resolves after the hold-off", async () => {
    await gw.alarm('start');
    const a = await openAlert('alarm:gw-1.pump-1:occlusion');
    expect(a).toMatchObject({ source: 'device-alarm', state: 'active' });
    await gw.alarm('end');
    await waitFor('alarm alert resolved', async () => ((await call('GET', `/api/v1/alerts/${a.id}`, 'viewer')).body as Alert).state === 'resolved');
  });

  it('connectivity: unreachable longer than the grace raises; connected resolves', async () => {
    await gw.status('unreachable');
    const a = await openAlert('conn:device:gw-1.pump-1');
    expect(a.source).toBe('connectivity');
    await gw.status('connected');
    await waitFor('connectivity resolved', async () => ((await call('GET', `/api/v1/alerts/${a.id}`, 'viewer')).body as Alert).state === 'resolved');
  });

  it('syncExternal raises what is new and resolves what is no longer listed', async () => {
    const overdue = { deviceId: 'gw-1.pump-1', key: 'calibration', priority: 'medium' as const, text: 'Calibration overdue' };
    expect(await collector.alerts.syncExternal('htm', [overdue])).toEqual({ raised: 1, resolved: 0 });
    expect(await collector.alerts.syncExternal('htm', [overdue])).toEqual({ raised: 0, resolved: 0 });
    const open = (await alerts('?source=external&state=open')).filter((a) => a.key === 'ext:htm:gw-1.pump-1:calibration');
    expect(open).toHaveLength(1);
    expect(open[0]?.count).toBe(1);
    expect(await collector.alerts.syncExternal('htm', [])).toEqual({ raised: 0, resolved: 1 });
    expect((await alerts('?source=external&state=resolved'))[0]).toMatchObject({ resolved: { by: 'system', note: 'no longer reported by htm' } });
  });

  it('no data for N seconds raises, and the next reading resolves it', async () => {
    const rule = await call('POST', '/api/v1/alert-rules', 'technician', {
      name: 'pump silent',
      scope: { device: 'gw-1.pump-1' },
      metric: 'line_pressure',
      condition: { kind: 'no-data', seconds: 1 },
      priority: 'medium',
      text: 'No line pressure for 1 s',
      holdOffSeconds: 0,
    });
    expect(rule.status).toBe(201);
    const a = await openAlert(`rule:${rule.body.id}:gw-1.pump-1`);
    await gw.pressure(60);
    await waitFor('no-data resolved', async () => ((await call('GET', `/api/v1/alerts/${a.id}`, 'viewer')).body as Alert).state === 'resolved');
    expect((await call('DELETE', `/api/v1/alert-rules/${rule.body.id}`, 'technician', undefined, { 'if-match': '"1"' })).status).toBe(204);
  });
});

describe('listing', () => {
  it('filters by state, device and priority, paginates, and 400s an unknown filter', async () => {
    const all = await call('GET', '/api/v1/alerts?limit=2', 'viewer');
    expect(all.body.total).toBeGreaterThanOrEqual(5);
    expect(all.body.items).toHaveLength(2);
    const next = await call('GET', '/api/v1/alerts?limit=2&offset=2', 'viewer');
    expect(next.body.items[0].id).not.toBe(all.body.items[0].id);
    expect((await alerts('?device=gw-1.pump-1&priority=high')).every((a) => a.deviceId === 'gw-1.pump-1')).toBe(true);
    expect((await call('GET', '/api/v1/alerts?state=sleeping', 'viewer')).body.parameter).toBe('state');
    expect((await call('GET', '/api/v1/alerts/12345', 'viewer')).status).toBe(404);
  });

  it('counts alerts in Prometheus metrics', async () => {
    const text = (await collector.api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/medtel_alerts_raised_total\{source="rule",component="collector"\} \d+/);
    expect(text).toMatch(/medtel_alerts_resolved_total\{source="external",by="system",component="collector"\} 1/);
    expect(text).toContain('medtel_alerts_open');
  });
});
