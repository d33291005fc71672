import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnosticFinished, requestDiagnostic } from './diagnostics-client.js';
import { freePort, tempDir, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

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
let stack: Stack;

const api = <T>(path: string) => stack.api<T>(path);
const run = (device: string, test: string) => requestDiagnostic(stack, device, test);
const finished = (location: string) => diagnosticFinished(stack, location, 30_000);

beforeAll(async () => {
  const ports = { xrayOk: await freePort(), ventO2: await freePort(), ecg: await freePort() };
  const xrayBad = join(dir.path, 'ttyRS485');
  const ventOk = join(dir.path, 'ttyVENT');
  const xray = (id: string, path: string, unitId: number) => ({
    id,
    profile: 'medtel-mt-xr-80',
    connection: { protocol: 'modbus-rtu', path, unitId },
    pollInterval: '500ms',
    timeout: '300ms',
  });
  const ventilator = (id: string, path: string) => ({
    id,
    profile: 'medtel-mt-vent-500',
    connection: { protocol: 'medibus', path },
    pollInterval: '500ms',
    timeout: '500ms',
  });
  stack = await startStack({
    dir,
    gateway: 'gw-sd',
    site: 'radiology-1',
    token: { sub: 'biomed-ben', role: 'technician' },
    agent: { http: { enabled: false } },
    devices: [
      xray('xray-ok', `tcp://127.0.0.1:${ports.xrayOk}`, 1),
      xray('xray-ok-2', `tcp://127.0.0.1:${ports.xrayOk}`, 2),
      xray('xray-bad', xrayBad, 1),
      ventilator('vent-ok', ventOk),
      ventilator('vent-o2', `tcp://127.0.0.1:${ports.ventO2}`),
      { id: 'ecg-1', profile: 'medtel-mt-ecg-12', connection: { protocol: 'medtel-ecg', path: `tcp://127.0.0.1:${ports.ecg}` } },
    ],
    simulators: [
      ['xray', '--tcp', `127.0.0.1:${ports.xrayOk}`, '--units', '1,2'],
      ['xray', '--pty', xrayBad, '--units', '1', '--serial-prefix', 'XR-BAD-', '--scenario', 'selftest-fail'],
      ['ventilator', '--pty', ventOk, '--serial', 'VT-DIAG-1'],
      ['ventilator', '--tcp', `127.0.0.1:${ports.ventO2}`, '--serial', 'VT-DIAG-2', '--scenario', 'o2-sensor', '--scenario-after', '0s'],
      ['ecg', '--tcp', `127.0.0.1:${ports.ecg}`, '--serial', 'ECG-DIAG-1', '--leads', '3', '--rate', '250'],
    ],
  });
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

afterAll(() => stack?.stop());

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
