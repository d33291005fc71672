import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { PROTOCOL_VERSION } from '@medtel/shared';

/**
 * Store-and-forward on the gateway. Every message is committed here before it
 * is published, and deleted only when the collector's PUBACK arrives (which the
 * collector sends only after its own commit), so a crash or a network cut at
 * any point loses nothing; the collector drops re-deliveries by (gateway, seq).
 *
 * `seq` is the row id, declared AUTOINCREMENT on purpose: plain rowids may be
 * reused once the table is emptied, and a reused seq would be dropped by the
 * collector as a duplicate.
 */

export type OutboxKind = 'birth' | 'status' | 'data' | 'alarm' | 'gap' | 'res';

export interface OutboxMessage {
  topic: string;
  kind: OutboxKind;
  device?: string;
  /** Payload without v, seq and sentAt, which are added when it is published. */
  body: Record<string, unknown>;
  retain?: boolean;
  /** Lower goes first (issue 3 adds priorities; 1 for everything today). */
  priority?: number;
}

export interface OutboxRow {
  seq: number;
  topic: string;
  kind: OutboxKind;
  body: string;
  retain: boolean;
  createdAt: number;
}

export interface OutboxStats {
  rows: number;
  bytes: number;
  oldestCreatedAt: number | null;
}

export class OutboxOpenError extends Error {
  override readonly name = 'OutboxOpenError';
}

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
];

export class Outbox {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly selectAfter: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly pendingAcks: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;

  private constructor(db: Database.Database) {
    this.db = db;
    this.insert = db.prepare('INSERT INTO outbox (topic, kind, device, body, retain, priority, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.selectAfter = db.prepare('SELECT seq, topic, kind, body, retain, created_at AS createdAt FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.remove = db.prepare('DELETE FROM outbox WHERE seq = ?');
  }

  /** Opens (creating if needed) the outbox file; a damaged file is reported, never deleted. */
  static open(file: string): Outbox {
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(file), { recursive: true });
      db = new Database(file, { timeout: 2000 });
      db.pragma('journal_mode = WAL');
      // FULL: a commit survives power loss, which the PUBACK contract relies on.
      db.pragma('synchronous = FULL');
      db.pragma('integrity_check(1)');
      migrate(db);
      return new Outbox(db);
    } catch (err) {
      db?.close();
      const code = (err as { code?: string }).code ?? '';
      const hint =
        code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
          ? 'the file is damaged; stop the agent, move the file aside (keep it for recovery) and start again'
          : code === 'SQLITE_BUSY'
            ? 'another process holds it; is a second agent running with the same stateDir?'
            : code === 'SQLITE_CANTOPEN' || code === 'EACCES'
              ? 'check that the directory exists and the service user may write to it'
              : (err as Error).message;
      throw new OutboxOpenError(`outbox ${file}: cannot open: ${hint}`);
    }
  }

  /** Commits messages in one transaction and returns their sequence numbers. */
  enqueue(messages: OutboxMessage[]): number[] {
    const now = Date.now();
    return this.db.transaction(() =>
      messages.map((m) => {
        const body = JSON.stringify(m.body);
        const info = this.insert.run(m.topic, m.kind, m.device ?? null, body, m.retain ? 1 : 0, m.priority ?? 1, Buffer.byteLength(body), now);
        return Number(info.lastInsertRowid);
      }),
    )();
  }

  /** Oldest messages after `afterSeq`, for publishing. */
  next(afterSeq: number, limit: number): OutboxRow[] {
    return (this.selectAfter.all(afterSeq, limit) as Array<Omit<OutboxRow, 'retain'> & { retain: number }>).map((r) => ({ ...r, retain: r.retain === 1 }));
  }

  /**
   * Marks a message delivered. Deletes are batched into one transaction per
   * event-loop turn: a crash before it runs only causes a re-delivery.
   */
  ack(seq: number): void {
    this.pendingAcks.push(seq);
    this.ackTimer ??= setImmediate(() => this.flushAcks());
  }

  flushAcks(): void {
    this.ackTimer = undefined;
    if (this.pendingAcks.length === 0 || !this.db.open) return;
    const seqs = this.pendingAcks.splice(0);
    this.db.transaction(() => {
      for (const seq of seqs) this.remove.run(seq);
    })();
  }

  stats(): OutboxStats {
    return this.db.prepare('SELECT count(*) AS rows, coalesce(sum(bytes), 0) AS bytes, min(created_at) AS oldestCreatedAt FROM outbox').get() as OutboxStats;
  }

  close(): void {
    if (this.ackTimer) clearImmediate(this.ackTimer);
    this.flushAcks();
    this.db.close();
  }
}

/** The payload on the wire: the stored body with version, seq and send time in front. */
export function buildPayload(row: Pick<OutboxRow, 'seq' | 'body'>, sentAt: number): string {
  const rest = row.body.length > 2 ? `,${row.body.slice(1)}` : '}';
  return `{"v":${PROTOCOL_VERSION},"seq":${row.seq},"sentAt":${sentAt}${rest}`;
}

function migrate(db: Database.Database): void {
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
