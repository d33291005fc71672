import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger } from '@medtel/shared';
import { hashSecret, loadCollectorConfig, startCollector, type CollectorConfig, type RunningCollector } from '../dist/index.js';
import { issueToken, loadOrCreateSigningKey, type Role } from '../dist/auth/index.js';
import { tempDir } from '../../test/helpers.js';
import { startTestPostgres, type TestPostgres } from '../../test/postgres-server.js';

let postgres: Promise<TestPostgres> | undefined;
const databases = new Map<string, string>();

/**
 * With MEDTEL_TEST_STORE=postgres, collectors keep their data in PostgreSQL
 * (a throw-away cluster started at the first collector, a fresh database per
 * collector directory, so a restart finds its data): any API test file runs
 * on PostgreSQL with `MEDTEL_TEST_STORE=postgres npx vitest run <file>`.
 */
export function testPostgres(): Promise<TestPostgres> {
  if (!postgres) {
    postgres = startTestPostgres();
    void postgres.then((server) => process.once('exit', () => server.remove()));
  }
  return postgres;
}

export const SECRETS = { 'gw-1': 'secret-one-0123456789', 'gw-2': 'secret-two-0123456789' } as const;

/**
 * A collector in this process on loopback ports chosen by the OS, its log captured.
 * `configure` adjusts the config (e.g. short alert timings); `dir` reuses a
 * previous collector's directory (a restart: stop() the first, close() the last).
 */
export async function startTestCollector(
  options: { configure?: (config: CollectorConfig) => void; dir?: string } = {},
): Promise<RunningCollector & { log: () => string; dir: string; token: (role: Role) => Promise<string>; close: () => Promise<void> }> {
  const reused = options.dir;
  const dir = reused ? { path: reused, remove: () => rmSync(reused, { recursive: true, force: true }) } : tempDir();
  let log = '';
  const destination = new Writable({
    write(chunk, _enc, cb) {
      log += chunk.toString();
      cb();
    },
  });
  const config = loadCollectorConfig();
  config.mqtt.port = 0;
  config.mqtt.plain.enabled = true;
  config.http.port = 0;
  config.store.path = join(dir.path, 'collector.db');
  if (process.env.MEDTEL_TEST_STORE === 'postgres') {
    const url = databases.get(dir.path) ?? (await (await testPostgres()).database());
    databases.set(dir.path, url);
    config.store.url = url;
  }
  config.auth.keyFile = join(dir.path, 'token-signing.key');
  config.gateways = [
    { id: 'gw-1', secretHash: await hashSecret(SECRETS['gw-1']) },
    { id: 'gw-2', site: 'bench', secretHash: await hashSecret(SECRETS['gw-2']) },
  ];
  options.configure?.(config);
  const collector = await startCollector(config, { logger: createLogger({ name: 'collector', level: 'debug', destination }) });
  return {
    ...collector,
    dir: dir.path,
    log: () => log,
    token: async (role: Role) => issueToken(await loadOrCreateSigningKey(config.auth.keyFile), { sub: `test-${role}`, role, ttl: '1h' }),
    close: async () => {
      await collector.stop();
      dir.remove();
    },
  };
}

export function connectGateway(port: number, gateway: string, secret: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: `test-${gateway}-${Math.random()}`,
    username: gateway,
    password: secret,
    reconnectPeriod: 0,
    ...extra,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

export function publishAcked(client: MqttClient, topic: string, payload: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

export const reading = (t: number, value: number) => ({
  metric: 'rate',
  code: 157784,
  refId: 'MDC_FLOW_FLUID_PUMP',
  unit: 'mL/h',
  unitCode: 265266,
  t,
  value,
  quality: 'good',
});
export const dataPayload = (seq: number, device = 'pump-1', values: number[] = [125]) =>
  JSON.stringify({ v: 1, seq, sentAt: Date.now(), device, clock: 'agent', readings: values.map((v, i) => reading(1_000 * seq + i, v)) });
