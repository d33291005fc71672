import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * Serial devices end to end, as separate processes: ventilator on a socat pty pair,
 * ECG monitor and two X-ray generators (one line) on terminal-server TCP ports
 * --> agent --> MQTT --> collector --> API.
 */
let stack: Stack;
const api = (path: string) => stack.api(path);
type Reading = { t: string; metric: string; value: unknown; code: number | null; unit: string | null };

beforeAll(async () => {
  const [ecg, xray] = [await freePort(), await freePort()];
  const dir = tempDir('medtel-serial-e2e-');
  const vent = join(dir.path, 'ttyVENT');
  const xrayUnit = (unitId: number) => ({
    id: `xray-${unitId}`,
    profile: 'medtel-mt-xr-80',
    connection: { protocol: 'modbus-rtu', path: `tcp://127.0.0.1:${xray}`, unitId },
    pollInterval: '500ms',
    timeout: '300ms',
  });
  stack = await startStack({
    dir,
    gateway: 'gw-s',
    site: 'icu-1',
    devices: [
      { id: 'vent-1', profile: 'medtel-mt-vent-500', connection: { protocol: 'medibus', path: vent }, pollInterval: '500ms', timeout: '500ms' },
      { id: 'ecg-1', profile: 'medtel-mt-ecg-12', connection: { protocol: 'medtel-ecg', path: `tcp://127.0.0.1:${ecg}` } },
      xrayUnit(1),
      xrayUnit(2),
    ],
    simulators: [
      ['ventilator', '--pty', vent, '--serial', 'VT-E2E-1', '--scenario', 'high-pressure', '--scenario-after', '2s', '--scenario-for', '3s'],
      ['ecg', '--tcp', `127.0.0.1:${ecg}`, '--serial', 'ECG-E2E-1', '--leads', '3', '--rate', '250'],
      ['xray', '--tcp', `127.0.0.1:${xray}`, '--units', '1,2'],
    ],
  });
});

afterAll(() => stack?.stop());

describe('serial devices end to end', () => {
  it('ventilator: identity from the device id request, coded readings, a pressure alarm that starts and ends', async () => {
    const device = await waitFor('ventilator in the registry', async () => {
      const res = await api('/api/v1/devices/gw-s.vent-1');
      // The birth follows the device id answer; "connected" follows the first full poll: wait for both.
      return res.status === 200 && res.body.serial && res.body.status === 'connected' ? res.body : undefined;
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
        return res.status === 200 && res.body.serial && res.body.status === 'connected' ? res.body : undefined;
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
