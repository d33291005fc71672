import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startVentilatorSimulator, type VentilatorSimulatorOptions } from '@medtel/simulators';
import { BUILTIN_PROFILES_DIR, loadProfile } from '../dist/index.js';
import { medibusDriver } from '../dist/drivers/medibus/index.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';
import { driverContext, serialRecorder } from './serial-recorder.js';

/** The ventilator's read-only device_check over the MEDIBUS-style link, against the simulator. */
const profile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-vent-500.yaml'));
const where = { configFile: 'agent.yaml', field: 'devices[0].connection' };
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Only these command bytes may reach a ventilator: ICC, NOP, device id, alarms, measured data, settings, patient data (read-only too). */
const READ_ONLY_COMMANDS = new Set([0x51, 0x30, 0x52, 0x27, 0x24, 0x29, 0x2d]);

async function start(link: VentilatorSimulatorOptions['link'], path: string, o: Partial<VentilatorSimulatorOptions> = {}) {
  const sim = await startVentilatorSimulator({ serial: 'VT-2201', seed: 5, link, ...o });
  cleanup.push(() => sim.close());
  const rec = serialRecorder();
  const { context } = driverContext();
  const connection = medibusDriver.prepare({ protocol: 'medibus', path }, profile, where);
  const session = medibusDriver.start({ id: 'vent-1', connection, profile, pollIntervalMs: 200, timeoutMs: 300 }, rec.sink as never, context);
  cleanup.push(() => session.stop());
  await waitFor('connected', () => rec.lastStatus()?.status === 'connected');
  return { sim, rec, session };
}

async function tcp(o: Partial<VentilatorSimulatorOptions> = {}) {
  const port = await freePort();
  return start({ tcp: { host: '127.0.0.1', port } }, `tcp://127.0.0.1:${port}`, o);
}

describe('MEDIBUS diagnostics: the ventilator device_check', () => {
  it('passes with the device id and an empty alarm list, sends only read requests, and polling goes on', async () => {
    const { sim, rec, session } = await tcp();
    const settingsBefore = { ...sim.ventilator.settings };
    const outcome = await session.diagnose?.({ test: 'device_check', timeoutMs: 5000 });
    expect(outcome).toMatchObject({
      ok: true,
      result: { outcome: 'pass', device: { id: '0161', name: 'MT-VENT-500', revision: '02.13.0', serial: 'VT-2201' }, alarms: [] },
    });
    const polled = rec.samples.length;
    await waitFor('two more polls after the check', () => rec.samples.length >= polled + 2);
    expect([...sim.commandsSeen().keys()].filter((cmd) => !READ_ONLY_COMMANDS.has(cmd))).toEqual([]);
    expect(sim.ventilator.settings).toEqual(settingsBefore);
  });

  it('a technical alarm (O2 sensor) fails the check and is named; a clinical alarm alone does not', async () => {
    const { session } = await tcp({ scenario: 'o2-sensor', scenarioAfterS: 0 });
    const outcome = await session.diagnose?.({ test: 'device_check', timeoutMs: 5000 });
    expect(outcome).toMatchObject({
      ok: false,
      error: 'device_check failed: technical alarm 31 "O2 SENSOR" (priority 2) active on the device',
      result: { outcome: 'fail', technicalAlarms: [{ code: '31', priority: 2, text: 'O2 SENSOR' }] },
    });
    await cleanup
      .splice(0)
      .reverse()
      .reduce((p, fn) => p.then(fn), Promise.resolve());
    const apnea = await tcp({ scenario: 'apnea', scenarioAfterS: 0 });
    const passed = await apnea.session.diagnose?.({ test: 'device_check', timeoutMs: 5000 });
    expect(passed?.ok).toBe(true);
    expect(((passed?.result?.alarms ?? []) as Array<{ code: string }>).map((a) => a.code)).toEqual(['22', '23']);
  });

  it('a device that goes mute: ok false naming the line, within the time asked', async () => {
    const t0 = Date.now();
    const { session } = await tcp({ stallAfterS: 2 });
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 2300 - Date.now()))); // the simulator has gone mute (its clock started just after t0)
    const asked = Date.now();
    const outcome = await session.diagnose?.({ test: 'device_check', timeoutMs: 3000 });
    expect(outcome?.ok).toBe(false);
    expect(outcome?.error).toMatch(/^device_check interrupted: medibus tcp:\/\/127\.0\.0\.1:\d+: /);
    expect(Date.now() - asked).toBeLessThan(4000);
  });

  it('over a socat pty pair as well', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyVENT');
    const { session } = await start({ pty: link }, link);
    expect(await session.diagnose?.({ test: 'device_check', timeoutMs: 5000 })).toMatchObject({ ok: true, result: { outcome: 'pass' } });
  });

  it('profile errors are refused at start, naming the field', () => {
    const withRun = (run: unknown) => ({ ...profile, diagnostics: [{ name: 'check', description: 'd', changesState: false, timeout: '5s', run }] });
    const prepare = (run: unknown) => () => medibusDriver.prepare({ protocol: 'medibus', path: '/dev/ttyS0' }, withRun(run) as never, where);
    expect(prepare({ request: ['deviceId', 'ventilate'] })).toThrow(
      /diagnostics\[0\]\.run\.request\[1\]: found "ventilate", expected one of deviceId, alarms, measured, settings/,
    );
    expect(prepare({ request: ['alarms', 'alarms'] })).toThrow(
      /diagnostics\[0\]\.run\.request: found \["alarms","alarms"\], expected a list of 1 to 4 different requests/,
    );
    expect(prepare({ request: ['deviceId'], expect: { technicalAlarms: ['31'] } })).toThrow(
      /diagnostics\[0\]\.run\.expect\.technicalAlarms: the check must request the alarm list/,
    );
    expect(prepare({ request: ['alarms'], expect: { technicalAlarms: ['o2'] } })).toThrow(/diagnostics\[0\]\.run\.expect\.technicalAlarms\[0\]/);
    expect(prepare({ request: ['alarms'], expect: { noAlarms: true } })).toThrow(/diagnostics\[0\]\.run\.expect.*noAlarms/);
    expect(prepare({ start: { table: 'coil', address: 0, value: 1 } })).toThrow(/diagnostics\[0\]\.run/);
  });
});
