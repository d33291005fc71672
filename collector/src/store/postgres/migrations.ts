import type pg from 'pg';
import { PG_V1_SCHEMA_SQL } from './migrations/v1-schema.js';
import { LOCKS } from './pg-db.js';

/**
 * Versioned schema changes for PostgreSQL, in order; the applied versions
 * are rows of `schema_migrations`. Never edit a released migration: add the
 * next one (its SQL in its own file under migrations/).
 */
export const PG_MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'registry, telemetry (partitioned by day) with minute rollups, audit, HTM, alerts, diagnostics, PHI, credentials, discovery',
    sql: PG_V1_SCHEMA_SQL,
  },
];

/**
 * Applies what is missing, each version in its own transaction, under a
 * session advisory lock: replicas starting together wait for the first one
 * and then find nothing left to do. Returns the schema version.
 */
export async function migratePostgres(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCKS.migrate]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const latest = PG_MIGRATIONS.at(-1)?.version ?? 0;
      const newest = Math.max(0, ...applied);
      if (newest > latest) throw new Error(`database schema version ${newest} is newer than this collector (${latest}); upgrade the collector`);
      for (const m of PG_MIGRATIONS) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
        }
      }
      return latest;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCKS.migrate]);
    }
  } finally {
    client.release();
  }
}
