import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@medtel/collector';
import { type Proc, freePort, getJson, startCli, tempDir, waitFor } from './helpers.js';

/**
 * Diagnostics on the serial devices, as separate processes: the API asks, the
 * collector sends the command over MQTT, the agent runs the profile's test
 * through the device's own protocol against the simulators, and the result
 * comes back through the outbox.
 *   X-ray generators on Modbus RTU: a healthy line (terminal-server TCP) and a
 *   line whose generator fails its self-check (socat pty);
 *   ventilators on MEDIBUS: a healthy one (pty) and one with a technical alarm (TCP);
 *   an ECG monitor, listen-only: no tests, and the API says so.
 */
const dir = tempDir('medtel-serial-diag-e2e-');
const procs: Proc[] = [];
let http = 0;
let token = '';

type Diagnostic = { requestId: string; state: string; ok: boolean | null; result: Record<string, unknown> | null; error: string | null };
const api = <T>(path: string) => getJson<T>(`http://127.0.0.1:${http}${path}`, token);

async function run(device: string, test: string): Promise<{ status: number; location: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${http}/api/v1/devices/${device}/diagnostics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ test }),
  });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Record<string, unknown> };
}

const finished = (location: string, timeoutMs = 30_000) =>
  waitFor(
    `${location} to finish`,
    async () => {
      const { body } = await api<Diagnostic>(location);
      return body.state !== 'pending' ? body : undefined;
    },
    timeoutMs,
    200,
  );

beforeAll(async () => {
  const ports = { mqtt: await freePort(), http: await freePort(), xrayOk: await freePort(), ventO2: await freePort(), ecg: await freePort() };
  http = ports.http;
  const secret = 'serial-diag-e2e-secret-0123456789';
  writeFileSync(join(dir.path, 'gateway.secret'), `${secret}\n`);
  writeFileSync(
    join(dir.path, 'collector.yaml'),
    `mqtt: { port: ${ports.mqtt}, plain: { enabled: true } }\nhttp: { port: ${ports.http} }\nstore: { path: ./collector/collector.db }\ngateways:\n  - id: gw-sd\n    secretHash: "${await hashSecret(secret)}"\n`,
  );
  const xrayBad = join(dir.path, 'ttyRS485');
  const ventOk = join(dir.path, 'ttyVENT');
  writeFileSync(
    join(dir.path, 'agent.yaml'),
    [
      'gateway: { id: gw-sd, site: radiology-1 }',
      `collector: { url: "mqtt://127.0.0.1:${ports.mqtt}", secretFile: gateway.secret, reconnectMin: 200ms, reconnectMax: 1s }`,
      'stateDir: ./agent-state',
      'http: { enabled: false }',
      'devices:',
      '  - id: xray-ok',
      '    profile: medtel-mt-xr-80',
      `    connection: { protocol: modbus-rtu, path: "tcp://127.0.0.1:${ports.xrayOk}", unitId: 1 }`,
      '    pollInterval: 500ms',
      '    timeout: 300ms',
      '  - id: xray-ok-2',
      '    profile: medtel-mt-xr-80',
      `    connection: { protocol: modbus-rtu, path: "tcp://127.0.0.1:${ports.xrayOk}", unitId: 2 }`,
      '    pollInterval: 500ms',
      '    timeout: 300ms',
      '  - id: xray-bad',
      '    profile: medtel-mt-xr-80',
      `    connection: { protocol: modbus-rtu, path: ${xrayBad}, unitId: 1 }`,
      '    pollInterval: 500ms',
      '    timeout: 300ms',
      '  - id: vent-ok',
      '    profile: medtel-mt-vent-500',
      `    connection: { protocol: medibus, path: ${ventOk} }`,
      '    pollInterval: 500ms',
      '    timeout: 500ms',
      '  - id: vent-o2',
      '    profile: medtel-mt-vent-500',
      `    connection: { protocol: medibus, path: "tcp://127.0.0.1:${ports.ventO2}" }`,
      '    pollInterval: 500ms',
      '    timeout: 500ms',
      '  - id: ecg-1',
      '    profile: medtel-mt-ecg-12',
      `    connection: { protocol: medtel-ecg, path: "tcp://127.0.0.1:${ports.ecg}" }`,
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
    'biomed-ben',
    '--role',
    'technician',
    '--ttl',
    '1h',
  ]);
  expect(await issued.exited()).toBe(0);
  token = issued.output().trim();
  const sims = [
    startCli('simulators', ['xray', '--tcp', `127.0.0.1:${ports.xrayOk}`, '--units', '1,2']),
    startCli('simulators', ['xray', '--pty', xrayBad, '--units', '1', '--serial-prefix', 'XR-BAD-', '--scenario', 'selftest-fail']),
    startCli('simulators', ['ventilator', '--pty', ventOk, '--serial', 'VT-DIAG-1']),
    startCli('simulators', ['ventilator', '--tcp', `127.0.0.1:${ports.ventO2}`, '--serial', 'VT-DIAG-2', '--scenario', 'o2-sensor', '--scenario-after', '0s']),
    startCli('simulators', ['ecg', '--tcp', `127.0.0.1:${ports.ecg}`, '--serial', 'ECG-DIAG-1', '--leads', '3', '--rate', '250']),
  ];
  procs.push(...sims);
  for (const s of sims) await s.waitForLine(/simulator listening/);
  const agent = startCli('agent', ['run', '--config', join(dir.path, 'agent.yaml')], dir.path);
  procs.push(agent);
  await agent.waitForLine(/agent started/);
  for (const [id, test] of [
    ['gw-sd.xray-ok', 'self_test'],
    ['gw-sd.xray-bad', 'self_test'],
    ['gw-sd.vent-ok', 'device_check'],
    ['gw-sd.vent-o2', 'device_check'],
  ] as const) {
    await waitFor(
      `${id} connected with its test`,
      async () => {
        const { body } = await api<{ status: string; diagnostics?: Array<{ name: string }> }>(`/api/v1/devices/${id}`);
        return body.status === 'connected' && body.diagnostics?.some((d) => d.name === test);
      },
      30_000,
    );
  }
});

