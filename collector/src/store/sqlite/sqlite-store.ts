import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  Actor,
  AlarmRecord,
  DevicePatch,
  GapRecord,
  UpdateOutcome,
  ApplyOutcome,
  DeviceQuery,
  DeviceRecord,
  GatewayRecord,
  IngestItem,
  Store,
  AuditTrail,
  StoreCounts,
  TelemetryQuery,
  TelemetryRow,
} from '../store.js';
import { AuditLog } from '../../audit/audit-log.js';
import { SqliteHtmStore } from './htm-store.js';
import { SqliteDiagnostics } from './diagnostics.js';
import { SqliteGatewayCredentials } from './gateway-credentials.js';
import { SqliteAlertStore } from './alerts.js';
import { SqlitePhiStore } from './phi-store.js';
import { SqliteDiscovery } from './discovery.js';
import { migrate } from './migrations.js';
import { DEFAULT_CALENDAR, type SiteCalendar } from '../../htm/pm-schedule.js';
import { TelemetryTables } from './telemetry.js';
import { SqliteTrends } from './trends.js';
import { selectPage } from './paged.js';
import * as registry from '../shared/devices.js';

type Row = Record<string, unknown>;

/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL,
 * because a batch's commit is what lets PUBACKs go out (STACK-NOTES: in WAL,
 * NORMAL may lose the last commits on power loss). better-sqlite3 is
 * synchronous; the async interface is for other backends.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqliteStore['prepare']>;
  private readonly telemetry: TelemetryTables;
  private readonly auditLog: AuditLog;
  readonly audit: AuditTrail;
  readonly htm: SqliteHtmStore;
  readonly diagnostics: SqliteDiagnostics;
  readonly alerts: SqliteAlertStore;
  readonly phi: SqlitePhiStore;
  readonly gatewayCredentials: SqliteGatewayCredentials;
  readonly discovery: SqliteDiscovery;
  readonly trends: SqliteTrends;
  private readonly touched = new Map<string, { gateway: string; site: string; device: string; at: number }>();

  /** `calendar`: the site's time zone and on-time tolerances for HTM schedules. */
  constructor(file: string, options: { calendar?: SiteCalendar } = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    migrate(this.db);
    this.stmt = this.prepare();
    this.telemetry = new TelemetryTables(this.db);
    this.auditLog = new AuditLog(this.db);
    const log = this.auditLog;
    this.audit = { list: async (q) => log.list(q), verify: async () => log.verify(), head: async () => log.head() };
    this.htm = new SqliteHtmStore(this.db, this.auditLog, options.calendar ?? DEFAULT_CALENDAR);
    this.diagnostics = new SqliteDiagnostics(this.db, this.auditLog);
    this.alerts = new SqliteAlertStore(this.db, this.auditLog);
    this.phi = new SqlitePhiStore(this.db, this.auditLog);
    this.gatewayCredentials = new SqliteGatewayCredentials(this.db, this.auditLog);
    this.discovery = new SqliteDiscovery(this.db, this.auditLog, (id) => this.deviceById(id));
    this.trends = new SqliteTrends(this.db);
  }

  private prepare() {
    const db = this.db;
    return {
      received: db.prepare('INSERT OR IGNORE INTO received (gateway, seq, kind, received_at) VALUES (?, ?, ?, ?)'),
      touchDevice: db.prepare(
        `INSERT INTO devices (id, gateway, site, device, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
      ),
      birth: db.prepare(
        `INSERT INTO devices (id, gateway, site, device, type, device_code, manufacturer, model, serial, firmware, protocol, profile, metrics, diagnostics, approval, discovery, first_seen, last_seen)
         VALUES (@id, @gateway, @site, @device, @type, @deviceCode, @manufacturer, @model, @serial, @firmware, @protocol, @profile, @metrics, @diagnostics, @approval, @discovery, @at, @at)
         ON CONFLICT (id) DO UPDATE SET type = excluded.type, device_code = excluded.device_code, manufacturer = excluded.manufacturer,
           model = excluded.model, serial = excluded.serial, firmware = excluded.firmware, protocol = excluded.protocol,
           profile = excluded.profile, metrics = excluded.metrics, diagnostics = excluded.diagnostics, site = excluded.site, last_seen = max(last_seen, excluded.last_seen),
           discovery = coalesce(excluded.discovery, discovery), approval = CASE WHEN devices.profile IS NULL THEN excluded.approval ELSE devices.approval END`,
      ),
      status: db.prepare(
        `UPDATE devices SET status = ?, status_reason = ?, status_at = ?, last_seen = max(last_seen, ?) WHERE id = ? AND (status_at IS NULL OR status_at <= ?)`,
      ),
      alarm: db.prepare('INSERT INTO alarms (device_id, alarm, t, code, ref_id, priority, phase, state, text, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      gap: db.prepare('INSERT INTO gaps (device_id, from_t, to_t, count, kind, reason, seq, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      result: db.prepare('INSERT OR REPLACE INTO results (request_id, gateway, ok, result, error, received_at) VALUES (?, ?, ?, ?, ?, ?)'),
      gateway: db.prepare(
        `INSERT INTO gateways (id, site, state, agent_version, state_at, last_seen, outbox_rows, outbox_bytes, outbox_oldest_age_s, outbox_at)
         VALUES (@id, @site, @state, @agentVersion, @at, @receivedAt, @outboxRows, @outboxBytes, @outboxOldestAgeS, @outboxAt)
         ON CONFLICT (id) DO UPDATE SET site = excluded.site, state = excluded.state,
           agent_version = coalesce(excluded.agent_version, agent_version),
           -- The agent re-sends "online" periodically (with its backlog): state_at stays when the state began.
           state_at = CASE WHEN excluded.state = gateways.state THEN gateways.state_at ELSE excluded.state_at END,
           last_seen = excluded.last_seen,
           outbox_rows = coalesce(excluded.outbox_rows, outbox_rows), outbox_bytes = coalesce(excluded.outbox_bytes, outbox_bytes),
           outbox_oldest_age_s = coalesce(excluded.outbox_oldest_age_s, outbox_oldest_age_s), outbox_at = coalesce(excluded.outbox_at, outbox_at)
         WHERE excluded.state_at >= gateways.last_seen`,
      ),
      statusHistory: db.prepare('INSERT INTO device_status_history (device_id, t, status) VALUES (?, ?, ?)'),
      quarantine: db.prepare('INSERT INTO quarantine (gateway, topic, reason, payload, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?)'),
    };
  }

  async apply(items: IngestItem[]): Promise<ApplyOutcome[]> {
    try {
      this.touched.clear();
      return this.db.transaction(() => {
        const outcomes = items.map((item) => this.applyOne(item));
        // last_seen once per device per batch, not once per message.
        for (const [id, t] of this.touched) this.stmt.touchDevice.run(id, t.gateway, t.site, t.device, t.at, t.at);
        return outcomes;
      })();
    } catch (err) {
      this.telemetry.forgetUncommitted();
      this.discovery.forgetUncommitted();
      throw err;
    }
  }

  private applyOne(item: IngestItem): ApplyOutcome {
    const s = this.stmt;
    if (item.kind === 'quarantine') {
      s.quarantine.run(item.gateway, item.topic, item.reason, registry.keptPayload(item), item.payload.length, item.receivedAt);
      return 'stored';
    }
    if (item.kind === 'state') {
      // Session-level and idempotent: no seq (the will is composed at connect time).
      s.gateway.run(registry.gatewayStateRow(item));
      return 'stored';
    }
    if (item.kind === 'ports') {
      // Gateway-level, retained, idempotent: latest wins, like `state`.
      this.discovery.recordPorts(item.site, item.gateway, item.message, item.receivedAt);
      return 'stored';
    }
    const m = item.message;
    if (s.received.run(item.gateway, m.seq, item.kind, item.receivedAt).changes === 0) return 'duplicate';
    // The registry entry: the (gateway, device) key, or the entry the device had before it moved gateways.
    const id =
      item.kind === 'birth'
        ? this.discovery.fileBirth(item.site, item.gateway, item.message)
        : 'device' in m
          ? this.discovery.resolve(item.gateway, m.device)
          : undefined;
    if (id !== undefined) item.registryId = id;
    if ((item.kind === 'data' || item.kind === 'alarm') && this.discovery.isRejected(id as string)) return 'rejected_device';
    switch (item.kind) {
      case 'birth':
        s.birth.run(registry.birthRow(id, item));
        break;
      case 'status': {
        const st = item.message;
        s.touchDevice.run(id, item.gateway, item.site, st.device, item.receivedAt, item.receivedAt);
        s.status.run(...registry.statusArgs(id, item));
        s.statusHistory.run(id, st.t, st.status);
        break;
      }
      case 'data': {
        const d = item.message;
        this.touched.set(id as string, { gateway: item.gateway, site: item.site, device: d.device, at: item.receivedAt });
        this.telemetry.insertAll(id as string, d.readings, d.seq);
        this.phi.recordData(id as string, item.gateway, d, item.receivedAt);
        break;
      }
      case 'alarm':
        this.touched.set(id as string, { gateway: item.gateway, site: item.site, device: item.message.device, at: item.receivedAt });
        s.alarm.run(...registry.alarmArgs(id, item));
        break;
      case 'gap':
        s.gap.run(...registry.gapArgs(id, item));
        break;
      case 'res':
        s.result.run(...registry.resultArgs(item));
        break;
    }
    return 'stored';
  }

  async listDevices(q: DeviceQuery): Promise<{ items: DeviceRecord[]; total: number }> {
    const { rows, total } = selectPage(this.db, registry.deviceListing(q));
    return { items: rows.map(registry.toDevice), total };
  }

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    return this.deviceById(id);
  }

  async updateDevice(id: string, patch: DevicePatch, expectedVersion: number, actor: Actor, reason?: string): Promise<UpdateOutcome> {
    return this.db.transaction((): UpdateOutcome => {
      const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const change = registry.diffDevicePatch(row, patch);
      if (change.sets.length > 0) {
        this.db.prepare(`UPDATE devices SET ${change.sets.join(', ')}, version = version + 1 WHERE id = @id`).run({ ...change.encoded, id });
        this.auditLog.append(registry.deviceUpdateAudit(id, change, actor, reason));
      }
      return { ok: true, device: this.deviceById(id) as DeviceRecord };
    })();
  }

  private deviceById(id: string): DeviceRecord | undefined {
    const row = this.db.prepare(registry.DEVICE_BY_ID_SQL).get(id) as Row | undefined;
    return row ? registry.toDevice(row) : undefined;
  }

  async queryTelemetry(deviceId: string, q: TelemetryQuery): Promise<TelemetryRow[]> {
    return this.telemetry.query(deviceId, q);
  }

  async queryAlarms(deviceId: string, q: { from?: number; to?: number; limit: number }): Promise<AlarmRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT t, alarm, code, ref_id AS refId, priority, phase, state, text FROM alarms
         WHERE device_id = ? AND t >= ? AND t < ? ORDER BY t DESC, id DESC LIMIT ?`,
      )
      .all(deviceId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit) as AlarmRecord[];
    return rows;
  }

  async queryGaps(deviceId: string, q: { from?: number; to?: number; limit: number }): Promise<GapRecord[]> {
    // A gap overlaps [from, to) if it starts before `to` and ends at or after `from`.
    return this.db
      .prepare(
        `SELECT from_t AS "from", to_t AS "to", count, kind, reason, received_at AS receivedAt FROM gaps
         WHERE device_id = ? AND from_t < ? AND to_t >= ? ORDER BY from_t DESC, id DESC LIMIT ?`,
      )
      .all(deviceId, q.to ?? Number.MAX_SAFE_INTEGER, q.from ?? 0, q.limit) as GapRecord[];
  }

  async listGateways(): Promise<GatewayRecord[]> {
    const rows = this.db.prepare('SELECT * FROM gateways ORDER BY id').all() as Row[];
    return rows.map(registry.toGateway);
  }

  async counts(): Promise<StoreCounts> {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      readings: one('SELECT count(*) AS n FROM readings'),
      messages: one('SELECT count(*) AS n FROM received'),
      quarantined: one('SELECT count(*) AS n FROM quarantine'),
    };
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
