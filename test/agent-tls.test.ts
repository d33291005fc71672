import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, issueGateway, issueServer } from '../collector/dist/pki/openssl-pki.js';
import { startTestCollector } from '../collector/test/collector-fixture.js';
import { freePort, startCli, tempDir, waitFor } from './helpers.js';

/** The real agent process over mutual TLS to a collector, and its refusal of plain MQTT to a remote host. */
const dir = tempDir('medtel-agent-tls-');
let collector: Awaited<ReturnType<typeof startTestCollector>>;

beforeAll(async () => {
  const pki = join(dir.path, 'pki');
  initCa(pki);
  issueServer(pki, ['localhost', '127.0.0.1']);
  issueGateway(pki, 'gw-tls');
  collector = await startTestCollector({
    configure: (config) => {
      config.mqtt.tls = {
        host: '127.0.0.1',
        port: 0,
        certFile: join(pki, 'server.crt'),
        keyFile: join(pki, 'server.key'),
        caFile: join(pki, 'ca.crt'),
        requireClientCertificate: true,
      };
      config.gateways.push({ id: 'gw-tls', auth: 'certificate' });
    },
  });
}, 60_000);
afterAll(async () => {
  await collector?.close();
  dir.remove();
});

async function agentYaml(name: string, collectorLine: string): Promise<string> {
  const file = join(dir.path, `${name}.yaml`);
  writeFileSync(
    file,
    [`gateway: { id: ${name}, site: s }`, collectorLine, `stateDir: ./state-${name}`, `http: { port: ${await freePort()} }`, 'devices: []', ''].join('\n'),
  );
  return file;
}

describe('agent uplink security', () => {
  it('connects with mqtts:// and its client certificate only; the collector knows it by the certificate', async () => {
    const file = await agentYaml(
      'gw-tls',
      `collector: { url: "mqtts://localhost:${collector.mqttsPort}", tls: { caFile: pki/ca.crt, certFile: pki/gateways/gw-tls.crt, keyFile: pki/gateways/gw-tls.key } }`,
    );
    const agent = startCli('agent', ['run', '--config', file], dir.path);
    await waitFor('the collector sees gw-tls connected', () => collector.broker.isGatewayConnected('gw-tls') || undefined, 20_000);
    expect(await agent.stop()).toBe(0);
  });

  it('does not connect to a collector whose certificate it cannot verify (no caFile: public CAs only)', async () => {
    const file = await agentYaml(
      'gw-tls',
      `collector: { url: "mqtts://localhost:${collector.mqttsPort}", reconnectMin: 200ms, reconnectMax: 1s, tls: { certFile: pki/gateways/gw-tls.crt, keyFile: pki/gateways/gw-tls.key } }`,
    );
    const agent = startCli('agent', ['run', '--config', file], dir.path);
    await agent.waitForLine(/self-signed certificate in certificate chain.*collector's certificate not trusted: check collector\.tls\.caFile/);
    expect(collector.broker.isGatewayConnected('gw-tls')).toBe(false);
    await agent.stop();
  });

  it('refuses plain mqtt:// to a remote host in one line, unless allowInsecure (then warns at start)', async () => {
    const file = await agentYaml('gw-plain', 'collector: { url: "mqtt://10.255.255.1:1883", secret: s3cret }');
    const refused = startCli('agent', ['run', '--config', file], dir.path);
    expect(await refused.exited()).toBe(2);
    expect(refused.output()).toMatch(/collector\.url: plain mqtt:\/\/ to 10\.255\.255\.1 would send the gateway secret and data unencrypted/);
    const allowed = startCli(
      'agent',
      ['run', '--config', await agentYaml('gw-insecure', 'collector: { url: "mqtt://10.255.255.1:1883", secret: s3cret, allowInsecure: true }')],
      dir.path,
    );
    await allowed.waitForLine(/INSECURE: plain MQTT to a remote collector/);
    await allowed.stop();
  });
});
