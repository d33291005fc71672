import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@medtel/collector';
import { type Proc, freePort, getJson, startCli, tempDir, waitFor } from './helpers.js';

/**
 * Serial devices end to end, as separate processes: ventilator on a socat pty pair,
 * ECG monitor and two X-ray generators (one line) on terminal-server TCP ports
 * --> agent --> MQTT --> collector --> API.
 */
const dir = tempDir('medtel-serial-e2e-');
const procs: Proc[] = [];
let ports: { mqtt: number; http: number; ecg: number; xray: number; agentHttp: number };
let token = '';
const api = (path: string) => getJson<Record<string, unknown>>(`http://127.0.0.1:${ports.http}${path}`, token);
type Reading = { t: string; metric: string; value: unknown; code: number | null; unit: string | null };

beforeAll(async () => {
  ports = { mqtt: await freePort(), http: await freePort(), ecg: await freePort(), xray: await freePort(), agentHttp: await freePort() };
  const secret = 'serial-e2e-secret-0123456789';
  writeFileSync(join(dir.path, 'gateway.secret'), `${secret}\n`);
  writeFileSync(
    join(dir.path, 'collector.yaml'),
    `mqtt: { port: ${ports.mqtt}, plain: { enabled: true } }\nhttp: { port: ${ports.http} }\nstore: { path: ./collector/collector.db }\ngateways:\n  - id: gw-s\n    secretHash: "${await hashSecret(secret)}"\n`,
  );
  const vent = join(dir.path, 'ttyVENT');
  writeFileSync(
    join(dir.path, 'agent.yaml'),
    [
      'gateway: { id: gw-s, site: icu-1 }',
      `collector: { url: "mqtt://127.0.0.1:${ports.mqtt}", secretFile: gateway.secret, reconnectMin: 200ms, reconnectMax: 1s }`,
      'stateDir: ./agent-state',
      `http: { port: ${ports.agentHttp} }`,
      'devices:',
      '  - id: vent-1',
      '    profile: medtel-mt-vent-500',
      `    connection: { protocol: medibus, path: ${vent} }`,
      '    pollInterval: 500ms',
      '    timeout: 500ms',
      '  - id: ecg-1',
      '    profile: medtel-mt-ecg-12',
      `    connection: { protocol: medtel-ecg, path: "tcp://127.0.0.1:${ports.ecg}" }`,
      '  - id: xray-1',
      '    profile: medtel-mt-xr-80',
      `    connection: { protocol: modbus-rtu, path: "tcp://127.0.0.1:${ports.xray}", unitId: 1 }`,
      '    pollInterval: 500ms',
      '    timeout: 300ms',
      '  - id: xray-2',
      '    profile: medtel-mt-xr-80',
      `    connection: { protocol: modbus-rtu, path: "tcp://127.0.0.1:${ports.xray}", unitId: 2 }`,
      '    pollInterval: 500ms',
      '    timeout: 300ms',
    ].join('\n'),
  );
  const collector = startCli('collector', ['run', '--config', join(dir.path, 'collector.yaml')], dir.path);
  procs.push(collector);
  await collector.waitForLine(/collector started/);
  const issued = startCli('collector', ['token', 'issue', '--config', join(dir.path, 'collector.yaml'), '--sub', 'e2e', '--role', 'viewer', '--ttl', '1h']);
  expect(await issued.exited()).toBe(0);
  token = issued.output().trim();
  const sims = [
    startCli('simulators', [
      'ventilator',
      '--pty',
      vent,
      '--serial',
      'VT-E2E-1',
      '--scenario',
      'high-pressure',
      '--scenario-after',
      '2s',
      '--scenario-for',
      '3s',
    ]),
    startCli('simulators', ['ecg', '--tcp', `127.0.0.1:${ports.ecg}`, '--serial', 'ECG-E2E-1', '--leads', '3', '--rate', '250']),
    startCli('simulators', ['xray', '--tcp', `127.0.0.1:${ports.xray}`, '--units', '1,2']),
  ];
  procs.push(...sims);
  for (const s of sims) await s.waitForLine(/simulator listening/);
  const agent = startCli('agent', ['run', '--config', join(dir.path, 'agent.yaml')], dir.path);
  procs.push(agent);
  await agent.waitForLine(/agent started/);
});

