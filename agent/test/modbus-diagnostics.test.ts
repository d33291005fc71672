import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@medtel/shared';
import { startPumpSimulator, type PumpSimulator } from '@medtel/simulators';
import { BUILTIN_PROFILES_DIR, createAgentMetrics, loadProfile, type ResolvedProfile } from '../dist/index.js';
import { modbusTcpDriver } from '../dist/drivers/modbus/index.js';
import type { DeviceSession } from '../dist/drivers/types.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';

const pumpProfile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-lvp-100.yaml'));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const where = { configFile: 'agent.yaml', field: 'devices[0].connection' };

async function start(port: number, scenario?: 'selftest-fail'): Promise<{ sim: PumpSimulator; session: DeviceSession; connected: () => boolean }> {
  const sim = await startPumpSimulator({ port, seed: 1, ...(scenario ? { scenario: { kind: scenario } } : {}) });
  cleanup.push(() => sim.close());
  const connection = modbusTcpDriver.prepare({ protocol: 'modbus-tcp', host: '127.0.0.1', port }, pumpProfile, where);
  let status = '';
  const session = modbusTcpDriver.start(
    { id: 'pump-1', connection, profile: pumpProfile, pollIntervalMs: 100, timeoutMs: 300 },
    { sample: () => undefined, identity: () => undefined, status: (s: string) => (status = s) } as never,
    { logger: createLogger({ name: 'test', level: 'silent' }), metrics: createAgentMetrics() },
  );
  cleanup.push(() => session.stop());
  await waitFor('connected', () => status === 'connected');
  return { sim, session, connected: () => status === 'connected' };
}

describe('Modbus diagnostics against the pump simulator', () => {
  it('runs the self-test from the profile: start coil, poll until done, pass', async () => {
    const { session, sim } = await start(await freePort());
    const outcome = await session.diagnose?.({ test: 'self_test', timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'pass', code: 0, text: 'passed' } });
    expect((outcome?.result?.durationMs as number) >= 1900).toBe(true);
    // Polling went on meanwhile and the infusion was not touched.
    expect(sim.pump.snapshot()).toMatchObject({ state: 1, rateMlPerH: 125 });
  });

  it('reports a failing self-test with its code and text', async () => {
    const { session } = await start(await freePort(), 'selftest-fail');
    const outcome = await session.diagnose?.({ test: 'self_test', timeoutMs: 10_000 });
    expect(outcome).toEqual({
      ok: false,
      result: expect.objectContaining({ outcome: 'fail', code: 1, text: 'pressure sensor out of range' }),
      error: 'self_test failed: pressure sensor out of range (code 1)',
    });
  });

  it('gives up when the test does not finish in time, and says which register it watched', async () => {
    const { session } = await start(await freePort());
    const outcome = await session.diagnose?.({ test: 'self_test', timeoutMs: 600 });
    expect(outcome?.ok).toBe(false);
    expect(outcome?.error).toMatch(/self_test did not finish within 600 ms \(input register 13 still reads 1\)/);
  });

  it('ends with a clear error when the device goes away mid-test', async () => {
    const { session, sim } = await start(await freePort());
    const running = session.diagnose?.({ test: 'self_test', timeoutMs: 10_000 });
    await waitFor('self-test running', () => sim.pump.snapshot().selfTestState === 1);
    await sim.close();
    const outcome = await running;
    expect(outcome?.ok).toBe(false);
    expect(outcome?.error).toMatch(/^self_test interrupted: .*modbus-tcp 127\.0\.0\.1:\d+ unit 1/);
  });
});

describe('profile diagnostics are checked at start, naming the field', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  function profileWith(diagnostics: string): ResolvedProfile {
    const file = join(dir.path, 'p.yaml');
    writeFileSync(
      file,
      `profile: p\ntype: infusion-pump\nmanufacturer: m\nmodel: x\nprotocols: [modbus]\nmetrics:\n  - id: limit\n    read: { table: holding, address: 12, type: uint16 }\ndiagnostics:\n${diagnostics}`,
    );
    return loadProfile(file);
  }
  const prepare = (p: ResolvedProfile) => () => modbusTcpDriver.prepare({ protocol: 'modbus-tcp', host: 'h' }, p, where);

  it.each([
    ['  - { name: t, description: d, run: { start: { table: discrete, address: 1, value: 1 } } }', /diagnostics\[0\]\.run\.start\.table/],
    [
      '  - { name: t, description: d, run: { poll: { read: { table: input, address: 1, type: uint16 }, until: [2] } } }',
      /diagnostics\[0\]\.run: give a start write, a result read, or both/,
    ],
    ['  - { name: t, description: d, run: { start: { table: coil, address: 1, value: 2 } } }', /diagnostics\[0\]\.run\.start\.value: a coil takes 0 or 1/],
    [
      '  - { name: t, description: d, run: { start: { table: holding, address: 12, value: 500 } } }',
      /diagnostics\[0\]\.changesState: the test writes holding register 12, which metric "limit" reads/,
    ],
    [
      '  - { name: t, description: d, run: { result: { read: { table: input, address: 1, type: uint16 }, pass: [0], colour: red } } }',
      /diagnostics\[0\]\.run\.result\.colour: unknown field/,
    ],
  ])('%s', (yaml, message) => {
    expect(prepare(profileWith(`${yaml}\n`))).toThrow(message);
  });

  it('refuses a test name used twice and a missing description', () => {
    const run = 'run: { start: { table: coil, address: 1, value: 1 } }';
    expect(() => profileWith(`  - { name: t, description: d, ${run} }\n  - { name: t, description: e, ${run} }\n`)).toThrow(
      /diagnostics\[1\]\.name: "t" is used twice/,
    );
    expect(() => profileWith(`  - { name: t, ${run} }\n`)).toThrow(/diagnostics\[0\]\.description/);
  });

  it('accepts a state-changing write when the profile says so', () => {
    expect(
      prepare(profileWith('  - { name: t, description: d, changesState: true, run: { start: { table: holding, address: 12, value: 500 } } }\n')),
    ).not.toThrow();
  });
});
