import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@medtel/shared';
import { startPumpSimulator, type PumpSimulator } from '@medtel/simulators';
import { BUILTIN_PROFILES_DIR, createAgentMetrics, loadProfile } from '../dist/index.js';
import { modbusTcpDriver } from '../dist/drivers/modbus/index.js';
import type { DeviceSession, RawSample } from '../dist/drivers/types.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';

/** Records what a driver reports, as the device runner would receive it. */
function recorder() {
  const samples: RawSample[] = [];
  const statuses: Array<{ status: string; reason: string | undefined }> = [];
  const identities: Array<Record<string, string>> = [];
  return {
    samples,
    statuses,
    identities,
    sink: {
      sample: (s: RawSample) => samples.push(s),
      status: (status: string, reason?: string) => statuses.push({ status, reason }),
      identity: (i: Record<string, string>) => identities.push(i),
    },
    lastStatus: () => statuses.at(-1),
  };
}

const pumpProfile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-lvp-100.yaml'));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startDriver(port: number, profile = pumpProfile, timeoutMs = 300) {
  const rec = recorder();
  const connection = modbusTcpDriver.prepare({ protocol: 'modbus-tcp', host: '127.0.0.1', port, unitId: 1 }, profile, {
    configFile: 'agent.yaml',
    field: 'devices[0].connection',
  });
  const metrics = createAgentMetrics();
  const session: DeviceSession = modbusTcpDriver.start({ id: 'pump-1', connection, profile, pollIntervalMs: 100, timeoutMs }, rec.sink as never, {
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics,
  });
  cleanup.push(() => session.stop());
  return { rec, metrics, session };
}

async function startPump(port: number, extra: Partial<Parameters<typeof startPumpSimulator>[0]> = {}): Promise<PumpSimulator> {
  const sim = await startPumpSimulator({ port, serial: 'SN-4711', drugName: 'Propofol', rateMlPerH: 87.5, vtbiMl: 500, seed: 1, ...extra });
  cleanup.push(() => sim.close());
  return sim;
}

describe('Modbus TCP driver against the pump simulator', () => {
  it('reads identity once and the pump values every poll', async () => {
    const port = await freePort();
    await startPump(port);
    const { rec } = await startDriver(port);
    await waitFor('three samples', () => rec.samples.length >= 3);
    expect(rec.identities[0]).toEqual({ serial: 'SN-4711', model: 'MT-LVP-100', firmware: '1.4.2', manufacturer: 'medtel simulated' });
    const values = rec.samples.at(-1)?.values as Map<string, unknown>;
    expect(values.get('rate')).toBeCloseTo(87.5, 3);
    expect(values.get('vtbi')).toBe(500);
    expect(values.get('drug_name')).toBe('Propofol');
    expect(values.get('state')).toBe(1);
    expect(rec.lastStatus()).toEqual({ status: 'connected', reason: undefined });
  });

  it('reports a refused connection, then recovers by itself when the device appears', async () => {
    const port = await freePort();
    const { rec } = await startDriver(port);
    await waitFor('unreachable', () => rec.lastStatus()?.status === 'unreachable');
    expect(rec.lastStatus()?.reason).toMatch(/connection refused by modbus-tcp 127\.0\.0\.1:\d+ unit 1/);
    await startPump(port);
    await waitFor('connected after the device appeared', () => rec.lastStatus()?.status === 'connected', 20_000);
    expect(rec.samples.length).toBeGreaterThan(0);
  });

  it('marks a device that stops answering unreachable, and never invents values meanwhile', async () => {
    const port = await freePort();
    const sim = await startPump(port, { scenario: { kind: 'silent', silentAfterS: 0.5, silentForS: 2 } });
    const { rec, metrics } = await startDriver(port);
    await waitFor('unreachable', () => rec.lastStatus()?.status === 'unreachable', 10_000);
    expect(rec.lastStatus()?.reason).toMatch(/no answer from modbus-tcp 127\.0\.0\.1:\d+ unit 1 within 300 ms/);
    const during = rec.samples.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(rec.samples.length).toBe(during);
    await waitFor('connected again after the silence', () => rec.lastStatus()?.status === 'connected', 20_000);
    expect(sim.stats().unanswered).toBeGreaterThan(0);
    const polls = await metrics.registry.getSingleMetricAsString('medtel_agent_device_polls_total');
    expect(polls).toMatch(/result="link_error"/);
  });

  it('reports a Modbus exception as an error naming the registers, and keeps the other values flowing', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const file = join(dir.path, 'broken.yaml');
    writeFileSync(
      file,
      [
        'profile: broken',
        'type: infusion-pump',
        'manufacturer: x',
        'model: y',
        'protocols: [modbus]',
        'metrics:',
        '  - { id: rate, read: { table: input, address: 1, type: float32 }, mdc: MDC_FLOW_FLUID_PUMP }',
        '  - { id: nowhere, read: { table: holding, address: 900, type: uint16 } }',
      ].join('\n'),
    );
    const port = await freePort();
    await startPump(port);
    const { rec, metrics } = await startDriver(port, loadProfile(file));
    await waitFor('error status', () => rec.lastStatus()?.status === 'error');
    expect(rec.lastStatus()?.reason).toBe('Modbus exception 2 (illegal data address) reading holding registers 900-900');
    const last = rec.samples.at(-1) as RawSample;
    expect(last.values.get('rate')).toBeCloseTo(87.5, 3);
    expect(last.failed?.get('nowhere')).toMatch(/exception 2/);
    expect(await metrics.registry.getSingleMetricAsString('medtel_agent_modbus_exceptions_total')).toMatch(/code="2"[^}]*} [1-9]/);
  });

  it('rejects bad connection settings and profile addresses before any I/O, naming the field', () => {
    const prepare = (conn: unknown) => () => modbusTcpDriver.prepare(conn, pumpProfile, { configFile: 'agent.yaml', field: 'devices[2].connection' });
    expect(prepare({ protocol: 'modbus-tcp', host: 'h', port: 0 })).toThrow(
      'agent.yaml: devices[2].connection.port: found 0, expected an integer >= 1 and <= 65535',
    );
    expect(prepare({ protocol: 'modbus-tcp', host: 'h', unit: 3 })).toThrow(/devices\[2\]\.connection\.unit: unknown field/);
    expect(prepare({ protocol: 'modbus-tcp' })).toThrow(/devices\[2\]\.connection\.host: missing/);
  });
});
