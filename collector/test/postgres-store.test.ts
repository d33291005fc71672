import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore, type IngestItem } from '../dist/index.js';
import { startTestPostgres, type TestPostgres } from '../../test/postgres-server.js';
import { discoveryContract } from './discovery-contract.js';
import { gatewayCredentialContract } from './gateway-credential-contract.js';
import { storeContract } from './store-contract.js';
import { startTestCollector } from './collector-fixture.js';
import { ROOT, tempDir, waitFor } from '../../test/helpers.js';

const execFileAsync = promisify(execFile);

/**
 * The Store contract suites, run against a real PostgreSQL 15 (a throw-away
 * cluster, a fresh database per test), plus what only a shared database
 * has to get right: one audit chain under concurrent writers, migrations
 * under a lock, day partitions, retention and rollups.
 */
let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
}, 120_000);
afterAll(() => server?.remove());

const open = async () => {
  const url = await server.database();
  return { store: await PgStore.open({ url, poolSize: 4 }), reopen: async () => PgStore.open({ url, poolSize: 4 }) };
};

describe('PostgreSQL store', () => {
  storeContract('PostgreSQL 15', open);
  discoveryContract('PostgreSQL 15', open);
  gatewayCredentialContract('PostgreSQL 15', open);

  it('keeps one audit chain when two replicas (two pools) append at once', async () => {
    const url = await server.database();
    // Both start together: the migration lock lets one create the schema, the other finds it done.
    const [a, b] = await Promise.all([PgStore.open({ url, poolSize: 4 }), PgStore.open({ url, poolSize: 4 })]);
    await a.apply([birth('gw-1', 'pump-1', 1)]);
    const edits = Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? a : b).alerts.createRule(
        { name: `r${i}`, scope: { type: 'infusion-pump' }, metric: 'rate', condition: { kind: 'above', limit: i }, priority: 'low', text: 't', enabled: true },
        { sub: `user-${i}`, role: 'admin' },
      ),
    );
    await Promise.all(edits);
    const verified = await b.audit.verify();
    expect(verified).toMatchObject({ ok: true, entries: 20 });
    expect((await a.audit.head()).seq).toBe(20);
    await a.close();
    await b.close();
  });

  it('de-duplicates by (gateway, seq) across replicas', async () => {
    const url = await server.database();
    const a = await PgStore.open({ url });
    const b = await PgStore.open({ url });
    const msg = data('gw-1', 'pump-1', 7, [{ t: Date.UTC(2026, 0, 1), v: 1 }]);
    const outcomes = await Promise.all([a.apply([msg]), b.apply([msg])]);
    expect(outcomes.flat().sort()).toEqual(['duplicate', 'stored']);
    expect((await a.counts()).readings).toBe(1);
    await a.close();
    await b.close();
  });

  it('files readings of any age into day partitions, drops whole old days, keeps minute rollups for trends', async () => {
    const { store } = await open();
    const pg = store as PgStore;
    const day = 86_400_000;
    const now = Date.UTC(2026, 5, 15, 12);
    const old = now - 400 * day; // after an outbox drain readings can be this old: its partition is made on demand
    const minute = Date.UTC(2026, 5, 15, 10, 0);
    await pg.apply([
      data('gw-1', 'pump-1', 1, [
        { t: old, v: 5 },
        { t: minute + 1_000, v: 10 },
        { t: minute + 30_000, v: 20 },
        { t: minute + 61_000, v: 40 },
      ]),
    ]);
    const names = (await pg.partitions.list()).map((p) => p.name);
    expect(names).toContain('readings_p20250511');
    expect(names).toContain('readings_p20260615');
    // Aligned whole-minute buckets come from the rollups; the same answer as from the readings.
    const trend = await pg.trends.trend('gw-1.pump-1', { metric: 'rate', from: minute, to: minute + 2 * 60_000, buckets: 2 });
    expect(trend.buckets).toEqual([
      { t: minute, min: 10, max: 20, avg: 15, count: 2 },
      { t: minute + 60_000, min: 40, max: 40, avg: 40, count: 1 },
    ]);
    const raw = await pg.trends.trend('gw-1.pump-1', { metric: 'rate', from: minute + 1, to: minute + 120_001, buckets: 2 });
    expect(raw.buckets.map((b) => b.count)).toEqual([2, 1]);
    // Retention of 365 days: the old day's partition goes, whole; recent readings stay.
    const dropped = await pg.partitions.retain(now - 365 * day, null);
    expect(dropped).toContain('readings_p20250511');
    expect((await pg.queryTelemetry('gw-1.pump-1', { limit: 10 })).map((r) => r.value)).toEqual([40, 20, 10]);
    // A reading for the dropped day arriving later gets its partition back.
    expect(await pg.apply([data('gw-1', 'pump-1', 2, [{ t: old + 1, v: 6 }])])).toEqual(['stored']);
    await pg.close();
  });
});

