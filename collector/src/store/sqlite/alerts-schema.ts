/** Migration 6: alert rules and alerts (see ../alert-store.ts). */
export const ALERTS_SCHEMA_SQL = `
  CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- The rule as written (scope, metric, condition...), JSON: evaluated in memory, never queried by field.
    body TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    source TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    rule_id INTEGER,
    device_id TEXT,
    gateway TEXT,
    metric TEXT,
    value REAL,
    priority TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    cleared_at INTEGER,
    hold_off_ms INTEGER NOT NULL,
    ack_by TEXT, ack_role TEXT, ack_at INTEGER, ack_note TEXT,
    resolved_at INTEGER, resolved_by TEXT, resolved_role TEXT, resolve_note TEXT,
    version INTEGER NOT NULL DEFAULT 1
  );
  -- De-duplication: at most one open alert per key, enforced by the database as well as the service.
  CREATE UNIQUE INDEX alerts_open_key ON alerts (key) WHERE state != 'resolved';
  CREATE INDEX alerts_state_raised ON alerts (state, raised_at);
  CREATE INDEX alerts_device_raised ON alerts (device_id, raised_at);
`;