afterAll(async () => {
  for (const p of [...procs].reverse()) await p.stop();
  dir.remove();
});

describe('end to end: diagnostics on serial devices', () => {
  it('X-ray generator on an RTU line: the self-check passes', async () => {
    const res = await run('gw-sd.xray-ok', 'self_test');
    expect(res.status).toBe(202);
    expect(res.location).toBe(`/api/v1/diagnostics/${res.body.requestId}`);
    const done = await finished(res.location as string);
    expect(done).toMatchObject({ state: 'completed', ok: true, error: null, result: { test: 'self_test', outcome: 'pass', code: 0, text: 'passed' } });
  });

  it('X-ray generator whose self-check fails (over a pty): ok false with the reason from the profile', async () => {
    const res = await run('gw-sd.xray-bad', 'self_test');
    expect(res.status).toBe(202);
    const done = await finished(res.location as string);
    expect(done).toMatchObject({
      state: 'completed',
      ok: false,
      error: 'self_test failed: kV regulation out of tolerance (code 2)',
      result: { outcome: 'fail', code: 2 },
    });
  });

  it('ventilator: device_check passes with its identification and an empty alarm list', async () => {
    const res = await run('gw-sd.vent-ok', 'device_check');
    expect(res.status).toBe(202);
    const done = await finished(res.location as string);
    expect(done).toMatchObject({
      state: 'completed',
      ok: true,
      error: null,
      result: { test: 'device_check', outcome: 'pass', device: { name: 'MT-VENT-500', serial: 'VT-DIAG-1' }, alarms: [] },
    });
  });

  it('ventilator with a failed O2 sensor: device_check fails naming the technical alarm', async () => {
    const res = await run('gw-sd.vent-o2', 'device_check');
    const done = await finished(res.location as string);
    expect(done).toMatchObject({
      state: 'completed',
      ok: false,
      error: 'device_check failed: technical alarm 31 "O2 SENSOR" (priority 2) active on the device',
    });
  });

  it('ECG monitor (listen-only stream): no tests in the registry, and a clear 400 for any test', async () => {
    await waitFor('ECG connected', async () => (await api<{ status: string }>('/api/v1/devices/gw-sd.ecg-1')).body.status === 'connected', 30_000);
    const { body } = await api<{ diagnostics?: unknown[] }>('/api/v1/devices/gw-sd.ecg-1');
    expect(body.diagnostics ?? []).toEqual([]);
    const res = await run('gw-sd.ecg-1', 'lead_check');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'Bad Request',
      message: 'test: device gw-sd.ecg-1 offers no test "lead_check"; its gateway announced no tests for it',
      parameter: 'test',
    });
  });
});
