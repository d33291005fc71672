import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineOcclusionRule } from '../../scripts/example-alert-rules.mjs';
import { freePort, waitFor } from '../../test/helpers.js';
import { type Stack, startStack } from '../../test/stack.js';

/**
 * Alerts end to end, every part a real process: the pump simulator's
 * occlusion scenario -> agent (Modbus TCP, profile medtel-mt-lvp-100) ->
 * collector. A pressure-above rule and the pump's own occlusion alarm both
 * raise an alert while the line is blocked, and both resolve once it clears.
 */
let stack: Stack;
type Alert = { id: number; key: string; source: string; state: string; raisedAt: string; value: number | null; resolved: { by: string } | null };
type Reading = { t: string; value: number };

const api = <T>(path: string) => stack.api<T>(path);

beforeAll(async () => {
  const modbus = await freePort();
  stack = await startStack({
    gateway: 'gw-e2e',
    site: 'icu',
    collector: { alerts: { holdOff: '2s', evaluateEvery: '200ms' } },
    token: { sub: 'biomed', role: 'technician' },
    devices: [{ id: 'pump-1', profile: 'medtel-mt-lvp-100', connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: modbus }, pollInterval: '250ms' }],
    // The rule exists before the pump does: a clinical engineer sets it up once per model.
    beforeDevices: async (s) => {
      const rule = await s.send('POST', '/api/v1/alert-rules', lineOcclusionRule({ sustainedSeconds: 1 }));
      expect(rule.status).toBe(201);
    },
    // The line blocks 3 s after start (pressure passes 250 ~5 s later, the pump alarms at 300) and clears at 15 s.
    simulators: [['pump', '--modbus-tcp', `127.0.0.1:${modbus}`, '--scenario', 'occlusion', '--occlusion-after', '3s', '--occlusion-duration', '12s']],
  });
});

afterAll(() => stack?.stop());

describe('end to end: an occluded pump line', () => {
  it('raises a rule alert within its window and a device-alarm alert, and resolves both when the line clears', async () => {
    const raised = await waitFor(
      'both alerts open',
      async () => {
        const items = (await api<{ items: Alert[] }>('/api/v1/alerts?state=open')).body.items;
        const rule = items.find((a) => a.key === 'rule:1:gw-e2e.pump-1');
        const alarm = items.find((a) => a.key === 'alarm:gw-e2e.pump-1:occlusion');
        return rule && alarm ? { rule, alarm } : undefined;
      },
      30_000,
    );
    expect(raised.rule).toMatchObject({ source: 'rule', state: 'active' });
    expect(raised.rule.value).toBeGreaterThan(250);
    expect(raised.alarm).toMatchObject({ source: 'device-alarm', state: 'active' });

    // Within the rule's window: not before the 1 s it must be sustained, and within seconds of it.
    const pressure = (await api<{ readings: Reading[] }>('/api/v1/devices/gw-e2e.pump-1/telemetry?metric=line_pressure&limit=10000')).body.readings;
    const firstAbove = Math.min(...pressure.filter((r) => r.value > 250).map((r) => Date.parse(r.t)));
    const delay = Date.parse(raised.rule.raisedAt) - firstAbove;
    expect(delay).toBeGreaterThanOrEqual(1000);
    expect(delay).toBeLessThan(5000); // generous: the machine may be busy; what matters is seconds, not the next poll cycle

    const resolved = await waitFor(
      'both resolved by the system',
      async () => {
        const items = (await api<{ items: Alert[] }>('/api/v1/alerts?state=resolved')).body.items;
        return items.length >= 2 ? items : undefined;
      },
      40_000,
    );
    expect(resolved.map((a) => a.key).sort()).toEqual(['alarm:gw-e2e.pump-1:occlusion', 'rule:1:gw-e2e.pump-1']);
    expect(resolved.every((a) => a.resolved?.by === 'system')).toBe(true);
    expect((await api<{ items: Alert[] }>('/api/v1/alerts?state=open')).body.items).toEqual([]);
  });
});
