/**
 * Migration 11: each gateway's outbox backlog as its last `online` state
 * reported it (docs/dashboard.md). Null until a gateway that reports it
 * connects; kept while it is offline (then it is the backlog at its last report).
 */
export const GATEWAY_OUTBOX_SCHEMA_SQL = `
  ALTER TABLE gateways ADD COLUMN outbox_rows INTEGER;
  ALTER TABLE gateways ADD COLUMN outbox_bytes INTEGER;
  ALTER TABLE gateways ADD COLUMN outbox_oldest_age_s REAL;
  ALTER TABLE gateways ADD COLUMN outbox_at INTEGER;
`;
