/**
 * Migration 10: plug and play. Devices get an approval state; rows that exist
 * before it were configured by someone, so they become `approved`. A device
 * identified by the agent keeps how it was found (JSON DiscoveryInfo). An
 * alias maps a (gateway, device) key a device was born under after moving
 * gateways to the registry entry it already had. Each gateway's latest
 * `ports` report is kept as received.
 */
export const DISCOVERY_SCHEMA_SQL = `
  ALTER TABLE devices ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved';
  ALTER TABLE devices ADD COLUMN discovery TEXT;
  ALTER TABLE devices ADD COLUMN approval_by TEXT;
  ALTER TABLE devices ADD COLUMN approval_at INTEGER;
  ALTER TABLE devices ADD COLUMN approval_note TEXT;
  CREATE INDEX devices_approval ON devices (approval);
  CREATE INDEX devices_identity ON devices (model, serial);
  CREATE TABLE device_aliases (
    key TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE gateway_ports (
    gateway TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    ports TEXT NOT NULL
  );
`;
