import { renameSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCollectorConfig, startCollector } from '../dist/index.js';
import { initCa, issueGateway, issueServer } from '../dist/pki/openssl-pki.js';
import { SECRETS, dataPayload, publishAcked, startTestCollector } from './collector-fixture.js';
import { tempDir } from '../../test/helpers.js';

/**
 * MQTT over TLS and mutual TLS with certificates made here by the collector's
 * own small CA (openssl), a second unrelated CA, and an expired certificate.
 */
const pki = tempDir('medtel-pki-');
const otherPki = tempDir('medtel-pki-other-');
let collector: Awaited<ReturnType<typeof startTestCollector>>;
let files: {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  expiredCert: Buffer;
  expiredKey: Buffer;
  otherCert: Buffer;
  otherKey: Buffer;
  wrongNameCert: Buffer;
  wrongNameKey: Buffer;
};

beforeAll(async () => {
  initCa(pki.path, { name: 'test CA' });
  issueServer(pki.path, ['127.0.0.1', 'localhost']);
  const expired = issueGateway(pki.path, 'gw-cert', { days: -1 });
  renameSync(expired.cert, join(pki.path, 'expired.crt'));
  renameSync(expired.key, join(pki.path, 'expired.key'));
  const good = issueGateway(pki.path, 'gw-cert');
  const wrongName = issueGateway(pki.path, 'gw-elsewhere');
  initCa(otherPki.path, { name: 'some other CA' });
  const other = issueGateway(otherPki.path, 'gw-cert');
  const r = (f: string) => readFileSync(f);
  files = {
    ca: r(join(pki.path, 'ca.crt')),
    cert: r(good.cert),
    key: r(good.key),
    expiredCert: r(join(pki.path, 'expired.crt')),
    expiredKey: r(join(pki.path, 'expired.key')),
    otherCert: r(other.cert),
    otherKey: r(other.key),
    wrongNameCert: r(wrongName.cert),
    wrongNameKey: r(wrongName.key),
  };
  collector = await startTestCollector({
    configure: (config) => {
      config.mqtt.tls = {
        host: '127.0.0.1',
        port: 0,
        certFile: join(pki.path, 'server.crt'),
        keyFile: join(pki.path, 'server.key'),
        caFile: join(pki.path, 'ca.crt'),
        requireClientCertificate: false,
      };
      config.gateways.push({ id: 'gw-cert', auth: 'certificate' });
    },
  });
}, 60_000);
afterAll(async () => {
  await collector?.close();
  pki.remove();
  otherPki.remove();
});

function connectTls(options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(`mqtts://127.0.0.1:${collector.mqttsPort}`, {
    clientId: `tls-${Math.random()}`,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ca: files.ca,
    rejectUnauthorized: true,
    ...options,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

describe('MQTT over TLS', () => {
  it('serves a secret-authenticated gateway over TLS; its readings are stored', async () => {
    const client = await connectTls({ username: 'gw-1', password: SECRETS['gw-1'] });
    await publishAcked(client, 'medtel/v1/bench/gw-1/dev/pump-1/data', dataPayload(1));
    client.end(true);
    expect(await collector.store.getDevice('gw-1.pump-1')).toBeDefined();
  });

  it('accepts a gateway by its client certificate alone (no secret)', async () => {
    const client = await connectTls({ username: 'gw-cert', cert: files.cert, key: files.key });
    await publishAcked(client, 'medtel/v1/bench/gw-cert/dev/pump-9/data', dataPayload(1, 'pump-9'));
    client.end(true);
    // Without a user name the certificate's CN names the gateway.
    const anonymous = await connectTls({ cert: files.cert, key: files.key });
    anonymous.end(true);
  });

  it('refuses an expired certificate, logging why', async () => {
    await expect(connectTls({ username: 'gw-cert', cert: files.expiredCert, key: files.expiredKey })).rejects.toMatchObject({ code: 5 });
    expect(collector.log()).toMatch(/client certificate not trusted \(CERT_HAS_EXPIRED\)/);
  });

  it('refuses a certificate from another CA, logging why', async () => {
    await expect(connectTls({ username: 'gw-cert', cert: files.otherCert, key: files.otherKey })).rejects.toMatchObject({ code: 5 });
    expect(collector.log()).toMatch(/client certificate not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
  });

  it('refuses a valid certificate that names another gateway', async () => {
    await expect(connectTls({ username: 'gw-cert', cert: files.wrongNameCert, key: files.wrongNameKey })).rejects.toMatchObject({ code: 5 });
    expect(collector.log()).toMatch(/client certificate names \\"gw-elsewhere, urn:medtel:gateway:gw-elsewhere\\", not gateway \\"gw-cert\\"/);
    // and a certificate-only gateway cannot log in with no certificate at all
    await expect(connectTls({ username: 'gw-cert', password: 'anything' })).rejects.toMatchObject({ code: 5 });
    expect(collector.log()).toMatch(/gateway \\"gw-cert\\" must present a client certificate over TLS/);
    expect(await collector.metrics.registry.getSingleMetricAsString('medtel_broker_auth_failures_total')).toMatch(/reason="certificate_name"/);
  });

  it('refuses a good certificate once its gateway is revoked', async () => {
    await collector.store.gatewayCredentials.add({ id: 'gw-gone', auth: 'certificate', secretHash: null }, { sub: 'test', role: 'system' });
    const gone = issueGateway(pki.path, 'gw-gone');
    (await connectTls({ username: 'gw-gone', cert: readFileSync(gone.cert), key: readFileSync(gone.key) })).end(true);
    await collector.store.gatewayCredentials.revoke('gw-gone', { sub: 'test', role: 'system' }, 'lost');
    await expect(connectTls({ username: 'gw-gone', cert: readFileSync(gone.cert), key: readFileSync(gone.key) })).rejects.toMatchObject({ code: 4 });
    expect(collector.log()).toMatch(/"username":"gw-gone".*refused MQTT connection: unknown or revoked gateway/);
  });

  it('a client refuses a collector whose certificate its CA did not sign', async () => {
    await expect(connectTls({ username: 'gw-1', password: SECRETS['gw-1'], ca: readFileSync(join(otherPki.path, 'ca.crt')) })).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  });

  it('speaks TLS 1.2 or newer only', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: collector.mqttsPort, ca: files.ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err) => resolve(err.message));
    });
    expect(outcome).not.toBe('connected');
  });
});

describe('plain MQTT is opt-in', () => {
  it('a config with neither mqtt.tls nor mqtt.plain.enabled does not start, and says what to set', async () => {
    const dir = tempDir();
    const config = loadCollectorConfig();
    config.store.path = join(dir.path, 'c.db');
    config.auth.keyFile = join(dir.path, 'k.key');
    config.http.port = 0;
    await expect(startCollector(config)).rejects.toThrow(
      /configure mqtt.tls \(certFile, keyFile\) or, on a trusted network only, set mqtt.plain.enabled: true/,
    );
    dir.remove();
  });
});
