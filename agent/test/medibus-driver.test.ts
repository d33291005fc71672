import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startVentilatorSimulator, type VentilatorSimulatorOptions } from '@medtel/simulators';
import { BUILTIN_PROFILES_DIR, loadProfile } from '../dist/index.js';
import { medibusDriver } from '../dist/drivers/medibus/index.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';
import { counterTotal, driverContext, serialRecorder } from './serial-recorder.js';

/** The ventilator driver against the ventilator simulator over a socat pty pair and over TCP. */
const profile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-vent-500.yaml'));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startSim(o: Partial<VentilatorSimulatorOptions> & Pick<VentilatorSimulatorOptions, 'link'>) {
  const sim = await startVentilatorSimulator({ serial: 'VT-2201', seed: 3, ...o });
  cleanup.push(() => sim.close());
  return sim;
}

function startDriver(path: string, timeoutMs = 300, pollIntervalMs = 200) {
  const rec = serialRecorder();
  const { metrics, context } = driverContext();
  const connection = medibusDriver.prepare({ protocol: 'medibus', path }, profile, { configFile: 'agent.yaml', field: 'devices[0].connection' });
  const session = medibusDriver.start({ id: 'vent-1', connection, profile, pollIntervalMs, timeoutMs }, rec.sink as never, context);
  cleanup.push(() => session.stop());
  return { rec, metrics };
}

describe('MEDIBUS driver against the ventilator simulator', () => {
  it('over a pty pair: identity from the device id request, measured values, settings, no alarms', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyVENT');
    await startSim({ link: { pty: link } });
    const { rec } = startDriver(link);
    await waitFor('three polls', () => rec.samples.length >= 3);
    expect(rec.identities[0]).toEqual({ model: 'MT-VENT-500', firmware: '02.13.0', serial: 'VT-2201' });
    const v = rec.samples.at(-1)?.values as Map<string, unknown>;
    expect(v.get('mode')).toBe('VC-AC');
    expect(v.get('tidal_volume_set')).toBe(450);
    expect(v.get('resp_rate_set')).toBe(14);
    expect(v.get('ie_ratio')).toBe(0.5);
    expect(v.get('tidal_volume')).toBeGreaterThan(430);
    expect(v.get('alarm_apnea')).toBe(0);
    expect(rec.lastStatus()?.status).toBe('connected');
  });

  it('over TCP (terminal server): alarm list entries appear and clear', async () => {
    const port = await freePort();
    await startSim({ link: { tcp: { host: '127.0.0.1', port } }, scenario: 'apnea', scenarioAfterS: 0.5, scenarioForS: 1.5 });
    const { rec } = startDriver(`tcp://127.0.0.1:${port}`);
    await waitFor('apnea raised', () => rec.samples.some((s) => s.values.get('alarm_apnea') === 3));
    await waitFor('apnea cleared', () => rec.samples.at(-1)?.values.get('alarm_apnea') === 0, 10_000);
    const raised = rec.samples.find((s) => s.values.get('alarm_apnea') === 3);
    expect(raised?.values.get('alarm_minute_volume_low')).toBe(2);
  });

  it('counts bad checksums and garbage, and still reads values', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyVENT');
    const sim = await startSim({ link: { pty: link }, faults: { garbage: 0.3, badChecksum: 0.1 } });
    const { rec, metrics } = startDriver(link);
    await waitFor('20 polls', () => rec.samples.length >= 20, 30_000);
    const stats = sim.stats();
    expect(stats.badChecksum).toBeGreaterThan(0);
    expect(await counterTotal(metrics, 'medtel_agent_serial_frame_errors_total', { kind: 'checksum' })).toBeGreaterThan(0);
    expect(await counterTotal(metrics, 'medtel_agent_serial_frame_errors_total', { kind: 'garbage' })).toBeGreaterThan(0);
    for (const s of rec.samples) expect(s.values.get('mode')).toBe('VC-AC');
  });

  it('unplug: the pty link vanishes -> unreachable; it comes back -> connected, without restarting the driver', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyVENT');
    const sim = await startSim({ link: { pty: link } });
    const { rec } = startDriver(link);
    await waitFor('connected', () => rec.lastStatus()?.status === 'connected');
    const unplugged = sim.unplug(2000);
    await waitFor('link gone', () => !existsSync(link));
    await waitFor('unreachable', () => rec.lastStatus()?.status === 'unreachable', 5000);
    await unplugged;
    const before = rec.samples.length;
    await waitFor('connected again', () => rec.lastStatus()?.status === 'connected' && rec.samples.length > before + 2, 15_000);
  });
});
