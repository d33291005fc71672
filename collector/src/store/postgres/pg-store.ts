import type pg from 'pg';
import type {
  Actor,
  AlarmRecord,
  ApplyOutcome,
  DevicePatch,
  DeviceQuery,
  DeviceRecord,
  GapRecord,
  GatewayRecord,
  IngestItem,
  Store,
  StoreCounts,
  TelemetryQuery,
  TelemetryRow,
  UpdateOutcome,
} from '../store.js';
import { deviceKey } from '@medtel/shared';
import { DEFAULT_CALENDAR, type SiteCalendar } from '../../htm/pm-schedule.js';
import * as registry from '../shared/devices.js';
import { PgAlertStore } from './alerts.js';
import { PgAuditLog } from './audit.js';
import { PgDiagnostics } from './diagnostics.js';
import { type BatchDevices, PgDiscovery } from './discovery.js';
import { PgGatewayCredentials } from './gateway-credentials.js';
import { PgHtmStore } from './htm-store.js';
import { migratePostgres } from './migrations.js';
import { Partitions } from './partitions.js';
import { type PgOptions, type Queryable, all, createPool, one, run, tx } from './pg-db.js';
import { PgPhiStore } from './phi-store.js';
import { selectPage } from './paged.js';
import { PgSeries, ReadingBatch, queryTelemetry } from './telemetry.js';
import { PgTrends } from './trends.js';

/** "no partition of relation found for row": another replica's retention dropped a partition this one remembered. */
const NO_PARTITION = '23514';

/**
 * The PostgreSQL store: the same Store contract as SQLite, for several
 * collector replicas sharing one database (docs/postgresql.md). Open with
 * `await PgStore.open(...)` (it migrates under an advisory lock). A batch is
 * one transaction: de-duplication by the (gateway, seq) primary key of
 * `received` (INSERT … ON CONFLICT DO NOTHING, so it holds across
 * replicas), readings in one multi-row INSERT into day partitions.
 */
