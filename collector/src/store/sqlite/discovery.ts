import type Database from 'better-sqlite3';
import { deviceKey, type DeviceBirthMessage, type PortsMessage } from '@medtel/shared';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ApprovalBinding, ApprovalOutcome, DiscoveryStore, GatewayDiscoverySummary, GatewayPortsRecord } from '../discovery-store.js';
import * as rules from '../shared/discovery.js';
import type { Actor, DeviceRecord } from '../store.js';

type Row = Record<string, unknown>;

/**
 * Plug and play in SQLite: approval decisions through the API, and, called
 * from SqliteStore.apply inside its batch transaction, the ingest side:
 * which registry entry a (gateway, device) is filed under, moves between
 * gateways, rejected devices, port reports. The rules are in
 * ../shared/discovery.ts.
 *
 * Two caches keep the per-message cost at a Map lookup: aliases (key ->
 * registry id) and the ids of rejected devices. Both are rebuilt from the
 * tables when a batch rolls back.
 */
export class SqliteDiscovery implements DiscoveryStore {
  private readonly aliases = new Map<string, string>();
  private readonly rejected = new Set<string>();
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly readDevice: (id: string) => DeviceRecord | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.stmt = {
      row: db.prepare('SELECT id, gateway, site, device, approval, version, asset_tag, location, department FROM devices WHERE id = ?'),
      sameIdentity: db.prepare(`SELECT id FROM devices WHERE serial = ? AND model = ? AND manufacturer IS ? AND id != ? ORDER BY first_seen, id LIMIT 1`),
      alias: db.prepare('INSERT OR REPLACE INTO device_aliases (key, device_id, created_at) VALUES (?, ?, ?)'),
      move: db.prepare('UPDATE devices SET gateway = ?, site = ?, device = ? WHERE id = ?'),
      ports: db.prepare(
        `INSERT INTO gateway_ports (gateway, site, sent_at, received_at, ports) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (gateway) DO UPDATE SET site = excluded.site, sent_at = excluded.sent_at, received_at = excluded.received_at, ports = excluded.ports
         WHERE excluded.received_at >= gateway_ports.received_at`,
      ),
    };
    this.reload();
  }

  private reload(): void {
    this.aliases.clear();
    this.rejected.clear();
    for (const r of this.db.prepare('SELECT key, device_id FROM device_aliases').all() as Array<{ key: string; device_id: string }>)
      this.aliases.set(r.key, r.device_id);
    for (const r of this.db.prepare(`SELECT id FROM devices WHERE approval = 'rejected'`).all() as Array<{ id: string }>) this.rejected.add(r.id);
  }

  /** If the batch transaction rolled back, aliases created in it are gone: forget them. */
  forgetUncommitted(): void {
    this.reload();
  }

  /** The registry id messages of `device` on `gateway` are filed under. */
  resolve(gateway: string, device: string): string {
    const key = deviceKey(gateway, device);
    return this.aliases.get(key) ?? key;
  }

  /** Data and alarms of a rejected device are acknowledged and counted, not stored. */
  isRejected(id: string): boolean {
    return this.rejected.has(id);
  }

  /**
   * The registry id a birth is filed under. A birth under a key the registry
   * does not know, carrying a serial, is matched by (manufacturer, model,
   * serial) to an existing entry: the device was moved to another gateway,
   * and keeps its entry (HTM records, approval, asset tag) through an alias.
   * Whenever the entry's current gateway/device differ from the birth's, they
   * are updated and the move is audited (actor: system).
   */
  fileBirth(site: string, gateway: string, b: DeviceBirthMessage): string {
    const key = deviceKey(gateway, b.device);
    let id = this.aliases.get(key);
    if (id === undefined && b.serial !== undefined && !this.stmt.row.get(key)) {
      const match = this.stmt.sameIdentity.get(b.serial, b.model, b.manufacturer, key) as { id: string } | undefined;
      if (match) {
        this.stmt.alias.run(key, match.id, this.now());
        this.aliases.set(key, match.id);
        id = match.id;
      }
    }
    id ??= key;
    const row = this.stmt.row.get(id) as Row | undefined;
    if (row && rules.hasMoved(row, site, gateway, b)) {
      this.stmt.move.run(gateway, site, b.device, id);
      this.audit.append(rules.moveAudit(id, row, site, gateway, b));
    }
    return id;
  }

  /** Latest wins, ordered by when the collector received it (like `state`: no seq). */
  recordPorts(site: string, gateway: string, m: PortsMessage, receivedAt: number): void {
    this.stmt.ports.run(gateway, site, m.sentAt, receivedAt, JSON.stringify(m.ports));
  }

  async approve(id: string, binding: ApprovalBinding, expectedVersion: number, actor: Actor): Promise<ApprovalOutcome> {
    return this.decide(id, expectedVersion, actor, rules.approvalPlan(id, binding));
  }

  async reject(id: string, reason: string, expectedVersion: number, actor: Actor): Promise<ApprovalOutcome> {
    return this.decide(id, expectedVersion, actor, rules.rejectionPlan(id, reason));
  }

  /**
   * One decision in one transaction: the state check, the version check, the
   * update and its audit entry. `plan` returns a conflict message or what to change.
   */
  private async decide(id: string, expectedVersion: number, actor: Actor, plan: rules.DecisionPlan): Promise<ApprovalOutcome> {
    const outcome = this.db.transaction((): ApprovalOutcome => {
      const row = this.stmt.row.get(id) as Row | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      const change = plan(row);
      if (typeof change === 'string') return { ok: false, reason: 'conflict', message: change };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const update = rules.decisionUpdate(id, change, actor, this.now());
      this.db.prepare(update.sql).run(update.args);
      this.audit.append(rules.decisionAudit(id, change, actor));
      return { ok: true, device: this.readDevice(id) as DeviceRecord };
    })();
    // After the commit: the caches follow only what is durable.
    if (outcome.ok) {
      if (outcome.device.approval === 'rejected') this.rejected.add(id);
      else this.rejected.delete(id);
    }
    return outcome;
  }

  async ports(gateway: string): Promise<GatewayPortsRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM gateway_ports WHERE gateway = ?').get(gateway) as Row | undefined;
    return r ? rules.toPortsRecord(r) : undefined;
  }

  async summary(): Promise<Map<string, GatewayDiscoverySummary>> {
    const pending = this.db.prepare(`SELECT gateway, count(*) AS n FROM devices WHERE approval = 'pending' GROUP BY gateway`).all() as Array<{
      gateway: string;
      n: number;
    }>;
    const unidentified = this.db
      .prepare(
        `SELECT p.gateway, count(*) AS n FROM gateway_ports p, json_each(p.ports) e
         WHERE json_extract(e.value, '$.state') = 'unidentified' GROUP BY p.gateway`,
      )
      .all() as Array<{ gateway: string; n: number }>;
    return rules.discoverySummary(pending, unidentified);
  }

  async pendingCount(): Promise<number> {
    return (this.db.prepare(`SELECT count(*) AS n FROM devices WHERE approval = 'pending'`).get() as { n: number }).n;
  }
}
