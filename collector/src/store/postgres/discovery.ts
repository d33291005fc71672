import type pg from 'pg';
import { deviceKey, type DeviceBirthMessage, type PortsMessage } from '@medtel/shared';
import type { ApprovalBinding, ApprovalOutcome, DiscoveryStore, GatewayDiscoverySummary, GatewayPortsRecord } from '../discovery-store.js';
import type { Actor, DeviceRecord } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, type Row, all, one, run, tx } from './pg-db.js';

const SYSTEM = { actor: 'collector', role: 'system' } as const;

/** What one ingest batch knows about its devices: aliases and rejected entries, read once per batch from the tables (no cache: another replica may have decided). */
export interface BatchDevices {
  aliases: Map<string, string>;
  rejected: Set<string>;
}

/** Plug and play in PostgreSQL (see ../sqlite/discovery.ts for the rules); the ingest side runs on PgStore.apply's transaction. */
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
    if (row && (row.gateway !== gateway || row.device !== b.device || row.site !== site)) {
      await run(c, 'UPDATE devices SET gateway = ?, site = ?, device = ? WHERE id = ?', [gateway, site, b.device, id]);
      await this.audit.append(c, {
        ...SYSTEM,
        action: 'device:move',
        objectType: 'device',
        objectId: id,
        oldValue: { gateway: row.gateway, site: row.site, device: row.device },
        newValue: { gateway, site, device: b.device },
        reason: `born on gateway ${gateway} as "${b.device}" with the same manufacturer, model and serial (${b.serial ?? 'none'})`,
      });
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
    return this.decide(id, expectedVersion, actor, (row) => {
      if (row.approval === 'approved') return `device ${id} is already approved; edit its asset tag, location or department with PATCH /devices/{id}`;
      return {
        action: 'device:approve',
        set: { approval: 'approved', asset_tag: binding.assetTag, location: binding.location, department: binding.department },
        oldValue: { approval: row.approval, assetTag: row.asset_tag, location: row.location, department: row.department },
        newValue: { approval: 'approved', assetTag: binding.assetTag, location: binding.location, department: binding.department },
        note: binding.note ?? null,
      };
    });
  }

  async reject(id: string, reason: string, expectedVersion: number, actor: Actor): Promise<ApprovalOutcome> {
    return this.decide(id, expectedVersion, actor, (row) => {
      if (row.approval === 'rejected') return `device ${id} is already rejected; approve it instead if it belongs here`;
      if (row.approval === 'approved')
        return `device ${id} is approved; only devices awaiting approval can be rejected (take it out of use with PATCH /devices/{id} lifecycle)`;
      return { action: 'device:reject', set: { approval: 'rejected' }, oldValue: { approval: row.approval }, newValue: { approval: 'rejected' }, note: reason };
    });
  }

  private async decide(
    id: string,
    expectedVersion: number,
    actor: Actor,
    plan: (row: Row) => string | { action: string; set: Record<string, unknown>; oldValue: unknown; newValue: unknown; note: string | null },
  ): Promise<ApprovalOutcome> {
    return tx(this.pool, async (c): Promise<ApprovalOutcome> => {
      const row = await one(c, 'SELECT id, gateway, site, device, approval, version, asset_tag, location, department FROM devices WHERE id = ? FOR UPDATE', [
        id,
      ]);
      if (!row) return { ok: false, reason: 'not_found' };
      const change = plan(row);
      if (typeof change === 'string') return { ok: false, reason: 'conflict', message: change };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const sets = Object.keys(change.set).map((column) => `${column} = @${column}`);
      await run(c, `UPDATE devices SET ${sets.join(', ')}, approval_by = @by, approval_at = @at, approval_note = @note, version = version + 1 WHERE id = @id`, {
        ...change.set,
        by: actor.sub,
        at: this.now(),
        note: change.note,
        id,
      });
      await this.audit.append(c, {
        actor: actor.sub,
        role: actor.role,
        action: change.action,
        objectType: 'device',
        objectId: id,
        oldValue: change.oldValue,
        newValue: change.newValue,
        reason: change.note,
      });
      return { ok: true, device: (await this.readDevice(c, id)) as DeviceRecord };
    });
  }

  async ports(gateway: string): Promise<GatewayPortsRecord | undefined> {
    const r = await one(this.pool, 'SELECT * FROM gateway_ports WHERE gateway = ?', [gateway]);
    if (!r) return undefined;
    return {
      gateway: r.gateway as string,
      site: r.site as string,
      sentAt: r.sent_at as number,
      receivedAt: r.received_at as number,
      ports: JSON.parse(r.ports as string),
    };
  }

  async summary(): Promise<Map<string, GatewayDiscoverySummary>> {
    const out = new Map<string, GatewayDiscoverySummary>();
    const entry = (gateway: string) => {
      let s = out.get(gateway);
      if (!s) {
        s = { pendingDevices: 0, unidentifiedPorts: 0 };
        out.set(gateway, s);
      }
      return s;
    };
    for (const r of await all<{ gateway: string; n: number }>(
      this.pool,
      `SELECT gateway, count(*) AS n FROM devices WHERE approval = 'pending' GROUP BY gateway`,
    ))
      entry(r.gateway).pendingDevices = r.n;
    for (const r of await all<{ gateway: string; n: number }>(
      this.pool,
      `SELECT p.gateway, count(*) AS n FROM gateway_ports p, jsonb_array_elements(p.ports::jsonb) e
       WHERE e->>'state' = 'unidentified' GROUP BY p.gateway`,
    ))
      entry(r.gateway).unidentifiedPorts = r.n;
    return out;
  }

  async pendingCount(): Promise<number> {
    return (await one<{ n: number }>(this.pool, `SELECT count(*) AS n FROM devices WHERE approval = 'pending'`))?.n ?? 0;
  }
}
