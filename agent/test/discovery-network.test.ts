import { connect, createServer, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPumpSimulator } from '@medtel/simulators';
import { startCtSimulator, startMriSimulator } from '@medtel/simulators/opcua';
import { Agent, loadAgentConfig } from '../dist/index.js';
import { trustServer } from '../dist/drivers/opcua/trust.js';
import { startRecordingBroker } from './recording-broker.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';

/**
 * Plug-and-play for network devices: only what the config lists is probed
 * (OPC UA endpoints and discovery endpoints, Modbus TCP hosts with unit ids),
 * with real simulators behind a plain in-process Aedes broker.
 */
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startAgent(dir: string, url: string, discovery: string): Promise<Agent> {
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    `gateway: { id: gw1, site: s1 }
collector: { url: "${url}", secret: test }
stateDir: ./state
http: { enabled: false }
log: { level: error }
discovery:
  serial: { watchDir: ./no-such-dir }
${discovery}`,
  );
  const agent = new Agent({ config: loadAgentConfig(file), configFile: file });
  await agent.start();
  cleanup.push(() => agent.stop());
  return agent;
}

/**
 * A Modbus TCP gateway in front of several devices: routes each request by
 * its unit id to that unit's server (unknown units stay silent, as behind a
 * real gateway) and records every function code it forwards.
 */