export class PgStore implements Store {
  readonly audit: PgAuditLog;
  readonly htm: PgHtmStore;
  readonly diagnostics: PgDiagnostics;
  readonly alerts: PgAlertStore;
  readonly phi: PgPhiStore;
  readonly gatewayCredentials: PgGatewayCredentials;
  readonly discovery: PgDiscovery;
  readonly trends: PgTrends;
  readonly partitions: Partitions;
  private readonly series = new PgSeries();
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    calendar: SiteCalendar,
  ) {
    this.audit = new PgAuditLog(pool);
    this.htm = new PgHtmStore(pool, this.audit, calendar);
    this.diagnostics = new PgDiagnostics(pool, this.audit);
    this.alerts = new PgAlertStore(pool, this.audit);
    this.phi = new PgPhiStore(pool, this.audit);
    this.gatewayCredentials = new PgGatewayCredentials(pool, this.audit);
    this.discovery = new PgDiscovery(pool, this.audit, (db, id) => deviceById(db, id));
    this.trends = new PgTrends(pool);
    this.partitions = new Partitions(pool);
  }

  static async open(options: PgOptions & { calendar?: SiteCalendar; migrate?: boolean }): Promise<PgStore> {
    const pool = createPool(options);
    try {
      if (options.migrate !== false) await migratePostgres(pool);
      const store = new PgStore(pool, options.calendar ?? DEFAULT_CALENDAR);
      await store.partitions.createAhead(Date.now());
      return store;
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  async apply(items: IngestItem[]): Promise<ApplyOutcome[]> {
    try {
      return await this.applyOnce(items);
    } catch (err) {
      if ((err as { code?: string }).code !== NO_PARTITION) throw err;
      this.partitions.forget();
      return this.applyOnce(items);
    }
  }

  private async applyOnce(items: IngestItem[]): Promise<ApplyOutcome[]> {
    const times: number[] = [];
    for (const item of items) if (item.kind === 'data') for (const r of item.message.readings) times.push(r.t);
    await this.partitions.ensureFor(times);
    try {
      const outcomes = await tx(this.pool, (c) => this.applyIn(c, items));
      this.series.committed();
      return outcomes;
    } catch (err) {
      this.series.rolledBack();
      throw err;
    }
  }

  private async applyIn(c: pg.PoolClient, items: IngestItem[]): Promise<ApplyOutcome[]> {
    // De-duplication for the whole batch in one statement; within the batch the first copy wins.
    const keyed = items.filter((i) => i.kind !== 'quarantine' && i.kind !== 'state' && i.kind !== 'ports') as Array<IngestItem & { message: { seq: number } }>;
    const fresh = new Set<string>();
    if (keyed.length > 0) {
      const rows = await all<{ gateway: string; seq: number }>(
        c,
        `INSERT INTO received (gateway, seq, kind, received_at) SELECT * FROM unnest(?::text[], ?::bigint[], ?::text[], ?::bigint[])
         ON CONFLICT DO NOTHING RETURNING gateway, seq`,
        [keyed.map((i) => i.gateway), keyed.map((i) => i.message.seq), keyed.map((i) => i.kind), keyed.map((i) => i.receivedAt)],
      );
      for (const r of rows) fresh.add(`${r.gateway}\u0000${r.seq}`);
    }
    const keys = keyed.filter((i) => 'device' in i.message).map((i) => deviceKey(i.gateway, (i.message as { device: string }).device));
    const devices = await this.discovery.loadBatch(c, [...new Set(keys)]);
    const readings = new ReadingBatch();
    const touched = new Map<string, { gateway: string; site: string; device: string; at: number }>();
    const outcomes: ApplyOutcome[] = [];
    for (const item of items) {
      if (item.kind !== 'quarantine' && item.kind !== 'state' && item.kind !== 'ports') {
        const key = `${item.gateway}\u0000${item.message.seq}`;
        if (!fresh.delete(key)) {
          outcomes.push('duplicate');
          continue;
        }
      }
      outcomes.push(await this.applyOne(c, devices, readings, touched, item));
    }
    await readings.write(c, this.series);
    // last_seen once per device per batch, not once per message; in id order (row locks, replicas).
    for (const [id, t] of [...touched.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) await touchDevice(c, id, t.gateway, t.site, t.device, t.at);
    return outcomes;
  }

  private async applyOne(
    c: Queryable,
    devices: BatchDevices,
    readings: ReadingBatch,
    touched: Map<string, { gateway: string; site: string; device: string; at: number }>,
    item: IngestItem,
  ): Promise<ApplyOutcome> {
    if (item.kind === 'quarantine') {
      await run(c, 'INSERT INTO quarantine (gateway, topic, reason, payload, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?)', [
        item.gateway,
        item.topic,
        item.reason,
        registry.keptPayload(item),
        item.payload.length,
        item.receivedAt,
      ]);
      return 'stored';
    }
    if (item.kind === 'state') {
      await run(
        c,
        `INSERT INTO gateways AS g (id, site, state, agent_version, state_at, last_seen, outbox_rows, outbox_bytes, outbox_oldest_age_s, outbox_at)
         VALUES (@id, @site, @state, @agentVersion, @at, @at, @outboxRows, @outboxBytes, @outboxOldestAgeS, @outboxAt)
         ON CONFLICT (id) DO UPDATE SET site = EXCLUDED.site, state = EXCLUDED.state,
           agent_version = coalesce(EXCLUDED.agent_version, g.agent_version),
           state_at = CASE WHEN EXCLUDED.state = g.state THEN g.state_at ELSE EXCLUDED.state_at END,
           last_seen = EXCLUDED.last_seen,
           outbox_rows = coalesce(EXCLUDED.outbox_rows, g.outbox_rows), outbox_bytes = coalesce(EXCLUDED.outbox_bytes, g.outbox_bytes),
           outbox_oldest_age_s = coalesce(EXCLUDED.outbox_oldest_age_s, g.outbox_oldest_age_s), outbox_at = coalesce(EXCLUDED.outbox_at, g.outbox_at)
         WHERE EXCLUDED.state_at >= g.last_seen`,
        registry.gatewayStateRow(item),
      );
      return 'stored';
    }
    if (item.kind === 'ports') {
      await this.discovery.recordPorts(c, item.site, item.gateway, item.message, item.receivedAt);
      return 'stored';
    }
    const m = item.message;
    const id =
      item.kind === 'birth'
        ? await this.discovery.fileBirth(c, devices, item.site, item.gateway, item.message)
        : 'device' in m
          ? this.discovery.resolve(devices, item.gateway, m.device)
          : undefined;
    if (id !== undefined) item.registryId = id;
    if ((item.kind === 'data' || item.kind === 'alarm') && devices.rejected.has(id as string)) return 'rejected_device';
    switch (item.kind) {
      case 'birth': {
        await run(
          c,
          `INSERT INTO devices AS d (id, gateway, site, device, type, device_code, manufacturer, model, serial, firmware, protocol, profile, metrics, diagnostics, approval, discovery, first_seen, last_seen)
           VALUES (@id, @gateway, @site, @device, @type, @deviceCode, @manufacturer, @model, @serial, @firmware, @protocol, @profile, @metrics, @diagnostics, @approval, @discovery, @at, @at)
           ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, device_code = EXCLUDED.device_code, manufacturer = EXCLUDED.manufacturer,
             model = EXCLUDED.model, serial = EXCLUDED.serial, firmware = EXCLUDED.firmware, protocol = EXCLUDED.protocol,
             profile = EXCLUDED.profile, metrics = EXCLUDED.metrics, diagnostics = EXCLUDED.diagnostics, site = EXCLUDED.site,
             last_seen = greatest(d.last_seen, EXCLUDED.last_seen),
             discovery = coalesce(EXCLUDED.discovery, d.discovery), approval = CASE WHEN d.profile IS NULL THEN EXCLUDED.approval ELSE d.approval END`,
          registry.birthRow(id, item),
        );
        break;
      }
      case 'status': {
        const st = item.message;
        await touchDevice(c, id as string, item.gateway, item.site, st.device, item.receivedAt);
        await run(
          c,
          'UPDATE devices SET status = ?, status_reason = ?, status_at = ?, last_seen = greatest(last_seen, ?) WHERE id = ? AND (status_at IS NULL OR status_at <= ?)',
          registry.statusArgs(id, item),
        );
        await run(c, 'INSERT INTO device_status_history (device_id, t, status) VALUES (?, ?, ?)', [id, st.t, st.status]);
        break;
      }
      case 'data': {
        const d = item.message;
        touched.set(id as string, { gateway: item.gateway, site: item.site, device: d.device, at: item.receivedAt });
        for (const r of d.readings) readings.add(id as string, r, d.seq);
        await this.phi.recordData(c, id as string, item.gateway, d, item.receivedAt);
        break;
      }
      case 'alarm': {
        touched.set(id as string, { gateway: item.gateway, site: item.site, device: item.message.device, at: item.receivedAt });
        await run(
          c,
          'INSERT INTO alarms (device_id, alarm, t, code, ref_id, priority, phase, state, text, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          registry.alarmArgs(id, item),
        );
        break;
      }
      case 'gap':
        await run(
          c,
          'INSERT INTO gaps (device_id, from_t, to_t, count, kind, reason, seq, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          registry.gapArgs(id, item),
        );
        break;
      case 'res':
        await run(
          c,
          `INSERT INTO results (request_id, gateway, ok, result, error, received_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (request_id) DO UPDATE SET gateway = EXCLUDED.gateway, ok = EXCLUDED.ok, result = EXCLUDED.result, error = EXCLUDED.error, received_at = EXCLUDED.received_at`,
          registry.resultArgs(item),
        );
        break;
    }
    return 'stored';
  }

  async listDevices(q: DeviceQuery): Promise<{ items: DeviceRecord[]; total: number }> {
    const { rows, total } = await selectPage(this.pool, registry.deviceListing(q));
    return { items: rows.map(registry.toDevice), total };
  }

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    return deviceById(this.pool, id);
  }

  async updateDevice(id: string, patch: DevicePatch, expectedVersion: number, actor: Actor, reason?: string): Promise<UpdateOutcome> {
    return tx(this.pool, async (c): Promise<UpdateOutcome> => {
      const row = await one(c, 'SELECT * FROM devices WHERE id = ? FOR UPDATE', [id]);
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const change = registry.diffDevicePatch(row, patch);
      if (change.sets.length > 0) {
        await run(c, `UPDATE devices SET ${change.sets.join(', ')}, version = version + 1 WHERE id = @id`, { ...change.encoded, id });
        await this.audit.append(c, registry.deviceUpdateAudit(id, change, actor, reason));
      }
      return { ok: true, device: (await deviceById(c, id)) as DeviceRecord };
    });
  }

  async queryTelemetry(deviceId: string, q: TelemetryQuery): Promise<TelemetryRow[]> {
    return queryTelemetry(this.pool, deviceId, q);
  }

  async queryAlarms(deviceId: string, q: { from?: number; to?: number; limit: number }): Promise<AlarmRecord[]> {
    return all<AlarmRecord>(
      this.pool,
      `SELECT t, alarm, code, ref_id AS "refId", priority, phase, state, text FROM alarms
       WHERE device_id = ? AND t >= ? AND t < ? ORDER BY t DESC, id DESC LIMIT ?`,
      [deviceId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit],
    );
  }

  async queryGaps(deviceId: string, q: { from?: number; to?: number; limit: number }): Promise<GapRecord[]> {
    return all<GapRecord>(
      this.pool,
      `SELECT from_t AS "from", to_t AS "to", count, kind, reason, received_at AS "receivedAt" FROM gaps
       WHERE device_id = ? AND from_t < ? AND to_t >= ? ORDER BY from_t DESC, id DESC LIMIT ?`,
      [deviceId, q.to ?? Number.MAX_SAFE_INTEGER, q.from ?? 0, q.limit],
    );
  }

  async listGateways(): Promise<GatewayRecord[]> {
    const rows = await all(this.pool, 'SELECT * FROM gateways ORDER BY id');
    return rows.map(registry.toGateway);
  }

  async counts(): Promise<StoreCounts> {
    const row = await one<StoreCounts>(
      this.pool,
      'SELECT (SELECT count(*) FROM readings) AS readings, (SELECT count(*) FROM received) AS messages, (SELECT count(*) FROM quarantine) AS quarantined',
    );
    return row as StoreCounts;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** Pool usage for the metrics (medtel_store_pool_*). */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

async function touchDevice(c: Queryable, id: string, gateway: string, site: string, device: string, at: number): Promise<void> {
  await run(
    c,
    `INSERT INTO devices AS d (id, gateway, site, device, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET last_seen = greatest(d.last_seen, EXCLUDED.last_seen)`,
    [id, gateway, site, device, at, at],
  );
}

async function deviceById(db: Queryable, id: string): Promise<DeviceRecord | undefined> {
  const row = await one(db, registry.DEVICE_BY_ID_SQL, [id]);
  return row ? registry.toDevice(row) : undefined;
}
