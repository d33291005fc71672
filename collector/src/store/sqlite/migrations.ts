import type Database from 'better-sqlite3';
import { AUDIT_SCHEMA_SQL } from '../../audit/schema.js';
import { HTM_SCHEMA_SQL } from './htm-schema.js';
import { ALERTS_SCHEMA_SQL } from './alerts-schema.js';
import { DIAGNOSTICS_SCHEMA_SQL } from './diagnostics-schema.js';
import { PHI_SCHEMA_SQL } from './phi-schema.js';
import { GATEWAY_CREDENTIALS_SCHEMA_SQL } from './gateway-credentials-schema.js';
import { DISCOVERY_SCHEMA_SQL } from './discovery-schema.js';
import { GATEWAY_OUTBOX_SCHEMA_SQL } from './gateway-outbox-schema.js';

/**
 * Versioned schema changes, applied in order at open; the applied version is
 * SQLite's user_version. Never edit a released migration: add the next one.
 */
export const MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'registry, telemetry, dedupe, quarantine',
    sql: `
      CREATE TABLE gateways (
        id TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        state TEXT NOT NULL,
        agent_version TEXT,
        state_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
      );
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        gateway TEXT NOT NULL,
        site TEXT NOT NULL,
        device TEXT NOT NULL,
        type TEXT, device_code INTEGER, manufacturer TEXT, model TEXT, serial TEXT, firmware TEXT,
        protocol TEXT, profile TEXT, metrics TEXT NOT NULL DEFAULT '[]',
        status TEXT, status_reason TEXT, status_at INTEGER,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
      );
      CREATE INDEX devices_gateway ON devices (gateway);
      -- One row per message accepted from a gateway: the (gateway, seq) key drops re-deliveries.
      CREATE TABLE received (
        gateway TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (gateway, seq)
      ) WITHOUT ROWID;
      -- A series is one metric of one device with its codes and unit; readings point at it,
      -- so a reading row holds only time, value, quality and seq (storage and insert cost).
      CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        code INTEGER, ref_id TEXT, unit TEXT, unit_code INTEGER,
        descriptor TEXT NOT NULL UNIQUE
      );
      CREATE INDEX series_device_metric ON series (device_id, metric);
      -- kind: 0 null, 1 number, 2 text, 3 boolean. quality: 0 good, 1 questionable, 2 bad.
      CREATE TABLE readings (
        series_id INTEGER NOT NULL,
        t INTEGER NOT NULL,
        value_num REAL, value_text TEXT,
        kind INTEGER NOT NULL,
        quality INTEGER NOT NULL,
        seq INTEGER NOT NULL
      );
      CREATE INDEX readings_series_t ON readings (series_id, t);
      CREATE TABLE alarms (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL, alarm TEXT NOT NULL, t INTEGER NOT NULL,
        code INTEGER, ref_id TEXT, priority TEXT NOT NULL, phase TEXT NOT NULL, state TEXT NOT NULL, text TEXT NOT NULL,
        seq INTEGER NOT NULL
      );
      CREATE INDEX alarms_device_t ON alarms (device_id, t);
      CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL, from_t INTEGER NOT NULL, to_t INTEGER NOT NULL, count INTEGER NOT NULL, reason TEXT NOT NULL,
        seq INTEGER NOT NULL, received_at INTEGER NOT NULL
      );
      CREATE TABLE results (
        request_id TEXT PRIMARY KEY,
        gateway TEXT NOT NULL, ok INTEGER NOT NULL, result TEXT, error TEXT, received_at INTEGER NOT NULL
      );
      -- Payloads that failed validation, kept for diagnosis (never logged).
      CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        gateway TEXT NOT NULL, topic TEXT NOT NULL, reason TEXT NOT NULL, payload BLOB, bytes INTEGER NOT NULL,
        received_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'gap kind (readings or messages) and lookup by device',
    sql: `
      ALTER TABLE gaps ADD COLUMN kind TEXT NOT NULL DEFAULT 'data';
      CREATE INDEX gaps_device_from ON gaps (device_id, from_t);
    `,
  },
  { version: 3, name: 'hash-chained audit trail', sql: AUDIT_SCHEMA_SQL },
  {
    version: 4,
    name: 'registry fields people edit, with a version for optimistic concurrency',
    sql: `
      ALTER TABLE devices ADD COLUMN asset_tag TEXT;
      ALTER TABLE devices ADD COLUMN location TEXT;
      ALTER TABLE devices ADD COLUMN department TEXT;
      ALTER TABLE devices ADD COLUMN lifecycle TEXT NOT NULL DEFAULT 'active';
      ALTER TABLE devices ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    `,
  },
  { version: 5, name: 'healthcare technology management: asset fields, calibrations, PM, work orders, status history', sql: HTM_SCHEMA_SQL },
  { version: 6, name: 'alert rules and alerts', sql: ALERTS_SCHEMA_SQL },
  { version: 7, name: 'diagnostic requests; tests announced in births', sql: DIAGNOSTICS_SCHEMA_SQL },
  { version: 8, name: 'sealed PHI envelopes and pseudonymous subject spans', sql: PHI_SCHEMA_SQL },
  { version: 9, name: 'gateway credentials: provisioning and revocation', sql: GATEWAY_CREDENTIALS_SCHEMA_SQL },
  { version: 10, name: 'plug and play: approval of discovered devices, moves between gateways, port reports', sql: DISCOVERY_SCHEMA_SQL },
  { version: 11, name: "gateways' outbox backlog from their state messages", sql: GATEWAY_OUTBOX_SCHEMA_SQL },
];

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) throw new Error(`database schema version ${current} is newer than this collector (${latest}); upgrade the collector`);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return latest;
}
