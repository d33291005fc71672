import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { waitFor } from '../../test/helpers.js';
import { FakePumpGateway } from './alerts-helpers.js';
import { SECRETS, connectGateway, startTestCollector } from './collector-fixture.js';

/**
 * An overdue calibration raises an alert, a passing calibration resolves it:
 * the HTM records and the alert lifecycle joined, through the API.
 */

let collector: Awaited<ReturnType<typeof startTestCollector>>;
let client: MqttClient;
let technician: string;
const DEVICE = 'gw-1.pump-1';
const DAY = 86_400_000;

async function call(method: 'GET' | 'POST' | 'PATCH', url: string, body?: object, ifMatch?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${technician}` };
  if (ifMatch) headers['if-match'] = ifMatch;
  const res = await collector.api.inject({ method, url: `/api/v1${url}`, headers, ...(body ? { payload: body } : {}) });
  return { status: res.statusCode, body: res.json(), etag: res.headers.etag as string | undefined };
}

const calibrationAt = (performedAt: number) => ({
  performedAt: new Date(performedAt).toISOString(),
  procedure: 'IPM-INF-07 flow accuracy',
  performedBy: 'Biomed department',
  technician: 'Sam Tech',
  certificate: `CERT-${performedAt}`,
  asFound: [{ point: '100 mL/h', expected: 100, measured: 101, tolerance: 5, unit: 'mL/h' }],
  testEquipment: [{ id: 'FLOW-ANALYZER-3', calibrationDueAt: '2099-12-31' }],
  reason: 'scheduled calibration',
});

const calibrationAlerts = async () =>
  (await call('GET', `/alerts?device=${DEVICE}&state=open`)).body.items.filter((a: { sourceRef: string }) => a.sourceRef === 'calibration-overdue');

beforeAll(async () => {
  collector = await startTestCollector({
    configure: (config) => {
      config.alerts.calibrationCheckEvery = '100ms';
    },
  });
  technician = await collector.token('technician');
  client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
  await new FakePumpGateway(client).birth();
}, 30_000);
afterAll(async () => {
  await client?.endAsync();
  await collector?.close();
});

describe('calibration overdue alerts', () => {
  it('raises an alert for an overdue device (high for life support) and resolves it when a passing calibration is recorded', async () => {
    const device = await call('GET', `/devices/${DEVICE}`);
    const patched = await call(
      'PATCH',
      `/devices/${DEVICE}`,
      { calibrationIntervalMonths: 12, lifeSupport: true, highRisk: true, reason: 'inventory' },
      device.etag,
    );
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect((await call('POST', `/devices/${DEVICE}/calibrations`, calibrationAt(Date.now() - 400 * DAY))).status).toBe(201);

    const raised = await waitFor(
      'a calibration-overdue alert',
      async () => {
        const alerts = await calibrationAlerts();
        return alerts.length === 1 ? alerts[0] : undefined;
      },
      10_000,
    );
    expect(raised).toMatchObject({ state: 'active', priority: 'high', source: 'external' });
    expect(raised.text).toMatch(/^calibration overdue since \d{4}-\d{2}-\d{2}$/);

    // The work it causes links back to it.
    const order = await call('POST', '/work-orders', { deviceId: DEVICE, type: 'calibration', title: 'Overdue calibration', alertId: raised.id });
    expect([order.status, order.body.alertId]).toEqual([201, raised.id]);
    const elsewhere = await call('POST', '/work-orders', { deviceId: 'gw-1.other', type: 'corrective', title: 'x', alertId: raised.id });
    expect([elsewhere.status, elsewhere.body.parameter]).toEqual([400, 'alertId']);

    // Later checks keep one alert, not one per check, and leave its version alone (an If-Match stays good).
    await new Promise((r) => setTimeout(r, 400));
    const later = await calibrationAlerts();
    expect(later.map((a: { id: number; version: number }) => [a.id, a.version])).toEqual([[raised.id, raised.version]]);

    expect((await call('POST', `/devices/${DEVICE}/calibrations`, calibrationAt(Date.now() - 60_000))).status).toBe(201);
    await waitFor('the alert resolved', async () => ((await calibrationAlerts()).length === 0 ? true : undefined), 10_000);
    const resolved = (await call('GET', `/alerts/${raised.id}`)).body;
    expect(resolved.state).toBe('resolved');
  });
});
