import type Database from 'better-sqlite3';

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The audit tables. Idempotent (IF NOT EXISTS, INSERT OR IGNORE), so it can
 * run inside a versioned store migration and again at every open.
 *
 * `audit_head` is a one-row table holding the seq and hash of the last entry,
 * moved in the same transaction as each append: without it, deleting the last
 * entries would leave a shorter chain that is still perfectly consistent.
 *
 * The triggers are defence in depth against mistakes and casual edits; they
 * do not stop someone who can write the file (they can drop them), which is
 * why AuditLog.verify() does not rely on them.
 */
export const AUDIT_SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS audit_object ON audit (object_type, object_id, seq);
  CREATE INDEX IF NOT EXISTS audit_actor ON audit (actor, seq);
  CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
  CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
  );
  INSERT OR IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');

  CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit is append-only: UPDATE refused'); END;
  CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit is append-only: DELETE refused'); END;
  -- Only the next entry, chained to the head, may be inserted.
  CREATE TRIGGER IF NOT EXISTS audit_insert_at_head BEFORE INSERT ON audit
  WHEN NEW.seq IS NOT (SELECT seq + 1 FROM audit_head WHERE id = 1) OR NEW.prev_hash IS NOT (SELECT hash FROM audit_head WHERE id = 1)
  BEGIN SELECT RAISE(ABORT, 'audit: an entry must follow the chain head'); END;
  -- The head only moves one entry forward, onto an entry that exists.
  CREATE TRIGGER IF NOT EXISTS audit_head_forward BEFORE UPDATE ON audit_head
  WHEN NEW.id IS NOT 1 OR NEW.seq IS NOT OLD.seq + 1 OR NEW.hash IS NOT (SELECT hash FROM audit WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ABORT, 'audit head only moves forward with the log'); END;
  CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head
  BEGIN SELECT RAISE(ABORT, 'audit head cannot be deleted'); END;
`;

/** Creates the audit tables and triggers if missing. Call from the store's migrations. */
export function migrateAudit(db: Database.Database): void {
  // All or nothing; inside the store's migration transaction it becomes a savepoint.
  db.transaction(() => db.exec(AUDIT_SCHEMA_SQL))();
}
