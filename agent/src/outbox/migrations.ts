import type Database from 'better-sqlite3';

/** Versioned outbox schema; the applied version is SQLite's user_version. Never edit a released step. */
const MIGRATIONS: string[] = [
  `CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     topic TEXT NOT NULL,
     kind TEXT NOT NULL,
     device TEXT,
     body TEXT NOT NULL,
     retain INTEGER NOT NULL DEFAULT 0,
     priority INTEGER NOT NULL DEFAULT 1,
     bytes INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );`,
  // Priorities and limits: what a row holds (readings and their time range) so that an evicted
  // row can be reported precisely in a gap message, and an index to read by priority.
  `ALTER TABLE outbox ADD COLUMN readings INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE outbox ADD COLUMN t_from INTEGER;
   ALTER TABLE outbox ADD COLUMN t_to INTEGER;
   CREATE INDEX outbox_priority_seq ON outbox (priority, seq);`,
];

export function migrateOutbox(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw Object.assign(new Error(`outbox schema version ${version} is newer than this agent knows (${MIGRATIONS.length}); upgrade the agent`), {
      code: 'NEWER_SCHEMA',
    });
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
