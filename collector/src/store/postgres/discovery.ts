import type pg from 'pg';
import { deviceKey, type DeviceBirthMessage, type PortsMessage } from '@medtel/shared';
import type { ApprovalBinding, ApprovalOutcome, DiscoveryStore, GatewayDiscoverySummary, GatewayPortsRecord } from '../discovery-store.js';
import * as rules from '../shared/discovery.js';
import type { Actor, DeviceRecord } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, all, one, run, tx } from './pg-db.js';

/** What one ingest batch knows about its devices: aliases and rejected entries, read once per batch from the tables (no cache: another replica may have decided). */
export interface BatchDevices {
  aliases: Map<string, string>;
  rejected: Set<string>;
}

/** Plug and play in PostgreSQL (rules in ../shared/discovery.ts); the ingest side runs on PgStore.apply's transaction. */
export class PgDiscovery implements DiscoveryStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly readDevice: (db: Queryable, id: string) => Promise<DeviceRecord | undefined>,
    private readonly now: () => number = Date.now,
  ) {}

  async loadBatch(c: Queryable, keys: string[]): Promise<BatchDevices> {
    const aliases = new Map<string, string>();
    const rejected = new Set<string>();
    if (keys.length === 0) return { aliases, rejected };
    for (const r of await all<{ key: string; device_id: string }>(c, 'SELECT key, device_id FROM device_aliases WHERE key = ANY(?)', [keys]))
      aliases.set(r.key, r.device_id);
    const ids = keys.map((k) => aliases.get(k) ?? k);
    for (const r of await all<{ id: string }>(c, `SELECT id FROM devices WHERE approval = 'rejected' AND id = ANY(?)`, [ids])) rejected.add(r.id);
    return { aliases, rejected };
  }

  resolve(batch: BatchDevices, gateway: string, device: string): string {
    const key = deviceKey(gateway, device);
    return batch.aliases.get(key) ?? key;
  }

  async fileBirth(c: Queryable, batch: BatchDevices, site: string, gateway: string, b: DeviceBirthMessage): Promise<string> {
    const key = deviceKey(gateway, b.device);
    let id = batch.aliases.get(key);
    if (id === undefined && b.serial !== undefined && !(await one(c, 'SELECT 1 FROM devices WHERE id = ?', [key]))) {
      const match = await one<{ id: string }>(
        c,
        'SELECT id FROM devices WHERE serial = ? AND model = ? AND manufacturer IS NOT DISTINCT FROM ? AND id <> ? ORDER BY first_seen, id LIMIT 1',
        [b.serial, b.model, b.manufacturer ?? null, key],
      );
      if (match) {
        await run(
          c,
          'INSERT INTO device_aliases (key, device_id, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET device_id = EXCLUDED.device_id, created_at = EXCLUDED.created_at',
          [key, match.id, this.now()],
        );
        batch.aliases.set(key, match.id);
        id = match.id;
      }
    }
    id ??= key;
    const row = await one(c, 'SELECT gateway, site, device FROM devices WHERE id = ?', [id]);
    if (row && rules.hasMoved(row, site, gateway, b)) {
      await run(c, 'UPDATE devices SET gateway = ?, site = ?, device = ? WHERE id = ?', [gateway, site, b.device, id]);
      await this.audit.append(c, rules.moveAudit(id, row, site, gateway, b));
    }
    return id;
  }

  async recordPorts(c: Queryable, site: string, gateway: string, m: PortsMessage, receivedAt: number): Promise<void> {
    await run(
      c,
      `INSERT INTO gateway_ports AS gp (gateway, site, sent_at, received_at, ports) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (gateway) DO UPDATE SET site = EXCLUDED.site, sent_at = EXCLUDED.sent_at, received_at = EXCLUDED.received_at, ports = EXCLUDED.ports
       WHERE EXCLUDED.received_at >= gp.received_at`,
      [gateway, site, m.sentAt, receivedAt, JSON.stringify(m.ports)],
    );
  }

  async approve(id: string, binding: ApprovalBinding, expectedVersion: number, actor: Actor): Promise<ApprovalOutcome> {
    return this.decide(id, expectedVersion, actor, rules.approvalPlan(id, binding));
  }

  async reject(id: string, reason: string, expectedVersion: number, actor: Actor): Promise<ApprovalOutcome> {
    return this.decide(id, expectedVersion, actor, rules.rejectionPlan(id, reason));
  }

  private async decide(id: string, expectedVersion: number, actor: Actor, plan: rules.DecisionPlan): Promise<ApprovalOutcome> {
    return tx(this.pool, async (c): Promise<ApprovalOutcome> => {
      const row = await one(c, 'SELECT id, gateway, site, device, approval, version, asset_tag, location, department FROM devices WHERE id = ? FOR UPDATE', [
        id,
      ]);
      if (!row) return { ok: false, reason: 'not_found' };
      const change = plan(row);
      if (typeof change === 'string') return { ok: false, reason: 'conflict', message: change };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const update = rules.decisionUpdate(id, change, actor, this.now());
      await run(c, update.sql, update.args);
      await this.audit.append(c, rules.decisionAudit(id, change, actor));
      return { ok: true, device: (await this.readDevice(c, id)) as DeviceRecord };
    });
  }

  async ports(gateway: string): Promise<GatewayPortsRecord | undefined> {
    const r = await one(this.pool, 'SELECT * FROM gateway_ports WHERE gateway = ?', [gateway]);
    return r ? rules.toPortsRecord(r) : undefined;
  }

  async summary(): Promise<Map<string, GatewayDiscoverySummary>> {
    const pending = await all<{ gateway: string; n: number }>(
      this.pool,
      `SELECT gateway, count(*) AS n FROM devices WHERE approval = 'pending' GROUP BY gateway`,
    );
    const unidentified = await all<{ gateway: string; n: number }>(
      this.pool,
      `SELECT p.gateway, count(*) AS n FROM gateway_ports p, jsonb_array_elements(p.ports::jsonb) e
       WHERE e->>'state' = 'unidentified' GROUP BY p.gateway`,
    );
    return rules.discoverySummary(pending, unidentified);
  }

  async pendingCount(): Promise<number> {
    return (await one<{ n: number }>(this.pool, `SELECT count(*) AS n FROM devices WHERE approval = 'pending'`))?.n ?? 0;
  }
}
