/** Migration 7: diagnostic requests, and the tests each device announces in its birth. */
export const DIAGNOSTICS_SCHEMA_SQL = `
  ALTER TABLE devices ADD COLUMN diagnostics TEXT NOT NULL DEFAULT '[]';
  CREATE TABLE diagnostics (
    request_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    gateway TEXT NOT NULL,
    test TEXT NOT NULL,
    args TEXT,
    reason TEXT,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    timeout_ms INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    state TEXT NOT NULL,
    ok INTEGER,
    result TEXT,
    error TEXT,
    completed_at INTEGER,
    late_result TEXT
  );
  CREATE INDEX diagnostics_device ON diagnostics (device_id, requested_at);
  CREATE INDEX diagnostics_pending ON diagnostics (state, deadline);
`;
