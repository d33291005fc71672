import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './helpers.js';
import { diagnosticFinished, requestDiagnostic } from './diagnostics-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * Diagnostics across the real processes: the API asks, the collector sends
 * the command over MQTT, the agent runs the profile's self-test over Modbus
 * against the pump simulator, and the result comes back through the outbox.
 */
let stack: Stack;

const api = <T>(path: string) => stack.api<T>(path);
const run = (device: string, test: string) => requestDiagnostic(stack, device, test);
const finished = (location: string) => diagnosticFinished(stack, location);

beforeAll(async () => {
  const [good, failing] = [await freePort(), await freePort()];
  const pump = (id: string, port: number) => ({
    id,
    profile: 'medtel-mt-lvp-100',
    connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port },
    pollInterval: '250ms',
    timeout: '500ms',
  });
  stack = await startStack({
    gateway: 'gw-diag',
    site: 'ward-5',
    token: { sub: 'biomed-anna', role: 'technician' },
    devices: [pump('pump-ok', good), pump('pump-bad', failing)],
    simulators: [
      ['pump', '--modbus-tcp', `127.0.0.1:${good}`, '--serial', 'DIAG-0001'],
      ['pump', '--modbus-tcp', `127.0.0.1:${failing}`, '--serial', 'DIAG-0002', '--scenario', 'selftest-fail'],
    ],
  });
  for (const id of ['gw-diag.pump-ok', 'gw-diag.pump-bad']) {
    await waitFor(`${id} connected with its tests`, async () => {
      const { body } = await api<{ status: string; diagnostics: Array<{ name: string }> }>(`/api/v1/devices/${id}`);
      return body.status === 'connected' && body.diagnostics?.some((d) => d.name === 'self_test');
    });
  }
});

afterAll(() => stack?.stop());

describe('end to end: diagnostics', () => {
  it('runs the self-test on the pump and reports pass', async () => {
    const res = await run('gw-diag.pump-ok', 'self_test');
    expect(res.status).toBe(202);
    expect(res.location).toBe(`/api/v1/diagnostics/${res.body.requestId}`);
    const done = await finished(res.location as string);
    expect(done).toMatchObject({ state: 'completed', ok: true, error: null, result: { test: 'self_test', outcome: 'pass', code: 0, text: 'passed' } });
  });

  it('reports the failing self-test of the selftest-fail pump as ok:false with its reason', async () => {
    const res = await run('gw-diag.pump-bad', 'self_test');
    const done = await finished(res.location as string);
    expect(done).toMatchObject({
      state: 'completed',
      ok: false,
      error: 'self_test failed: pressure sensor out of range (code 1)',
      result: { outcome: 'fail', code: 1 },
    });
  });

  it('ends with a clear error when the pump goes away in the middle of the test', async () => {
    const res = await run('gw-diag.pump-ok', 'self_test');
    expect(res.status).toBe(202);
    await new Promise((r) => setTimeout(r, 700)); // the 2 s self-test has started on the pump
    await stack.simulators[0]?.stop(); // the good pump
    const done = await finished(res.location as string);
    expect(done.state).toBe('completed');
    expect(done.ok).toBe(false);
    expect(done.error).toMatch(/^self_test interrupted: .*modbus-tcp 127\.0\.0\.1:\d+ unit 1/);
  });
});
