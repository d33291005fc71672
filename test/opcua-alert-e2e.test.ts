import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@medtel/collector';
import { type Proc, freePort, getJson, startCli, tempDir, waitFor } from './helpers.js';

/**
 * Helium boil-off end to end, every part a real process: `medtel-sim mri
 * --scenario helium-leak` (OPC UA server) -> agent (subscription, profile
 * medtel-mt-mr-15) -> collector, where a rate-of-change rule on the helium
 * level raises an alert while the level itself is still normal: a leak is
 * a rate problem long before it is a level problem.
 */
const dir = tempDir('medtel-opcua-alert-');
const procs: Proc[] = [];
let http = 0;
let token = '';
type Alert = { id: number; key: string; source: string; state: string; priority: string; text: string; value: number | null; raisedAt: string };
type Reading = { t: string; value: number };
const api = <T>(path: string) => getJson<T>(`http://127.0.0.1:${http}${path}`, token);

beforeAll(async () => {
  const ports = { mqtt: await freePort(), http: await freePort(), opcua: await freePort() };
  http = ports.http;
  const secret = 'opcua-alert-secret-0123456789';
  writeFileSync(join(dir.path, 'gateway.secret'), `${secret}\n`);
  writeFileSync(
    join(dir.path, 'collector.yaml'),
    [
      `mqtt: { port: ${ports.mqtt}, plain: { enabled: true } }`,
      `http: { port: ${ports.http} }`,
      'store: { path: ./collector.db }',
      'alerts: { holdOff: 2s, evaluateEvery: 200ms }',
      'gateways:',
      '  - id: gw-mr',
      `    secretHash: "${await hashSecret(secret)}"`,
    ].join('\n'),
  );
  writeFileSync(
    join(dir.path, 'agent.yaml'),
    [
      'gateway: { id: gw-mr, site: radiology }',
      `collector: { url: "mqtt://127.0.0.1:${ports.mqtt}", secretFile: gateway.secret, reconnectMin: 200ms, reconnectMax: 1s }`,
      'stateDir: ./agent-state',
      'http: { enabled: false }',
      'devices:',
      '  - id: mri-1',
      '    profile: medtel-mt-mr-15',
      `    connection: { protocol: opcua, endpoint: "opc.tcp://127.0.0.1:${ports.opcua}/medtel" }`,
    ].join('\n'),
  );
  const collector = startCli('collector', ['run', '--config', join(dir.path, 'collector.yaml')], dir.path);
  procs.push(collector);
  await collector.waitForLine(/collector started/);
  const issued = startCli('collector', ['token', 'issue', '--config', join(dir.path, 'collector.yaml'), '--sub', 'biomed', '--role', 'technician']);
  expect(await issued.exited()).toBe(0);
  token = issued.output().trim();

  // Set up once per model by a clinical engineer: a level falling faster than 60 %/h over 20 s.
  const rule = await fetch(`http://127.0.0.1:${http}/api/v1/alert-rules`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'Helium boil-off',
      scope: { model: 'MT-MR-15' },
      metric: 'helium_level',
      condition: { kind: 'rate', direction: 'falling', limit: 60, per: 'h', windowSeconds: 20 },
      priority: 'high',
      text: 'Helium level falling faster than 60 %/h',
    }),
  });
  expect(rule.status).toBe(201);

  // The leak starts at once and takes 0.1 % of the reservoir per second (360 %/h).
  const sim = startCli(
    'simulators',
    [
      'mri',
      '--opcua-port',
      String(ports.opcua),
      '--pki',
      join(dir.path, 'sim-pki'),
      '--scenario',
      'helium-leak',
      '--scenario-after',
      '0s',
      '--leak-rate',
      '360',
    ],
    dir.path,
  );
  procs.push(sim);
  await sim.waitForLine(/mri simulator listening/, 30_000);
  const agent = startCli('agent', ['run', '--config', join(dir.path, 'agent.yaml')], dir.path);
  procs.push(agent);
  await agent.waitForLine(/agent started/);
}, 90_000);

afterAll(async () => {
  for (const p of [...procs].reverse()) await p.stop();
  dir.remove();
});

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
