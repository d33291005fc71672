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
import { ASSET_CODECS, toAssetFields } from './device-asset-columns.js';
import { SqliteHtmStore } from './htm-store.js';
import { SqliteDiagnostics } from './diagnostics.js';
import { SqliteGatewayCredentials } from './gateway-credentials.js';
import { SqliteAlertStore } from './alerts.js';
import { SqlitePhiStore } from './phi-store.js';
import { SqliteDiscovery, toApprovalFields } from './discovery.js';
import { migrate } from './migrations.js';
import { DEFAULT_CALENDAR, type SiteCalendar } from '../../htm/pm-schedule.js';
import { TelemetryTables } from './telemetry.js';
import { SqliteTrends } from './trends.js';
import { selectPage, where } from './paged.js';

/** Quarantined payloads are kept up to this size (enough to diagnose, bounded on disk). */
const QUARANTINE_KEEP_BYTES = 64 * 1024;

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
      const kept = item.payload.subarray(0, QUARANTINE_KEEP_BYTES);
      s.quarantine.run(item.gateway, item.topic, item.reason, kept, item.payload.length, item.receivedAt);
      return 'stored';
    }
    if (item.kind === 'state') {
      // Session-level and idempotent: no seq (the will is composed at connect time).
      const m = item.message;
      // Ordered by when the collector received it, not by the payload's sentAt: a last will is
      // composed when the agent connects, before that session's "online", yet it means "offline now".
      s.gateway.run({
        id: item.gateway,
        site: item.site,
        state: m.state,
        agentVersion: m.agentVersion ?? null,
        at: item.receivedAt,
        receivedAt: item.receivedAt,
        outboxRows: m.outbox?.rows ?? null,
        outboxBytes: m.outbox?.bytes ?? null,
        outboxOldestAgeS: m.outbox?.oldestAgeSeconds ?? null,
        outboxAt: m.outbox ? item.receivedAt : null,
      });
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
      case 'birth': {
        const b = item.message;
        s.birth.run({
          id,
          gateway: item.gateway,
          site: item.site,
          device: b.device,
          type: b.type,
          deviceCode: b.deviceCode ?? null,
          manufacturer: b.manufacturer,
          model: b.model,
          serial: b.serial ?? null,
          firmware: b.firmware ?? null,
          protocol: b.protocol,
          profile: b.profile,
          metrics: JSON.stringify(b.metrics),
          diagnostics: JSON.stringify(b.diagnostics ?? []),
          // Configured on its gateway: someone decided already. Identified by the agent: awaiting approval.
          approval: b.discovery ? 'pending' : 'approved',
          discovery: b.discovery ? JSON.stringify(b.discovery) : null,
          at: item.receivedAt,
        });
        break;
      }
      case 'status': {
        const st = item.message;
        s.touchDevice.run(id, item.gateway, item.site, st.device, item.receivedAt, item.receivedAt);
        s.status.run(st.status, st.reason ?? null, st.t, item.receivedAt, id, st.t);
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
      case 'alarm': {
        const a = item.message;
        this.touched.set(id as string, { gateway: item.gateway, site: item.site, device: a.device, at: item.receivedAt });
        s.alarm.run(id, a.alarm, a.t, a.code ?? null, a.refId ?? null, a.priority, a.phase, a.state, a.text, a.seq);
        break;
      }
      case 'gap': {
        const g = item.message;
        s.gap.run(id, g.from, g.to, g.count, g.kind ?? 'data', g.reason, g.seq, item.receivedAt);
        break;
      }
      case 'res': {
        const r = item.message;
        s.result.run(r.requestId, item.gateway, r.ok ? 1 : 0, r.result === undefined ? null : JSON.stringify(r.result), r.error ?? null, item.receivedAt);
        break;
      }
    }
    return 'stored';
  }

  async listDevices(q: DeviceQuery): Promise<{ items: DeviceRecord[]; total: number }> {
    // An empty filter (`?gateway=`) filters nothing.
    const given = (value: string | undefined) => (value === '' ? undefined : value);
    const filter = where([
      ['d.gateway = ?', given(q.gateway)],
      ['d.type = ?', given(q.type)],
      ['d.status = ?', given(q.status)],
      ['d.lifecycle = ?', given(q.lifecycle)],
      ['d.location = ?', given(q.location)],
      ['d.department = ?', given(q.department)],
      ['d.approval = ?', given(q.approval)],
      ['d.high_risk = ?', q.highRisk === undefined ? undefined : Number(q.highRisk)],
      ['d.life_support = ?', q.lifeSupport === undefined ? undefined : Number(q.lifeSupport)],
    ]);
    const { rows, total } = selectPage(this.db, {
      columns: 'd.*, g.state AS gateway_state',
      from: 'devices d LEFT JOIN gateways g ON g.id = d.gateway',
      where: filter,
      orderBy: 'd.id',
      limit: q.limit,
      offset: q.offset,
    });
    return { items: rows.map(toDevice), total };
  }

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    return this.deviceById(id);
  }

  async updateDevice(id: string, patch: DevicePatch, expectedVersion: number, actor: Actor, reason?: string): Promise<UpdateOutcome> {
    return this.db.transaction((): UpdateOutcome => {
      const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const oldValue: Record<string, unknown> = {};
      const newValue: Record<string, unknown> = {};
      const encoded: Record<string, unknown> = {};
      for (const [field, codec] of Object.entries(DEVICE_CODECS)) {
        const value = patch[field as keyof DevicePatch];
        if (value === undefined) continue;
        const stored = codec.encode(value);
        if (stored === row[codec.column]) continue;
        oldValue[field] = codec.decode(row[codec.column]);
        newValue[field] = value;
        encoded[field] = stored;
      }
      if (Object.keys(newValue).length > 0) {
        const sets = Object.keys(encoded).map((f) => `${DEVICE_CODECS[f as keyof DevicePatch].column} = @${f}`);
        this.db.prepare(`UPDATE devices SET ${sets.join(', ')}, version = version + 1 WHERE id = @id`).run({ ...encoded, id });
        this.auditLog.append({
          actor: actor.sub,
          role: actor.role,
          action: 'device:update',
          objectType: 'device',
          objectId: id,
          oldValue,
          newValue,
          reason: reason ?? null,
        });
      }
      return { ok: true, device: this.deviceById(id) as DeviceRecord };
    })();
  }

  private deviceById(id: string): DeviceRecord | undefined {
    const row = this.db.prepare('SELECT d.*, g.state AS gateway_state FROM devices d LEFT JOIN gateways g ON g.id = d.gateway WHERE d.id = ?').get(id) as
      | Row
      | undefined;
    return row ? toDevice(row) : undefined;
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
    return rows.map((r) => ({
      id: r.id as string,
      site: r.site as string,
      state: r.state as string,
      agentVersion: r.agent_version as string | null,
      stateAt: r.state_at as number,
      lastSeen: r.last_seen as number,
      outbox:
        r.outbox_at === null || r.outbox_at === undefined
          ? null
          : { rows: r.outbox_rows as number, bytes: r.outbox_bytes as number, oldestAgeSeconds: r.outbox_oldest_age_s as number, at: r.outbox_at as number },
    }));
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

/** AND-joins the conditions whose value is given; returns the SQL and its arguments in order. */
const same = (column: string) => ({ column, encode: (v: unknown) => v ?? null, decode: (r: unknown) => r ?? null });

/** Every field PATCH /devices/{id} may change, with its column. */
export const DEVICE_CODECS = {
  assetTag: same('asset_tag'),
  location: same('location'),
  department: same('department'),
  lifecycle: same('lifecycle'),
  ...ASSET_CODECS,
} satisfies Record<keyof DevicePatch, unknown>;

export function toDevice(r: Row): DeviceRecord {
  return {
    ...toAssetFields(r),
    ...toApprovalFields(r),
    id: r.id as string,
    gateway: r.gateway as string,
    site: r.site as string,
    device: r.device as string,
    type: r.type as string | null,
    deviceCode: r.device_code as number | null,
    manufacturer: r.manufacturer as string | null,
    model: r.model as string | null,
    serial: r.serial as string | null,
    firmware: r.firmware as string | null,
    protocol: r.protocol as string | null,
    profile: r.profile as string | null,
    metrics: JSON.parse(r.metrics as string),
    diagnostics: JSON.parse((r.diagnostics as string | undefined) ?? '[]'),
    status: r.status as string | null,
    statusReason: r.status_reason as string | null,
    statusAt: r.status_at as number | null,
    firstSeen: r.first_seen as number,
    lastSeen: r.last_seen as number,
    gatewayState: (r.gateway_state as string | null) ?? null,
    assetTag: r.asset_tag as string | null,
    location: r.location as string | null,
    department: r.department as string | null,
    lifecycle: r.lifecycle as string,
    version: r.version as number,
  };
}
