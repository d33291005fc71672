import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CtScanner, type ImagingSimulator, startCtSimulator } from '../simulators/dist/opcua/index.js';
import { type Proc, freePort, getJson, startCli, tempDir, waitFor } from './helpers.js';

/**
 * OPC UA security and tooling against a real node-opcua server (the CT
 * simulator, in this process): SignAndEncrypt with Basic256Sha256 and a
 * user/password identity is refused with a clear reason while the server's
 * certificate is not trusted, and connects once `medtel-agent opcua trust`
 * has trusted it; `opcua browse` prints the address space as profile paths.
 */
const dir = tempDir('medtel-opcua-sec-');
const procs: Proc[] = [];
let sim: ImagingSimulator<CtScanner>;
let agentHttp = 0;
type Health = { devices: Array<{ id: string; status: string; reason?: string; identity: Record<string, string> }> };

const device = async () => (await getJson<Health>(`http://127.0.0.1:${agentHttp}/healthz`)).body.devices.find((d) => d.id === 'ct-1');
/** The CT over SignAndEncrypt as user biomed, as both agent configs list it. */
const ct1 = (connection: Record<string, unknown>, fields: Record<string, unknown> = {}) => ({
  id: 'ct-1',
  profile: 'medtel-mt-ct-64',
  connection: {
    protocol: 'opcua',
    endpoint: sim.endpoint,
    security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256' },
    identity: { type: 'username', username: 'biomed', passwordFile: 'ct.password' },
    ...connection,
  },
  ...fields,
});
const cli = async (args: string[]) => {
  const p = startCli('agent', args, dir.path);
  const code = await p.exited();
  return { code, out: p.output() };
};

beforeAll(async () => {
  const ports = { opcua: await freePort(), mqtt: await freePort() };
  agentHttp = await freePort();
  sim = await startCtSimulator({
    port: ports.opcua,
    pkiDir: join(dir.path, 'sim-pki'),
    serial: 'CT-SEC-0001',
    seed: 3,
    users: { biomed: 'pa55-word' },
    anonymous: false,
  });
  writeFileSync(join(dir.path, 'ct.password'), 'pa55-word\n');
  writeFileSync(
    join(dir.path, 'agent.yaml'),
    stringify({
      gateway: { id: 'gw-sec', site: 'radiology' },
      // No collector runs: this test looks at the device status on the agent's own health endpoint.
      collector: { url: `mqtt://127.0.0.1:${ports.mqtt}`, secret: 'unused-secret-0123456789' },
      stateDir: './agent-state',
      http: { port: agentHttp },
      devices: [ct1({ reconnectMax: '1s' }, { pollInterval: '250ms' })],
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const p of [...procs].reverse()) await p.stop();
  await sim?.close();
  dir.remove();
});

describe('OPC UA security', () => {
  it('refuses the untrusted server certificate with a reason that says what to do, then connects once it is trusted', async () => {
    const agent = startCli('agent', ['run', '--config', join(dir.path, 'agent.yaml')], dir.path);
    procs.push(agent);
    await agent.waitForLine(/agent started/);
    const refused = await waitFor('the certificate refused', async () => {
      const d = await device();
      return d?.status === 'error' ? d : undefined;
    });
    expect(refused.reason).toMatch(/^certificate rejected: the server certificate of opc\.tcp:\/\/127\.0\.0\.1:\d+\/medtel is not trusted/);
    expect(refused.reason).toContain('medtel-agent opcua trust');
    expect(sim.sessionCount()).toBe(0);

    const trusted = await cli(['opcua', 'trust', sim.endpoint, '-c', 'agent.yaml']);
    expect(trusted.code).toBe(0);
    expect(trusted.out).toMatch(/certificate SHA-1 [0-9A-F]{40} trusted/);

    // The running agent picks the certificate up at its next attempt: no restart.
    const connected = await waitFor(
      'connected over SignAndEncrypt',
      async () => {
        const d = await device();
        return d?.status === 'connected' ? d : undefined;
      },
      30_000,
    );
    expect(connected.identity).toMatchObject({ serial: 'CT-SEC-0001', model: 'MT-CT-64' });
    expect(sim.sessionCount()).toBe(1);
  });

  it('refuses a certificate whose thumbprint is not the one given', async () => {
    const r = await cli(['opcua', 'trust', sim.endpoint, '--state-dir', 'other-state', '--thumbprint', 'AB:CD']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/has thumbprint [0-9A-F]{40}, not ABCD: not trusted/);
  });

  it('browses the address space as profile paths, with values and method signatures', async () => {
    const r = await cli(['opcua', 'browse', sim.endpoint, 'Device/Tube', '-c', 'agent.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('urn:medtel:sim:ct');
    expect(r.out).toMatch(/Device\/Tube\/HeatContent {2}Double = \d/);
    expect(r.out).toMatch(/Device\/Tube\/AnodeTemperature {2}Double = \d/);
    const all = await cli(['opcua', 'browse', sim.endpoint, '-c', 'agent.yaml']);
    expect(all.out).toMatch(/Device\/StartCalibration\(\) {2}method .* in\(Kind: String\) out\(Result: String\)/);
    expect(all.out).toContain('Device/Identity/SerialNumber  String = "CT-SEC-0001"');
  });

  it('trusts a server certificate listed in the config (trustedServerCertificates), with no trust step', async () => {
    writeFileSync(
      join(dir.path, 'agent-listed.yaml'),
      stringify({
        gateway: { id: 'gw-sec', site: 'radiology' },
        collector: { secret: 'unused-secret-0123456789' },
        stateDir: './listed-state',
        devices: [ct1({ trustedServerCertificates: ['sim-pki/own/certs/certificate.pem'] })],
      }),
    );
    const r = await cli(['opcua', 'browse', sim.endpoint, 'Device/Tube', '-c', 'agent-listed.yaml']);
    expect(r.out).toMatch(/security SignAndEncrypt\/Basic256Sha256/);
    expect(r.out).toMatch(/Device\/Tube\/HeatContent {2}Double = \d/);
    expect(r.code).toBe(0);
  });

  it('says what to do when nothing listens at the endpoint', async () => {
    const endpoint = `opc.tcp://127.0.0.1:${await freePort()}/medtel`;
    const r = await cli(['opcua', 'browse', endpoint, '--state-dir', 'other-state']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`medtel-agent: cannot reach ${endpoint}: connection refused; is the OPC UA server running and the endpoint's host and port right?`);
  });
});
