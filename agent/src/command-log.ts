import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** How long a request id is remembered after it was seen (MQTT re-delivery happens within a session or two). */
const KEEP_MS = 7 * 86_400_000;

/**
 * The request ids of commands this gateway has taken on, kept on disk so
 * that a command re-delivered by MQTT (QoS 1 is at-least-once, and a
 * persistent session re-sends after a reconnect or an agent restart) runs
 * once. A test that changes a device's state must never run twice because a
 * PUBACK was lost.
 */
export class CommandLog {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private lastPrune = 0;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file, { timeout: 2000 });
    this.db.pragma('journal_mode = WAL');
    // FULL: "seen" must be durable before the command runs, or a crash could run it twice.
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS commands_seen (request_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID');
    this.insert = this.db.prepare('INSERT OR IGNORE INTO commands_seen (request_id, seen_at) VALUES (?, ?)');
  }

  /** Records the id; true the first time it is seen, false for a re-delivery. */
  firstTime(requestId: string, now = Date.now()): boolean {
    if (now - this.lastPrune > 3_600_000) {
      this.lastPrune = now;
      this.db.prepare('DELETE FROM commands_seen WHERE seen_at < ?').run(now - KEEP_MS);
    }
    return this.insert.run(requestId, now).changes === 1;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