afterAll(async () => {
  for (const p of [...procs].reverse()) await p.stop();
  dir.remove();
});

describe('serial devices end to end', () => {
  it('ventilator: identity from the device id request, coded readings, a pressure alarm that starts and ends', async () => {
    const device = await waitFor('ventilator in the registry', async () => {
      const res = await api('/api/v1/devices/gw-s.vent-1');
      return res.status === 200 && res.body.serial ? res.body : undefined;
    });
    expect(device).toMatchObject({ type: 'ventilator', deviceCode: 70001, model: 'MT-VENT-500', serial: 'VT-E2E-1', firmware: '02.13.0', status: 'connected' });
    const rows = (await api('/api/v1/devices/gw-s.vent-1/telemetry?metric=tidal_volume_set&limit=1')).body.readings as Reading[];
    expect(rows[0]).toMatchObject({ value: 450, code: 16929196, unit: 'mL' });
    const peep = (await api('/api/v1/devices/gw-s.vent-1/telemetry?metric=peep&limit=1')).body.readings as Reading[];
    expect(peep[0]).toMatchObject({ code: 151976, unit: 'cm[H2O]' });
    const alarms = await waitFor(
      'pressure alarm start and end',
      async () => {
        const list = (await api('/api/v1/devices/gw-s.vent-1/alarms')).body.alarms as Array<{ alarm: string; phase: string; priority: string }>;
        return list?.some((a) => a.alarm === 'pressure_high' && a.phase === 'end') ? list : undefined;
      },
      30_000,
    );
    expect(alarms.filter((a) => a.alarm === 'pressure_high').map((a) => a.phase)).toEqual(['end', 'start']);
  });

  it('ECG: waveform samples with lead codes at 4 ms spacing, numerics with their codes', async () => {
    const samples = await waitFor('a second of lead II', async () => {
      const rows = (await api('/api/v1/devices/gw-s.ecg-1/telemetry?metric=ecg_ii&limit=1000')).body.readings as Reading[];
      return rows?.length >= 500 ? rows : undefined;
    });
    expect(samples[0]).toMatchObject({ code: 131330, unit: 'mV' });
    const times = samples.map((r) => Date.parse(r.t)).sort((a, b) => a - b);
    const steps = new Set(times.slice(1, 250).map((t, i) => t - (times[i] as number)));
    expect([...steps]).toEqual([4]);
    const hr = (await api('/api/v1/devices/gw-s.ecg-1/telemetry?metric=heart_rate&limit=1')).body.readings as Reading[];
    expect(hr[0]).toMatchObject({ code: 147842 });
    expect(hr[0]?.value).toBeGreaterThan(60);
    expect(((await api('/api/v1/devices/gw-s.ecg-1')).body as { serial: string }).serial).toBe('ECG-E2E-1');
  });

  it('X-ray: two generators on one RTU line, each with its own identity and readings', async () => {
    for (const unit of [1, 2]) {
      const device = await waitFor(`xray-${unit}`, async () => {
        const res = await api(`/api/v1/devices/gw-s.xray-${unit}`);
        return res.status === 200 && res.body.serial ? res.body : undefined;
      });
      expect(device).toMatchObject({ type: 'x-ray-generator', model: 'MT-XR-80', serial: `XR-000${unit}`, status: 'connected' });
      const heat = await waitFor(
        'heat reading',
        async () => ((await api(`/api/v1/devices/gw-s.xray-${unit}/telemetry?metric=anode_heat&limit=1`)).body.readings as Reading[])[0],
      );
      expect(heat).toMatchObject({ unit: '%' });
    }
  });
});
