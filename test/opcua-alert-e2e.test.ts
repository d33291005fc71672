import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heliumBoilOffRule } from '../scripts/example-alert-rules.mjs';
import { freePort, tempDir, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * Helium boil-off end to end, every part a real process: `medtel-sim mri
 * --scenario helium-leak` (OPC UA server) -> agent (subscription, profile
 * medtel-mt-mr-15) -> collector, where a rate-of-change rule on the helium
 * level raises an alert while the level itself is still normal: a leak is
 * a rate problem long before it is a level problem.
 */
let stack: Stack;
type Alert = { id: number; key: string; source: string; state: string; priority: string; text: string; value: number | null; raisedAt: string };
type Reading = { t: string; value: number };
const api = <T>(path: string) => stack.api<T>(path);

beforeAll(async () => {
  const dir = tempDir('medtel-opcua-alert-');
  const opcuaPort = await freePort();
  stack = await startStack({
    dir,
    gateway: 'gw-mr',
    site: 'radiology',
    token: { sub: 'biomed', role: 'technician' },
    collector: { alerts: { holdOff: '2s', evaluateEvery: '200ms' } },
    agent: { http: { enabled: false } },
    devices: [{ id: 'mri-1', profile: 'medtel-mt-mr-15', connection: { protocol: 'opcua', endpoint: `opc.tcp://127.0.0.1:${opcuaPort}/medtel` } }],
    // Set up once per model by a clinical engineer: a level falling faster than 60 %/h over 20 s.
    beforeDevices: async (s) => {
      const rule = await s.send('POST', '/api/v1/alert-rules', heliumBoilOffRule({ limitPercentPerHour: 60, windowSeconds: 20 }));
      expect(rule.status).toBe(201);
    },
    // The leak starts at once and takes 0.1 % of the reservoir per second (360 %/h).
    simulators: [
      [
        'mri',
        '--opcua-port',
        String(opcuaPort),
        '--pki',
        join(dir.path, 'sim-pki'),
        '--scenario',
        'helium-leak',
        '--scenario-after',
        '0s',
        '--leak-rate',
        '360',
      ],
    ],
    simulatorStartMs: 30_000,
  });
}, 90_000);

afterAll(() => stack?.stop());

describe('end to end: MRI helium leak', () => {
  it('raises the rate-of-change alert while the helium level is still normal, and reports it', async () => {
    const alert = await waitFor(
      'the boil-off alert',
      async () => (await api<{ items: Alert[] }>('/api/v1/alerts?state=open')).body.items.find((a) => a.key === 'rule:1:gw-mr.mri-1'),
      60_000,
      250,
    );
    expect(alert).toMatchObject({ source: 'rule', state: 'active', priority: 'high', text: 'Helium level falling faster than 60 %/h' });
    // The slope the rule measured: about the leak's 360 %/h, falling.
    expect(alert.value).toBeLessThan(-200);
    expect(alert.value).toBeGreaterThan(-600);
    const readings = (await api<{ readings: Reading[] }>('/api/v1/devices/gw-mr.mri-1/telemetry?metric=helium_level&limit=10000')).body.readings;
    const atAlert = readings.filter((r) => Date.parse(r.t) <= Date.parse(alert.raisedAt));
    expect(atAlert.length).toBeGreaterThan(10);
    expect((atAlert[0] as Reading).value).toBeGreaterThan(70); // still a normal level when the alert fired
    const one = await api<Alert>(`/api/v1/alerts/${alert.id}`);
    expect(one.status).toBe(200);
    expect(one.body.key).toBe('rule:1:gw-mr.mri-1');
  });
});
