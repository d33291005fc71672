import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../dist/index.js';
import { type Proc, freePort, getJson, startCli, tempDir, waitFor } from '../../test/helpers.js';

/**
 * Alerts end to end, every part a real process: the pump simulator's
 * occlusion scenario -> agent (Modbus TCP, profile medtel-mt-lvp-100) ->
 * collector. A pressure-above rule and the pump's own occlusion alarm both
 * raise an alert while the line is blocked, and both resolve once it clears.
 */
const dir = tempDir('medtel-alerts-e2e-');
const procs: Proc[] = [];
let http = 0;
let technician = '';
type Alert = { id: number; key: string; source: string; state: string; raisedAt: string; value: number | null; resolved: { by: string } | null };
type Reading = { t: string; value: number };

const api = <T>(path: string) => getJson<T>(`http://127.0.0.1:${http}${path}`, technician);

beforeAll(async () => {
  const ports = { mqtt: await freePort(), http: await freePort(), modbus: await freePort(), agentHttp: await freePort() };
  http = ports.http;
  const secret = 'alerts-e2e-secret-0123456789';
  writeFileSync(join(dir.path, 'gateway.secret'), `${secret}\n`);
  writeFileSync(
    join(dir.path, 'collector.yaml'),
    [
      `mqtt: { port: ${ports.mqtt}, plain: { enabled: true } }`,
      `http: { port: ${ports.http} }`,
      'store: { path: ./collector.db }',
      'alerts: { holdOff: 2s, evaluateEvery: 200ms }',
      'gateways:',
      '  - id: gw-e2e',
      `    secretHash: "${await hashSecret(secret)}"`,
    ].join('\n'),
  );
  writeFileSync(
    join(dir.path, 'agent.yaml'),
    [
      'gateway: { id: gw-e2e, site: icu }',
      `collector: { url: "mqtt://127.0.0.1:${ports.mqtt}", secretFile: gateway.secret, reconnectMin: 200ms, reconnectMax: 1s }`,
      'stateDir: ./agent-state',
      `http: { port: ${ports.agentHttp} }`,
      'devices:',
      '  - id: pump-1',
      '    profile: medtel-mt-lvp-100',
      `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${ports.modbus} }`,
      '    pollInterval: 250ms',
    ].join('\n'),
  );
  const collector = startCli('collector', ['run', '--config', join(dir.path, 'collector.yaml')], dir.path);
  procs.push(collector);
  await collector.waitForLine(/collector started/);
  const issued = startCli('collector', [
    'token',
    'issue',
    '--config',
    join(dir.path, 'collector.yaml'),
    '--sub',
    'biomed',
    '--role',
    'technician',
    '--ttl',
    '1h',
  ]);
  expect(await issued.exited()).toBe(0);
  technician = issued.output().trim();

  // The rule exists before the pump does: a clinical engineer sets it up once per model.
  const rule = await fetch(`http://127.0.0.1:${http}/api/v1/alert-rules`, {
    method: 'POST',
    headers: { authorization: `Bearer ${technician}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'LVP line pressure',
      scope: { model: 'MT-LVP-100' },
      metric: 'MDC_PRESS_FLUID_MEAS',
      condition: { kind: 'above', limit: 250, sustainedSeconds: 1 },
      priority: 'high',
      text: 'Line pressure above 250 mmHg for 1 s',
    }),
  });
  expect(rule.status).toBe(201);

  // The line blocks 3 s after start (pressure passes 250 ~5 s later, the pump alarms at 300) and clears at 15 s.
  const sim = startCli('simulators', [
    'pump',
    '--modbus-tcp',
    `127.0.0.1:${ports.modbus}`,
    '--scenario',
    'occlusion',
    '--occlusion-after',
    '3s',
    '--occlusion-duration',
    '12s',
  ]);
  procs.push(sim);
  await sim.waitForLine(/pump simulator listening/);
  const agent = startCli('agent', ['run', '--config', join(dir.path, 'agent.yaml')], dir.path);
  procs.push(agent);
  await agent.waitForLine(/agent started/);
});

afterAll(async () => {
  for (const p of [...procs].reverse()) await p.stop();
  dir.remove();
});

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
