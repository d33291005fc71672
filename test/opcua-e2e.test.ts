import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImagingSimulator, type MriScanner, startMriSimulator } from '../simulators/dist/opcua/index.js';
import { diagnosticFinished, requestDiagnostic } from './diagnostics-client.js';
import { ROOT, freePort, tempDir, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * OPC UA end to end: the MRI simulator (a real node-opcua server, in this
 * process so the test can count its sessions and restart it) -> agent
 * (process, subscription) -> collector (process). Values arrive by
 * subscription; ten server restarts leave exactly one session from the agent
 * each time and the values resume; a self-test runs as a method call through
 * the collector API.
 */
const dir = tempDir('medtel-opcua-e2e-');
let stack: Stack;
let sim: ImagingSimulator<MriScanner>;
let quenched: ImagingSimulator<MriScanner>;
let maxSessions = 0;
let sessionProbe: NodeJS.Timeout | undefined;
const DEVICE = 'gw-ua.mri-1';

type Reading = { t: string; value: number | null; quality?: string };
const api = <T>(path: string) => stack.api<T>(path);
const helium = async () => (await api<{ readings: Reading[] }>(`/api/v1/devices/${DEVICE}/telemetry?metric=helium_level&limit=10000`)).body.readings;

beforeAll(async () => {
  const ports = { opcua: await freePort(), quench: await freePort() };
  // A fast leak (0.1 %/s) so the level changes past the profile's deadband at every sample.
  sim = await startMriSimulator({
    port: ports.opcua,
    pkiDir: join(dir.path, 'sim-pki'),
    serial: 'MR-E2E-0001',
    seed: 7,
    scenario: 'helium-leak',
    scenarioAfterS: 0,
    leakPercentPerHour: 360,
    calibrationMs: 300,
  });
  // A second MRI that quenches at once: its cold-head sensor reads BadSensorFailure.
  quenched = await startMriSimulator({
    port: ports.quench,
    pkiDir: join(dir.path, 'sim-pki-q'),
    serial: 'MR-E2E-0002',
    seed: 8,
    scenario: 'quench',
    scenarioAfterS: 0,
  });
  // A profile written for another firmware: one browse path the server does not have.
  writeFileSync(
    join(dir.path, 'wrong-path.yaml'),
    readFileSync(join(ROOT, 'agent/profiles/medtel-mt-mr-15.yaml'), 'utf8')
      .replace('profile: medtel-mt-mr-15', 'profile: wrong-path')
      .replace('Device/Room/OxygenLevel', 'Device/Room/O2Level'),
  );
  sessionProbe = setInterval(() => {
    maxSessions = Math.max(maxSessions, sim.sessionCount());
  }, 20);
  stack = await startStack({
    dir,
    gateway: 'gw-ua',
    site: 'radiology',
    token: { sub: 'biomed-ua', role: 'technician' },
    agent: { http: { enabled: false } },
    devices: [
      {
        id: 'mri-1',
        profile: 'medtel-mt-mr-15',
        connection: { protocol: 'opcua', endpoint: sim.endpoint, reconnectMax: '2s' },
        pollInterval: '250ms',
      },
      { id: 'mri-q', profile: 'medtel-mt-mr-15', connection: { protocol: 'opcua', endpoint: quenched.endpoint } },
      { id: 'mri-w', profile: './wrong-path.yaml', connection: { protocol: 'opcua', endpoint: quenched.endpoint, reconnectMax: '2s' } },
    ],
  });
}, 60_000);

afterAll(async () => {
  clearInterval(sessionProbe);
  // The agent goes before the servers it holds sessions on; stop() removes the directory.
  await stack?.stop();
  await sim?.close();
  await quenched?.close();
  dir.remove(); // again, in case the stack never started
});

describe('end to end: OPC UA MRI', () => {
  it('registers the MRI with the identity read from the server and receives subscribed values', async () => {
    const device = await waitFor(
      'the MRI connected in the registry',
      async () => {
        const { body } = await api<{ status: string; serial?: string; model?: string; diagnostics?: Array<{ name: string }> }>(`/api/v1/devices/${DEVICE}`);
        return body.status === 'connected' && body.serial ? body : undefined;
      },
      30_000,
    );
    expect(device).toMatchObject({ serial: 'MR-E2E-0001', model: 'MT-MR-15' });
    expect(device.diagnostics?.map((d) => d.name)).toEqual(['self_test', 'shim_calibration']);
    const readings = await waitFor('helium readings', async () => {
      const r = await helium();
      return r.length >= 5 ? r : undefined;
    });
    // Newest first. The leak: the level keeps falling (subscription data, not repeats of one poll).
    const values = readings.map((r) => r.value as number);
    expect(values.at(-1)).toBeLessThan(78.5);
    expect(values[0]).toBeLessThan(values.at(-1) as number);
    expect(sim.sessionCount()).toBe(1);
  });

  it('survives 10 server restarts: one session from the agent every time, values resume', async () => {
    for (let i = 1; i <= 10; i++) {
      await sim.restart();
      const restartedAt = Date.now();
      await waitFor(`session ${i} after restart`, () => sim.sessionCount() === 1, 30_000, 50);
      await waitFor(`helium readings after restart ${i}`, async () => (await helium()).some((r) => Date.parse(r.t) > restartedAt), 20_000, 200);
    }
    // Long enough for a second (piled-up) session to show, had the agent opened one.
    await new Promise((r) => setTimeout(r, 2000));
    expect(sim.sessionCount()).toBe(1);
    expect(maxSessions).toBe(1);
  }, 240_000);

  it('runs the self-test as an OPC UA method call through the collector API', async () => {
    const res = await requestDiagnostic(stack, DEVICE, 'self_test');
    expect(res.status).toBe(202);
    const done = await diagnosticFinished(stack, res.location as string);
    expect(done).toMatchObject({ state: 'completed', ok: true, error: null, result: { test: 'self_test', outcome: 'pass', code: 0, text: 'passed' } });
  });

  it('reports a failed sensor (Bad status) as a bad-quality reading, never a value', async () => {
    const bad = await waitFor('a bad cold-head reading from the quenched MRI', async () => {
      const r = (await api<{ readings: Reading[] }>('/api/v1/devices/gw-ua.mri-q/telemetry?metric=cold_head_temp&limit=100')).body.readings;
      return r.find((x) => x.quality === 'bad');
    });
    expect(bad.value).toBeNull();
    const field = await waitFor('the field collapsing', async () => {
      const r = (await api<{ readings: Reading[] }>('/api/v1/devices/gw-ua.mri-q/telemetry?metric=field_strength&limit=1')).body.readings[0];
      return r && (r.value as number) < 1 ? r : undefined;
    });
    expect(field.quality).toBe('good');
  });

  it('names a browse path the server lacks in the device status, with what to do', async () => {
    const device = await waitFor('mri-w in error', async () => {
      const { body } = await api<{ status: string; statusReason?: string; reason?: string }>('/api/v1/devices/gw-ua.mri-w');
      return body.status === 'error' ? body : undefined;
    });
    expect(JSON.stringify(device)).toContain('node path not found: Device/Room/O2Level on opc.tcp://127.0.0.1:');
    expect(JSON.stringify(device)).toContain('medtel-agent opcua browse');
  });
});