function birth(gateway: string, device: string, seq: number): IngestItem {
  return {
    site: 'bench',
    gateway,
    receivedAt: 1_000,
    kind: 'birth',
    message: {
      v: 1,
      seq,
      sentAt: 1,
      device,
      type: 'infusion-pump',
      manufacturer: 'm',
      model: 'MT-LVP-100',
      protocol: 'modbus-tcp',
      profile: 'p',
      metrics: [{ metric: 'rate' }],
    },
  };
}

function data(gateway: string, device: string, seq: number, readings: Array<{ t: number; v: number }>): IngestItem {
  return {
    site: 'bench',
    gateway,
    receivedAt: Date.now(),
    kind: 'data',
    message: {
      v: 1,
      seq,
      sentAt: 1,
      device,
      clock: 'agent',
      readings: readings.map((r) => ({ metric: 'rate', unit: 'mL/h', t: r.t, value: r.v, quality: 'good' as const })),
    },
  };
}

describe('collector on PostgreSQL', () => {
  it('is not ready while PostgreSQL is down and recovers by itself; pool metrics are exported', async () => {
    // Its own cluster: this test stops it.
    const own = await startTestPostgres();
    const url = await own.database();
    const collector = await startTestCollector({
      configure: (c) => {
        c.store.url = url;
        c.store.poolSize = 3;
      },
    });
    const readyz = async () => (await collector.api.inject({ method: 'GET', url: '/readyz' })).statusCode;
    try {
      expect(await readyz()).toBe(200);
      expect(collector.log()).toContain(`postgres://postgres@127.0.0.1:${own.port}/`);
      const metrics = (await collector.api.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^medtel_store_pool_connections\{[^}]*\} [1-3]$/m);
      expect(metrics).toMatch(/^medtel_store_pool_waiting_requests\{[^}]*\} \d+$/m);
      own.stop();
      await waitFor('readyz 503 with PostgreSQL down', async () => ((await readyz()) === 503 ? true : undefined), 30_000, 200);
      own.start();
      await waitFor('readyz 200 once PostgreSQL is back', async () => ((await readyz()) === 200 ? true : undefined), 30_000, 200);
      // And it stores again: the API reads through the pool's new connections.
      expect(
        (await collector.api.inject({ method: 'GET', url: '/api/v1/devices', headers: { authorization: `Bearer ${await collector.token('viewer')}` } }))
          .statusCode,
      ).toBe(200);
    } finally {
      await collector.close();
      own.remove();
    }
  }, 90_000);
});

describe('medtel-collector migrate', () => {
  it('migrates PostgreSQL from the short config form; two at once do not race', async () => {
    const url = await server.database();
    const dir = tempDir();
    try {
      const file = join(dir.path, 'collector.yaml');
      writeFileSync(file, `store: ${url}\n`);
      const migrate = () => execFileAsync(process.execPath, [join(ROOT, 'collector/dist/cli.js'), 'migrate', '-c', file]);
      const [a, b] = await Promise.all([migrate(), migrate()]);
      expect(a.stdout).toContain('store migrated: postgres://');
      expect(b.stdout).toContain('store migrated');
      const client = new pg.Client(url);
      await client.connect();
      const rows = (await client.query('SELECT version FROM schema_migrations')).rows;
      await client.end();
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      dir.remove();
    }
  });
});
