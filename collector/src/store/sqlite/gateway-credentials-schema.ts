/** Migration 9: gateway credentials (provisioning and revocation), managed by CLI and API instead of the config file. */
export const GATEWAY_CREDENTIALS_SCHEMA_SQL = `
  CREATE TABLE gateway_credentials (
    id TEXT PRIMARY KEY,
    site TEXT,
    auth TEXT NOT NULL CHECK (auth IN ('secret', 'certificate', 'both')),
    secret_hash TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1
  );
`;
