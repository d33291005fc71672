import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startXraySimulator, type XraySimulatorOptions } from '@medtel/simulators';
import { BUILTIN_PROFILES_DIR, loadProfile } from '../dist/index.js';
import { modbusRtuDriver } from '../dist/drivers/modbus/index.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';
import { driverContext, serialRecorder } from './serial-recorder.js';

/** The X-ray generator's self-check over Modbus RTU, through the shared line's bus, against the simulator. */
const profile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-xr-80.yaml'));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const UNITS = [
  { unitId: 1, serial: 'XR-0001' },
  { unitId: 2, serial: 'XR-0002' },
];

async function startLine(link: XraySimulatorOptions['link'], path: string, o: Partial<XraySimulatorOptions> = {}) {
  const sim = await startXraySimulator({ units: UNITS, seed: 4, link, ...o });
  cleanup.push(() => sim.close());
  const { context } = driverContext();
  const units = UNITS.map((u) => {
    const rec = serialRecorder();
    const where = { configFile: 'agent.yaml', field: `devices[${u.unitId}].connection` };
    const connection = modbusRtuDriver.prepare({ protocol: 'modbus-rtu', path, unitId: u.unitId, interFrameGap: '4ms' }, profile, where);
    const session = modbusRtuDriver.start({ id: `xray-${u.unitId}`, connection, profile, pollIntervalMs: 200, timeoutMs: 300 }, rec.sink as never, context);
    cleanup.push(() => session.stop());
    return { rec, session };
  });
  await waitFor('both units connected', () => units.every((u) => u.rec.lastStatus()?.status === 'connected'), 15_000);
  return { sim, units };
}

async function tcpLine(o: Partial<XraySimulatorOptions> = {}) {
  const port = await freePort();
  return startLine({ tcp: { host: '127.0.0.1', port } }, `tcp://127.0.0.1:${port}`, o);
}

describe('Modbus RTU diagnostics: the X-ray generator self-check', () => {
  it('passes, while the other unit on the line keeps being polled and requests never overlap', async () => {
    const { sim, units } = await tcpLine();
    const [one, two] = units;
    const before = two?.rec.samples.length ?? 0;
    const outcome = await one?.session.diagnose?.({ test: 'self_test', timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'pass', code: 0, text: 'passed' } });
    expect(outcome?.result?.durationMs).toBeGreaterThanOrEqual(1000);
    // About 1.5 s of test at a 200 ms poll interval: the neighbour was read all along.
    expect((two?.rec.samples.length ?? 0) - before).toBeGreaterThanOrEqual(4);
    expect(sim.stats().overlaps).toBe(0);
    expect(sim.generators.get(1)?.inputRegisters()[9]).toBe(2);
    expect(sim.generators.get(2)?.inputRegisters()[9]).toBe(0); // only the unit asked ran it
  });

  it('selftest-fail: ok false with the profile text of the code', async () => {
    const { units } = await tcpLine({ scenario: 'selftest-fail' });
    const outcome = await units[0]?.session.diagnose?.({ test: 'self_test', timeoutMs: 10_000 });
    expect(outcome).toMatchObject({
      ok: false,
      error: 'self_test failed: kV regulation out of tolerance (code 2)',
      result: { outcome: 'fail', code: 2 },
    });
  });

  it('an unknown test and a unit that stops answering give sentences, not throws', async () => {
    const { sim, units } = await tcpLine();
    expect(await units[0]?.session.diagnose?.({ test: 'nope', timeoutMs: 1000 })).toEqual({
      ok: false,
      error: 'profile "medtel-mt-xr-80" defines no test "nope"',
    });
    const running = units[0]?.session.diagnose?.({ test: 'self_test', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 400)); // the self-check has started on the unit
    await sim.unplug(3000);
    const outcome = await running;
    expect(outcome?.ok).toBe(false);
    expect(outcome?.error).toMatch(/^self_test interrupted: (unit 1 on tcp:\/\/127\.0\.0\.1:\d+ did not answer within 300 ms|modbus-rtu .*the line went down)/);
  });

  it('over a socat pty pair as well', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyRS485');
    const { sim, units } = await startLine({ pty: link }, link, { scenario: 'fault', scenarioAfterS: 0 });
    const outcome = await units[1]?.session.diagnose?.({ test: 'self_test', timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ ok: false, error: 'self_test failed: filament current out of range (code 1)' });
    expect(sim.stats().overlaps).toBe(0);
  });
});
