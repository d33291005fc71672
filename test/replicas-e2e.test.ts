import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pgClient from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../collector/dist/index.js';
import { issueToken, loadOrCreateSigningKey } from '../collector/dist/auth/index.js';
import { ROOT, freePort, startCli, tempDir, waitFor, type Proc } from './helpers.js';
import { startTestPostgres, type TestPostgres } from './postgres-server.js';
import { startRedis, type TestRedis } from './redis-server.js';

/**
 * Two collector replicas as real processes + Redis + PostgreSQL on loopback,
 * gateways spread over both through scripts/tcp-balancer.mjs. One replica is
 * SIGKILLed mid-stream: its gateways move to the other, every reading is
 * stored exactly once, an alert is raised once, and the audit chain verifies
 * after concurrent API writes on both replicas.
 *
 * Needs redis-server and PostgreSQL 15's server binaries (.ci/run installs both).
 */

const GATEWAYS = ['gw-1', 'gw-2', 'gw-3', 'gw-4'];
const SECRET = 'replica-test-secret-0123456789';
const MESSAGES = 200;

interface Replica {
  proc: Proc;
  mqtt: number;
  http: number;
  config: string;
}

let dir: ReturnType<typeof tempDir>;
let redis: TestRedis;
let pg: TestPostgres;
let replicas: Replica[] = [];
let lb: { port: number; connections(): Array<{ open: number }>; close(): Promise<void> };
let admin: string;
let storeUrl: string;
const clients = new Map<string, MqttClient>();

async function startReplica(name: string, store: string): Promise<Replica> {
  const mqttPort = await freePort();
  const http = await freePort();
  const config = join(dir.path, `${name}.yaml`);
  const hash = await hashSecret(SECRET);
  writeFileSync(
    config,
    [
      `store: ${store}`,
      `redis: { url: "${redis.url}", brokerHeartbeat: 1s }`,
      `mqtt: { host: 127.0.0.1, port: ${mqttPort}, plain: { enabled: true } }`,
      `http: { host: 127.0.0.1, port: ${http} }`,
      `auth: { keyFile: ${join(dir.path, 'token-signing.key')} }`,
      'alerts: { holdOff: 0s, evaluateEvery: 200ms }',
      'gateways:',
      ...GATEWAYS.map((g) => `  - { id: ${g}, secretHash: "${hash}" }`),
      '',
    ].join('\n'),
  );
  const proc = startCli('collector', ['run', '--config', config], dir.path);
  await proc.waitForLine(/collector started/, 60_000);
  return { proc, mqtt: mqttPort, http, config };
}

