import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startXraySimulator, type XraySimulatorOptions } from '@medtel/simulators';
import { BUILTIN_PROFILES_DIR, loadProfile } from '../dist/index.js';
import { modbusRtuDriver } from '../dist/drivers/modbus/index.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';
import { counterTotal, driverContext, serialRecorder } from './serial-recorder.js';

/** Modbus RTU: three X-ray generators on one line (a socat pty pair, or a terminal server's TCP port). */
const profile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-xr-80.yaml'));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const UNITS = [
  { unitId: 1, serial: 'XR-0001' },
  { unitId: 2, serial: 'XR-0002' },
  { unitId: 3, serial: 'XR-0003' },
];

async function startSim(o: Partial<XraySimulatorOptions> & Pick<XraySimulatorOptions, 'link'>) {
  const sim = await startXraySimulator({ units: UNITS, seed: 9, ...o });
  cleanup.push(() => sim.close());
  return sim;
}

function startUnits(path: string, timeoutMs = 300) {
  const { metrics, context } = driverContext();
  const recs = UNITS.map((u) => {
    const rec = serialRecorder();
    const where = { configFile: 'agent.yaml', field: `devices[${u.unitId}].connection` };
    const connection = modbusRtuDriver.prepare({ protocol: 'modbus-rtu', path, unitId: u.unitId, interFrameGap: '4ms' }, profile, where);
    const session = modbusRtuDriver.start({ id: `xray-${u.unitId}`, connection, profile, pollIntervalMs: 200, timeoutMs }, rec.sink as never, context);
    cleanup.push(() => session.stop());
    return rec;
  });
  return { recs, metrics };
}

describe('Modbus RTU driver: X-ray generators on one shared line', () => {
  it('over a pty pair: every unit identified and polled, requests never overlap, the gap is kept', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyRS485');
    const sim = await startSim({ link: { pty: link } });
    const { recs } = startUnits(link);
    await waitFor('10 polls of each unit', () => recs.every((r) => r.samples.length >= 10), 20_000);
    expect(recs.map((r) => r.identities[0]?.serial)).toEqual(['XR-0001', 'XR-0002', 'XR-0003']);
    expect(recs[0]?.identities[0]).toMatchObject({ model: 'MT-XR-80', firmware: '4.0.7', manufacturer: 'medtel simulated' });
    const v = recs[1]?.samples.at(-1)?.values as Map<string, unknown>;
    expect(v.get('anode_heat')).toBeGreaterThan(0);
    expect(typeof v.get('exposure_count')).toBe('number');
    const stats = sim.stats();
    expect(stats.requests).toBeGreaterThan(30);
    expect(stats.overlaps).toBe(0);
    expect(stats.minGapMs).toBeGreaterThanOrEqual(3); // 4 ms configured, timer granularity aside
  });

  it('one dead unit does not stall the others; it is unreachable with a reason naming it', async () => {
    const port = await freePort();
    const sim = await startSim({ link: { tcp: { host: '127.0.0.1', port } }, deadUnits: [2] });
    const { recs, metrics } = startUnits(`tcp://127.0.0.1:${port}`);
    const before = Date.now();
    await waitFor('units 1 and 3 polled 15 times', () => (recs[0]?.samples.length ?? 0) >= 15 && (recs[2]?.samples.length ?? 0) >= 15, 20_000);
    // 15 polls at 200 ms: about 3 s; a stalled line would take far longer.
    expect(Date.now() - before).toBeLessThan(8000);
    expect(recs[1]?.samples).toEqual([]);
    expect(recs[1]?.lastStatus()).toMatchObject({
      status: 'unreachable',
      reason: expect.stringMatching(/unit 2 on tcp:\/\/127\.0\.0\.1:\d+ did not answer within 300 ms/),
    });
    expect(recs[0]?.lastStatus()?.status).toBe('connected');
    expect(sim.stats().overlaps).toBe(0);
    expect(await counterTotal(metrics, 'medtel_agent_serial_request_timeouts_total', { device: 'xray-2' })).toBeGreaterThan(0);
  });

  it('bad CRCs and garbage on the line: counted, the units keep being read', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyRS485');
    const sim = await startSim({ link: { pty: link }, faults: { garbage: 0.2, badChecksum: 0.1 } });
    const { recs, metrics } = startUnits(link);
    await waitFor('10 polls of each unit', () => recs.every((r) => r.samples.length >= 10), 30_000);
    expect(sim.stats().badChecksum).toBeGreaterThan(0);
    expect(await counterTotal(metrics, 'medtel_agent_serial_frame_errors_total', { protocol: 'modbus-rtu', kind: 'checksum' })).toBeGreaterThan(0);
    for (const r of recs) for (const s of r.samples) expect([0, 1, 2, 3]).toContain(s.values.get('state')); // raw: the profile's enum applies later
  });

  it('the line is unplugged and plugged back: all units unreachable, then connected again', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyRS485');
    const sim = await startSim({ link: { pty: link } });
    const { recs } = startUnits(link);
    await waitFor('connected', () => recs.every((r) => r.lastStatus()?.status === 'connected'));
    const unplugged = sim.unplug(1500);
    await waitFor('all unreachable', () => recs.every((r) => r.lastStatus()?.status === 'unreachable'), 10_000);
    await unplugged;
    await waitFor('all connected again', () => recs.every((r) => r.lastStatus()?.status === 'connected'), 20_000);
  });
});