async function modbusGateway(units: Record<number, number>): Promise<{ port: number; functionCodes: number[] }> {
  const functionCodes: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    const upstream = new Map<number, Socket>();
    let buffer = Buffer.alloc(0);
    client.on('data', (bytes) => {
      buffer = Buffer.concat([buffer, bytes]);
      while (buffer.length >= 7 && buffer.length >= 6 + buffer.readUInt16BE(4)) {
        const frame = buffer.subarray(0, 6 + buffer.readUInt16BE(4));
        buffer = buffer.subarray(frame.length);
        const unit = frame.readUInt8(6);
        functionCodes.push(frame.readUInt8(7));
        const port = units[unit];
        if (!port) continue;
        let up = upstream.get(unit);
        if (!up) {
          up = connect({ host: '127.0.0.1', port });
          up.on('data', (reply) => client.write(reply));
          up.on('error', () => undefined);
          upstream.set(unit, up);
          sockets.add(up);
        }
        up.write(frame);
      }
    });
    client.on('error', () => undefined);
    client.on('close', () => {
      for (const up of upstream.values()) up.destroy();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port, functionCodes };
}

const root = 'medtel/v1/s1/gw1';
type Ports = { ports: Array<{ port: string; state: string; device?: string; tried?: Array<{ outcome: string; detail?: string; unitIds?: string }> }> };

describe('plug-and-play for listed network devices', () => {
  it('Modbus TCP: two pumps behind one gateway are two devices; probing only read (functions 03/04); silent units are unidentified', async () => {
    const tmp = tempDir('medtel-netdisc-');
    cleanup.push(() => tmp.remove());
    const pumpA = await startPumpSimulator({ port: await freePort(), unitId: 1, serial: 'LVP-A1', seed: 1 });
    cleanup.push(() => pumpA.close());
    const pumpB = await startPumpSimulator({ port: await freePort(), unitId: 3, serial: 'LVP-B3', seed: 2 });
    cleanup.push(() => pumpB.close());
    const gw = await modbusGateway({ 1: pumpA.port, 3: pumpB.port });
    const b = await startRecordingBroker(cleanup);
    const host = `tcp://127.0.0.1:${gw.port}`;
    await startAgent(tmp.path, b.url, `  modbusTcp: [{ host: "${host}", unitIds: "1-4" }]`);

    const birthA = await waitFor('pump A born', () => b.latest(`${root}/dev/mt-lvp-100-LVP-A1/birth`), 30_000);
    // Everything sent up to the first birth was probing (and perhaps the started pump's first polls, reads too).
    const probing = [...gw.functionCodes];
    const birthB = await waitFor('pump B born', () => b.latest(`${root}/dev/mt-lvp-100-LVP-B3/birth`), 30_000);
    expect(birthA).toMatchObject({ model: 'MT-LVP-100', serial: 'LVP-A1', profile: 'medtel-mt-lvp-100' });
    expect(birthA.discovery).toMatchObject({ method: 'listed', port: host, unitId: 1 });
    expect(birthB.discovery).toMatchObject({ method: 'listed', port: host, unitId: 3 });
    await waitFor('data from pump B', () => b.messages.find((m) => m.topic === `${root}/dev/mt-lvp-100-LVP-B3/data`), 20_000);
    expect(probing.length).toBeGreaterThan(0);
    expect(probing.filter((fc) => fc !== 3 && fc !== 4)).toEqual([]);
    // Nothing on the whole run ever wrote (05/06/15/16) or called anything else.
    expect(gw.functionCodes.filter((fc) => ![1, 2, 3, 4].includes(fc))).toEqual([]);

    const ports = await waitFor('all four units reported', () => {
      const p = b.latest(`${root}/ports`) as Ports | undefined;
      return p && p.ports.filter((x) => x.state !== 'probing').length === 4 ? p : undefined;
    });
    expect(ports.ports).toContainEqual(expect.objectContaining({ port: `${host} unit 1`, state: 'identified', device: 'mt-lvp-100-LVP-A1' }));
    expect(ports.ports).toContainEqual(expect.objectContaining({ port: `${host} unit 3`, state: 'identified', device: 'mt-lvp-100-LVP-B3' }));
    const silent = ports.ports.find((p) => p.port === `${host} unit 2`);
    expect(silent?.state).toBe('unidentified');
    expect(silent?.tried?.[0]).toMatchObject({ outcome: 'no-answer', unitIds: '2' });
  }, 90_000);

  it('OPC UA: a listed endpoint and a server found through FindServers/GetEndpoints are identified by reading only', async () => {
    const tmp = tempDir('medtel-netdisc-');
    cleanup.push(() => tmp.remove());
    const mri = await startMriSimulator({ port: await freePort(), pkiDir: join(tmp.path, 'mri-pki'), serial: 'MR-77', seed: 1 });
    cleanup.push(() => mri.close());
    const ct = await startCtSimulator({ port: await freePort(), pkiDir: join(tmp.path, 'ct-pki'), serial: 'CT-88', seed: 2 });
    cleanup.push(() => ct.close());
    const b = await startRecordingBroker(cleanup);
    await startAgent(tmp.path, b.url, `  opcua: { endpoints: ["${mri.endpoint}"], discoveryUrls: ["${ct.endpoint}"] }`);

    const mriBirth = await waitFor('MRI born', () => b.latest(`${root}/dev/mt-mr-15-MR-77/birth`), 60_000);
    expect(mriBirth).toMatchObject({ model: 'MT-MR-15', serial: 'MR-77', profile: 'medtel-mt-mr-15' });
    expect(mriBirth.discovery).toMatchObject({ method: 'listed', port: mri.endpoint });
    const ctBirth = await waitFor('CT born', () => b.latest(`${root}/dev/mt-ct-64-CT-88/birth`), 60_000);
    expect(ctBirth).toMatchObject({ model: 'MT-CT-64', serial: 'CT-88' });
    expect((ctBirth.discovery as { method: string; port: string }).method).toBe('opcua-discovery');
    expect((ctBirth.discovery as { port: string }).port).toMatch(/^opc\.tcp:\/\/.+:\d+/);
    await waitFor('MRI data', () => b.messages.find((m) => m.topic === `${root}/dev/mt-mr-15-MR-77/data`), 30_000);
    for (const sim of [mri, ct]) {
      const counts = sim.requestCounts();
      expect(counts.ReadRequest ?? 0).toBeGreaterThan(0);
      expect(counts.WriteRequest ?? 0).toBe(0);
      expect(counts.CallRequest ?? 0).toBe(0);
    }
  }, 120_000);

  it('OPC UA: an untrusted server certificate ends unidentified with what to do; trusted, the re-probe finds it', async () => {
    const tmp = tempDir('medtel-netdisc-');
    cleanup.push(() => tmp.remove());
    const mri = await startMriSimulator({ port: await freePort(), pkiDir: join(tmp.path, 'mri-pki'), serial: 'MR-SEC', seed: 3 });
    cleanup.push(() => mri.close());
    const b = await startRecordingBroker(cleanup);
    await startAgent(
      tmp.path,
      b.url,
      `  reprobeInterval: 2s
  opcua: { endpoints: ["${mri.endpoint}"], security: { mode: SignAndEncrypt, policy: Basic256Sha256 } }`,
    );
    const refused = await waitFor(
      'the endpoint unidentified',
      () => (b.latest(`${root}/ports`) as Ports | undefined)?.ports.find((p) => p.port === mri.endpoint && p.state === 'unidentified'),
      60_000,
    );
    expect(refused.tried?.[0]?.detail).toContain(`not trusted: run medtel-agent opcua trust ${mri.endpoint}`);
    expect(b.latest(`${root}/dev/mt-mr-15-MR-SEC/birth`)).toBeUndefined();

    await trustServer(mri.endpoint, join(tmp.path, 'state'));
    const birth = await waitFor('MRI born after trust', () => b.latest(`${root}/dev/mt-mr-15-MR-SEC/birth`), 60_000);
    expect(birth.discovery).toMatchObject({ method: 'listed', port: mri.endpoint });
  }, 120_000);
});
