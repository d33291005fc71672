import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@medtel/collector';
import { type Proc, freePort, getJson, startCli, tempDir, waitFor } from './helpers.js';

/**
 * Diagnostics across the real processes: the API asks, the collector sends
 * the command over MQTT, the agent runs the profile's self-test over Modbus
 * against the pump simulator, and the result comes back through the outbox.
 */
const dir = tempDir('medtel-diag-e2e-');
const procs: Proc[] = [];
let http = 0;
let token = '';
let goodPump: Proc;

type Diagnostic = { requestId: string; state: string; ok: boolean | null; result: Record<string, unknown> | null; error: string | null };
const api = <T>(path: string) => getJson<T>(`http://127.0.0.1:${http}${path}`, token);

async function run(device: string, test: string): Promise<{ status: number; location: string | null; body: Diagnostic }> {
  const res = await fetch(`http://127.0.0.1:${http}/api/v1/devices/${device}/diagnostics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ test }),
  });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Diagnostic };
}

const finished = (location: string, timeoutMs = 20_000) =>
  waitFor(
    `${location} to finish`,
    async () => {
      const { body } = await api<Diagnostic>(location);
      return body.state !== 'pending' ? body : undefined;
    },
    timeoutMs,
    200,
  );

function sim(port: number, serial: string, extra: string[] = []): Proc {
  const p = startCli('simulators', ['pump', '--modbus-tcp', `127.0.0.1:${port}`, '--serial', serial, ...extra]);
  procs.push(p);
  return p;
}

beforeAll(async () => {
  const ports = { mqtt: await freePort(), http: await freePort(), good: await freePort(), failing: await freePort() };
  http = ports.http;
  const secret = 'diag-e2e-secret-0123456789';
  writeFileSync(join(dir.path, 'gateway.secret'), `${secret}\n`);
  writeFileSync(
    join(dir.path, 'collector.yaml'),
    `mqtt: { port: ${ports.mqtt}, plain: { enabled: true } }\nhttp: { port: ${ports.http} }\nstore: { path: ./collector.db }\ngateways:\n  - id: gw-diag\n    secretHash: "${await hashSecret(secret)}"\n`,
  );
  writeFileSync(
    join(dir.path, 'agent.yaml'),
    [
      'gateway: { id: gw-diag, site: ward-5 }',
      `collector: { url: "mqtt://127.0.0.1:${ports.mqtt}", secretFile: gateway.secret, reconnectMin: 200ms, reconnectMax: 1s }`,
      'stateDir: ./agent-state',
      'http: { enabled: false }',
      'devices:',
      '  - id: pump-ok',
      '    profile: medtel-mt-lvp-100',
      `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${ports.good} }`,
      '    pollInterval: 250ms',
      '    timeout: 500ms',
      '  - id: pump-bad',
      '    profile: medtel-mt-lvp-100',
      `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${ports.failing} }`,
      '    pollInterval: 250ms',
      '    timeout: 500ms',
    ].join('\n'),
  );
  const collector = startCli('collector', ['run', '--config', join(dir.path, 'collector.yaml')], dir.path);
  procs.push(collector);
  await collector.waitForLine(/collector started/);
  const issued = startCli('collector', ['token', 'issue', '--config', join(dir.path, 'collector.yaml'), '--sub', 'biomed-anna', '--role', 'technician']);
  expect(await issued.exited()).toBe(0);
  token = issued.output().trim();
  goodPump = sim(ports.good, 'DIAG-0001');
  await goodPump.waitForLine(/pump simulator listening/);
  await sim(ports.failing, 'DIAG-0002', ['--scenario', 'selftest-fail']).waitForLine(/pump simulator listening/);
  const agent = startCli('agent', ['run', '--config', join(dir.path, 'agent.yaml')], dir.path);
  procs.push(agent);
  await agent.waitForLine(/agent started/);
  for (const id of ['gw-diag.pump-ok', 'gw-diag.pump-bad']) {
    await waitFor(`${id} connected with its tests`, async () => {
      const { body } = await api<{ status: string; diagnostics: Array<{ name: string }> }>(`/api/v1/devices/${id}`);
      return body.status === 'connected' && body.diagnostics?.some((d) => d.name === 'self_test');
    });
  }
});

afterAll(async () => {
  for (const p of [...procs].reverse()) await p.stop();
  dir.remove();
});

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
    await goodPump.stop();
    const done = await finished(res.location as string);
    expect(done.state).toBe('completed');
    expect(done.ok).toBe(false);
    expect(done.error).toMatch(/^self_test interrupted: .*modbus-tcp 127\.0\.0\.1:\d+ unit 1/);
  });
});