const api = async (r: Replica, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`http://127.0.0.1:${r.http}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const envelope = (seq: number, extra: Record<string, unknown>) => JSON.stringify({ v: 1, seq, sentAt: Date.now(), device: 'pump-1', ...extra });

describe('two replicas, Redis, PostgreSQL, a load balancer; one replica killed mid-stream', () => {
  beforeAll(async () => {
    dir = tempDir('medtel-replicas-');
    redis = await startRedis();
    pg = await startTestPostgres();
    storeUrl = await pg.database();
    // One after the other: the second finds the schema migrated (both would wait on the migration lock anyway).
    replicas = [await startReplica('a', storeUrl), await startReplica('b', storeUrl)];
    const { startBalancer } = (await import(/* @vite-ignore */ join(ROOT, 'scripts', 'tcp-balancer.mjs'))) as {
      startBalancer(o: object): Promise<typeof lb>;
    };
    lb = await startBalancer({
      backends: replicas.map((r) => ({ host: '127.0.0.1', port: r.mqtt, health: `http://127.0.0.1:${r.http}/readyz` })),
      checkEveryMs: 300,
    });
    admin = await issueToken(await loadOrCreateSigningKey(join(dir.path, 'token-signing.key')), { sub: 'test-admin', role: 'admin', ttl: '1h' });
  }, 180_000);

  afterAll(async () => {
    // Gateways first (a failed assertion leaves them reconnecting), then bounded stops: a replica that
    // has not exited 20 s after SIGTERM is killed, so this hook never outlives its timeout.
    for (const c of clients.values()) c.end(true);
    await lb?.close();
    for (const r of replicas) {
      const killer = setTimeout(() => r.proc.child.kill('SIGKILL'), 20_000);
      await r.proc.stop('SIGTERM');
      clearTimeout(killer);
    }
    await redis?.close();
    pg?.remove();
    dir?.remove();
  }, 60_000);

  it('stores every reading exactly once, raises an alert once, and keeps one audit chain', async () => {
    for (const g of GATEWAYS) {
      const client = mqtt.connect(`mqtt://127.0.0.1:${lb.port}`, {
        clientId: `agent-${g}`,
        username: g,
        password: SECRET,
        clean: false,
        reconnectPeriod: 300,
        will: {
          topic: `medtel/v1/bench/${g}/state`,
          payload: Buffer.from(JSON.stringify({ v: 1, seq: 0, sentAt: 0, state: 'offline' })),
          qos: 1,
          retain: true,
        },
      });
      await new Promise((res) => client.once('connect', res));
      clients.set(g, client);
    }
    expect(lb.connections().every((c) => c.open >= 1)).toBe(true);
    // Each gateway: a birth, an alarm, then data messages whose one reading's value is its seq.
    let killed = false;
    const sendAll = async (g: string, client: MqttClient) => {
      await client.publishAsync(
        `medtel/v1/bench/${g}/dev/pump-1/birth`,
        envelope(1, {
          type: 'infusion-pump',
          manufacturer: 'medtel simulated',
          model: 'MT-LVP-100',
          protocol: 'modbus-tcp',
          profile: 'medtel-mt-lvp-100',
          metrics: [],
        }),
        { qos: 1 },
      );
      const alarm = (seq: number) =>
        envelope(seq, {
          t: Date.now(),
          alarm: 'occlusion',
          code: 196940,
          refId: 'MDC_EVT_FLUID_LINE_OCCL',
          priority: 'high',
          phase: 'start',
          state: 'active',
          text: 'Line occlusion',
        });
      await client.publishAsync(`medtel/v1/bench/${g}/dev/pump-1/alarm`, alarm(2), { qos: 1 });
      for (let seq = 3; seq < MESSAGES + 3; seq++) {
        const reading = {
          metric: 'rate',
          code: 157784,
          refId: 'MDC_FLOW_FLUID_PUMP',
          unit: 'mL/h',
          unitCode: 265266,
          t: 1_000 * seq,
          value: seq,
          quality: 'good',
        };
        await client.publishAsync(`medtel/v1/bench/${g}/dev/pump-1/data`, envelope(seq, { clock: 'agent', readings: [reading] }), { qos: 1 });
        if (g === 'gw-1' && seq === Math.floor(MESSAGES / 2) && !killed) {
          killed = true;
          // Concurrent audited writes on both replicas, then one of them dies.
          await Promise.all(
            replicas.map((r, i) => api(r, 'PATCH', `/devices/gw-${i + 1}.pump-1`, { location: `ward ${i}`, reason: 'replica test' }, { 'if-match': '"1"' })),
          );
          replicas[0]?.proc.child.kill('SIGKILL');
        }
      }
      // The same alarm again after the move: the open alert continues, no second one.
      await client.publishAsync(`medtel/v1/bench/${g}/dev/pump-1/alarm`, alarm(MESSAGES + 3), { qos: 1 });
    };
    await Promise.all([...clients].map(([g, c]) => sendAll(g, c)));
    const survivor = replicas[1] as Replica;
    for (const g of GATEWAYS) {
      const values = await waitFor(`all readings of ${g}`, async () => {
        const res = await api(survivor, 'GET', `/devices/${g}.pump-1/telemetry?limit=${MESSAGES * 2}`);
        // GET …/telemetry answers { device, count, readings } (newest first).
        const readings = (res.body.readings ?? []) as Array<{ value: number }>;
        return readings.length >= MESSAGES ? readings.map((r) => r.value) : undefined;
      });
      expect(values.sort((x, y) => x - y)).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 3));
      const alerts = await api(survivor, 'GET', `/alerts?device=${g}.pump-1&source=device-alarm`);
      expect(alerts.body.total, `${g}: one occlusion alert`).toBe(1);
    }
    // In PostgreSQL itself: one received row per (gateway, seq), one reading per (device, seq), none missing.
    const db = new pgClient.Client(storeUrl);
    await db.connect();
    try {
      const received = await db.query(
        "SELECT gateway, count(*)::int AS n, count(DISTINCT seq)::int AS distinct FROM received WHERE kind = 'data' GROUP BY gateway ORDER BY gateway",
      );
      expect(received.rows).toEqual(GATEWAYS.map((gateway) => ({ gateway, n: MESSAGES, distinct: MESSAGES })));
      const readings = await db.query(
        'SELECT s.device_id AS device, count(*)::int AS n, count(DISTINCT r.seq)::int AS distinct FROM readings r JOIN series s ON s.id = r.series_id GROUP BY s.device_id ORDER BY s.device_id',
      );
      expect(readings.rows).toEqual(GATEWAYS.map((g) => ({ device: `${g}.pump-1`, n: MESSAGES, distinct: MESSAGES })));
    } finally {
      await db.end();
    }
    for (const c of clients.values()) await c.endAsync();
    const verify = startCli('collector', ['audit', 'verify', '--config', survivor.config], dir.path);
    expect(await verify.exited(), verify.output()).toBe(0);
  }, 240_000);
});
