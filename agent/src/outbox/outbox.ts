import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { topics } from '@medtel/shared';
import { GapTally, type GapBody } from './gaps.js';
import { StateLock } from './lock.js';
import { migrateOutbox } from './migrations.js';

/**
 * Store-and-forward on the gateway. Every message is committed here before it
 * is published, and deleted only when the collector's PUBACK arrives (sent
 * only after the collector's own commit), so a crash or a network cut at any
 * point loses nothing; the collector drops re-deliveries by (gateway, seq).
 *
 * - `seq` is the row id, AUTOINCREMENT on purpose: plain rowids may be reused
 *   once the table is emptied, and a reused seq would be dropped as a duplicate.
 * - Group commit: messages are buffered for at most `commitIntervalMs` and
 *   committed in one transaction; alarms, statuses and results are committed
 *   at once (next event-loop turn).
 * - Priorities: claim() hands out priority 0 (alarms, status, births, gaps,
 *   command results) before priority 1 (telemetry), each in seq order.
 * - Limits: past `maxBytes` the oldest unsent telemetry is evicted first, other
 *   kinds only when no telemetry is left; past `maxAgeMs` rows are evicted too.
 *   Whatever is evicted is reported in `gap` messages.
 */

export type OutboxKind = 'birth' | 'status' | 'data' | 'alarm' | 'gap' | 'res';

export interface OutboxMessage {
  topic: string;
  kind: OutboxKind;
  device?: string;
  /** Payload without v, seq and sentAt, which are added when it is published. */
  body: Record<string, unknown>;
  retain?: boolean;
  /** For data: how many readings and their time range (reported if evicted). */
  readings?: { count: number; from: number; to: number };
  /**
   * Fields sealed for this row's seq (the PHI envelope binds gateway, device and
   * seq), merged into the body inside the insert transaction. Whatever it closes
   * over stays in memory; only its sealed result is written.
   */
  seal?: (seq: number) => Record<string, unknown>;
  /** Told once the row is committed (its seq) or could not be (tracing ends its commit span here). */
  onStored?: (result: { seq: number } | { error: Error }) => void;
}

export interface OutboxRow {
  seq: number;
  topic: string;
  kind: OutboxKind;
  body: string;
  retain: boolean;
  priority: number;
  bytes: number;
  createdAt: number;
}

export interface OutboxStats {
  rows: number;
  bytes: number;
  oldestCreatedAt: number | null;
  byKind: Record<string, number>;
}

export interface OutboxOptions {
  /** Where gap messages go: `medtel/v1/{site}/{gateway}/gap`. */
  site: string;
  gateway: string;
  maxBytes?: number;
  maxAgeMs?: number;
  commitIntervalMs?: number;
  /** Hold the state directory's lock (the running agent); off for read-only CLI use. */
  exclusive?: boolean;
  readonly?: boolean;
  /** Told after each commit (the uplink publishes) and on every drop (metrics, logs). */
  onCommit?: () => void;
  onDrop?: (reason: DropReason, kind: string, messages: number, readings: number) => void;
  /** The outbox became unwritable (once per episode; `undefined` when writes succeed again). */
  onWriteError?: (message: string | undefined) => void;
  /** Told of each gap message written (to log what was dropped, once per device and kind). */
  onGaps?: (gaps: GapBody[]) => void;
}

export type DropReason = 'max_bytes' | 'max_age' | 'purged' | 'write_error';

/** What eviction and purge need to know of a row to report it. */
interface DroppableRow {
  seq: number;
  kind: string;
  device: string | null;
  bytes: number;
  readings: number;
  tFrom: number;
  tTo: number;
  createdAt: number;
}

export class OutboxOpenError extends Error {
  override readonly name = 'OutboxOpenError';
}

/** Telemetry is priority 1; everything a person or the registry acts on goes first. */
export const PRIORITY: Record<OutboxKind, number> = { alarm: 0, status: 0, birth: 0, gap: 0, res: 0, data: 1 };
const PRIORITIES = [0, 1] as const;
/** Pending messages that force a commit before the interval ends. */
const MAX_PENDING = 2000;
/** Eviction frees down to this share of maxBytes, so it does not run on every commit. */
const LOW_WATER = 0.9;

export class Outbox {
  private readonly db: Database.Database;
  private readonly lock: StateLock | undefined;
  private readonly stmts: ReturnType<Outbox['prepare']>;
  private readonly cursors = [0, 0];
  private readonly claimed = new Map<number, number>();
  private pending: OutboxMessage[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushSoon: NodeJS.Immediate | undefined;
  private readonly acks: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;
  private bytes = 0;
  private rows = 0;
  /** Drops not yet reported (a failed write cannot be reported in the same transaction). */
  private readonly unreported = new GapTally();
  private failure: string | undefined;

  private constructor(
    db: Database.Database,
    lock: StateLock | undefined,
    private readonly options: OutboxOptions,
  ) {
    this.db = db;
    this.lock = lock;
    this.stmts = this.prepare();
    if (!options.readonly) this.recount();
  }

  /** Opens (creating if needed) the outbox file; a damaged or locked file is reported, never deleted. */
  static open(file: string, options: OutboxOptions): Outbox {
    let db: Database.Database | undefined;
    let lock: StateLock | undefined;
    try {
      if (!options.readonly) mkdirSync(dirname(file), { recursive: true });
      if (options.exclusive !== false && !options.readonly) lock = StateLock.acquire(join(dirname(file), 'agent.lock'));
      db = new Database(file, { timeout: 2000, readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
      if (!options.readonly) {
        // A new file gets incremental auto-vacuum (so a drained outbox can give its space back);
        // SQLite accepts it only before the first table and before the switch to WAL.
        if ((db.pragma('user_version', { simple: true }) as number) === 0) db.pragma('auto_vacuum = INCREMENTAL');
        db.pragma('journal_mode = WAL');
        // FULL: a commit survives power loss, which the PUBACK contract relies on.
        db.pragma('synchronous = FULL');
      }
      const check = db.pragma('quick_check(1)', { simple: true });
      if (check !== 'ok') throw Object.assign(new Error(String(check)), { code: 'SQLITE_CORRUPT' });
      if (!options.readonly) migrateOutbox(db);
      return new Outbox(db, lock, options);
    } catch (err) {
      db?.close();
      lock?.release();
      throw new OutboxOpenError(`outbox ${file}: cannot open: ${openErrorHint(err)}`);
    }
  }

  private prepare() {
    const db = this.db;
    const ro = this.options.readonly;
    return {
      insert: ro
        ? undefined
        : db.prepare(
            'INSERT INTO outbox (topic, kind, device, body, retain, priority, bytes, created_at, readings, t_from, t_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          ),
      claim: db.prepare(
        'SELECT seq, topic, kind, body, retain, priority, bytes, created_at AS createdAt FROM outbox WHERE priority = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      remove: ro ? undefined : db.prepare('DELETE FROM outbox WHERE seq = ?'),
      unsentGaps: db.prepare("SELECT seq, body, bytes FROM outbox WHERE priority = 0 AND seq > ? AND kind = 'gap' AND device = ?"),
      updateGap: ro ? undefined : db.prepare('UPDATE outbox SET body = ?, bytes = ?, readings = ?, t_from = ?, t_to = ? WHERE seq = ?'),
      updateBody: ro ? undefined : db.prepare('UPDATE outbox SET body = ?, bytes = ? WHERE seq = ?'),
      oldestUnsent: db.prepare(
        "SELECT seq, kind, device, bytes, readings, t_from AS tFrom, t_to AS tTo, created_at AS createdAt FROM outbox WHERE priority = ? AND seq > ? AND kind != 'gap' ORDER BY seq LIMIT 500",
      ),
    };
  }

  /** Buffers messages for the next group commit. */
  enqueue(messages: OutboxMessage[]): void {
    this.pending.push(...messages);
    if (this.pending.length >= MAX_PENDING) {
      this.flush();
      return;
    }
    if (messages.some((m) => PRIORITY[m.kind] === 0)) {
      this.flushSoon ??= setImmediate(() => this.flushInBackground());
    } else {
      this.flushTimer ??= setTimeout(() => this.flushInBackground(), this.options.commitIntervalMs ?? 20);
    }
  }

  /**
   * A timer's commit: a failure is already counted and will be reported as a gap, so it must not
   * end the process (a restart would not free the disk); the agent keeps polling and reports
   * not-ready until a commit succeeds.
   */
  /** Why the last write failed (disk full, I/O error, locked), until a write succeeds: /readyz reports it. */
  get writeError(): string | undefined {
    return this.failure;
  }

  private set writeError(message: string | undefined) {
    if ((message === undefined) !== (this.failure === undefined)) this.options.onWriteError?.(message);
    this.failure = message;
  }

  private flushInBackground(): void {
    try {
      this.flush();
    } catch {
      // recorded in writeError and counted through onDrop by flush()
    }
  }

  /** Commits what is buffered (and enforces the limits) in one transaction; returns the new seqs. */
  flush(): number[] {
    clearTimeout(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushTimer = undefined;
    this.flushSoon = undefined;
    if (this.pending.length === 0 && this.unreported.empty) return [];
    const batch = this.pending;
    this.pending = [];
    let seqs: number[];
    try {
      seqs = this.db.transaction(() => {
        const out = this.insertAll(batch);
        if (!this.unreported.empty) this.writeGaps(this.unreported.drain());
        this.enforceLimits(Date.now());
        return out;
      })();
    } catch (err) {
      // Disk full or I/O error: the batch cannot be kept. Count it and report it as a gap
      // with the next commit that succeeds; never drop silently.
      this.writeError = (err as Error).message;
      this.recount();
      for (const m of batch) {
        m.onStored?.({ error: err as Error });
        const r = m.readings ?? { count: 1, from: Date.now(), to: Date.now() };
        if (m.kind !== 'gap') this.unreported.add(m.device ?? null, m.kind, r.count, r.from, r.to, `not stored on the gateway: ${(err as Error).message}`);
        this.options.onDrop?.('write_error', m.kind, 1, m.kind === 'data' ? r.count : 0);
      }
      throw err;
    }
    this.writeError = undefined;
    for (let i = 0; i < batch.length; i++) (batch[i] as OutboxMessage).onStored?.({ seq: seqs[i] as number });
    this.options.onCommit?.();
    return seqs;
  }

  /** Rows and bytes from the table itself (at open, and after a failed transaction). */
  private recount(): void {
    const t = this.db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox').get() as { n: number; b: number };
    this.rows = t.n;
    this.bytes = t.b;
  }

  private insertAll(messages: OutboxMessage[]): number[] {
    const now = Date.now();
    const insert = this.stmts.insert as Database.Statement;
    return messages.map((m) => {
      const body = JSON.stringify(m.body);
      const bytes = Buffer.byteLength(body) + m.topic.length;
      const r = m.readings ?? { count: 1, from: now, to: now };
      const info = insert.run(m.topic, m.kind, m.device ?? null, body, m.retain ? 1 : 0, PRIORITY[m.kind], bytes, now, r.count, r.from, r.to);
      const seq = Number(info.lastInsertRowid);
      this.rows += 1;
      if (!m.seal) {
        this.bytes += bytes;
        return seq;
      }
      // The seq is known only once the row exists: seal for it and rewrite the body in the same transaction.
      const sealed = JSON.stringify({ ...m.body, ...m.seal(seq) });
      const sealedBytes = Buffer.byteLength(sealed) + m.topic.length;
      (this.stmts.updateBody as Database.Statement).run(sealed, sealedBytes, seq);
      this.bytes += sealedBytes;
      return seq;
    });
  }

  /**
   * Records gaps in the outbox. A gap for the same device, kind and reason that
   * is not yet on the wire is extended rather than joined by a new row, so a
   * long outage under a full outbox yields one gap per device, not one per
   * eviction round (those rows would themselves fill the outbox).
   */
  private writeGaps(gaps: GapBody[]): void {
    if (gaps.length === 0) return;
    this.options.onGaps?.(gaps);
    const topic = topics.gap(this.options.site, this.options.gateway);
    for (const gap of gaps) {
      const pending = this.stmts.unsentGaps.all(this.cursors[0], gap.device) as Array<{ seq: number; body: string; bytes: number }>;
      const same = pending.find((row) => {
        const body = JSON.parse(row.body) as GapBody;
        return body.kind === gap.kind && body.reason === gap.reason;
      });
      if (!same) {
        this.insertAll([{ topic, kind: 'gap', device: gap.device, body: { ...gap }, readings: { count: gap.count, from: gap.from, to: gap.to } }]);
        continue;
      }
      const old = JSON.parse(same.body) as GapBody;
      const merged: GapBody = { ...old, count: old.count + gap.count, from: Math.min(old.from, gap.from), to: Math.max(old.to, gap.to) };
      const body = JSON.stringify(merged);
      const bytes = Buffer.byteLength(body) + topic.length;
      (this.stmts.updateGap as Database.Statement).run(body, bytes, merged.count, merged.from, merged.to, same.seq);
      this.bytes += bytes - same.bytes;
    }
  }

  /**
   * Evicts unsent rows past the limits, oldest telemetry first, and writes a
   * gap message per device and kind for what went. Rows already handed to
   * the uplink (claimed) are never evicted: they may be on the wire.
   */
  private enforceLimits(now: number): void {
    const { maxBytes, maxAgeMs } = this.options;
    const tally = new GapTally();
    const evict = (reason: DropReason, why: string, stop: (row: { createdAt: number }) => boolean) => {
      // Telemetry (1) first; alarms, statuses... (0) only when no telemetry is left.
      for (const priority of [1, 0]) {
        for (;;) {
          const rows = this.stmts.oldestUnsent.all(priority, this.cursors[priority]) as DroppableRow[];
          let removed = 0;
          for (const row of rows) {
            if (stop(row)) break;
            this.drop(row, reason, why, tally);
            removed += 1;
          }
          if (removed < rows.length || rows.length === 0) break;
        }
        if (reason === 'max_bytes' && this.bytes <= (maxBytes as number) * LOW_WATER) break;
      }
    };
    if (maxAgeMs) evict('max_age', `older than the outbox age limit (${Math.round(maxAgeMs / 1000)} s)`, (row) => row.createdAt >= now - maxAgeMs);
    if (maxBytes && this.bytes > maxBytes)
      evict('max_bytes', `outbox full (limit ${maxBytes} bytes): oldest unsent evicted`, () => this.bytes <= maxBytes * LOW_WATER);
    if (!tally.empty) this.writeGaps(tally.drain());
  }

  /** Deletes one unsent row and accounts for it: bytes, gap tally, drop counters. Inside a transaction. */
  private drop(row: DroppableRow, reason: DropReason, why: string, tally: GapTally): void {
    (this.stmts.remove as Database.Statement).run(row.seq);
    this.bytes -= row.bytes;
    this.rows -= 1;
    tally.add(row.device, row.kind, row.readings, row.tFrom, row.tTo, why);
    this.options.onDrop?.(reason, row.kind, 1, row.kind === 'data' ? row.readings : 0);
  }

  /** Age limits apply without new data too: call now and then. */
  enforceAge(): void {
    if (!this.options.maxAgeMs || this.options.readonly) return;
    if (this.pending.length > 0) this.flush();
    else this.db.transaction(() => this.enforceLimits(Date.now()))();
  }

  /** Next messages to publish: priority 0 first, then telemetry, each in seq order. Advances the cursors. */
  claim(limit: number): OutboxRow[] {
    const rows: OutboxRow[] = [];
    for (const priority of PRIORITIES) {
      if (rows.length >= limit) break;
      const got = this.stmts.claim.all(priority, this.cursors[priority], limit - rows.length) as Array<Omit<OutboxRow, 'retain'> & { retain: number }>;
      for (const r of got) {
        rows.push({ ...r, retain: r.retain === 1 });
        this.cursors[priority] = r.seq;
        this.claimed.set(r.seq, r.bytes);
      }
    }
    return rows;
  }

  /** Everything not yet acknowledged becomes claimable again (a new session without its in-flight store). */
  unclaimAll(): void {
    this.cursors.fill(0);
    this.claimed.clear();
  }

  /** Marks a message delivered; deletes are batched into one transaction per event-loop turn. */
  ack(seq: number): void {
    const bytes = this.claimed.get(seq);
    if (bytes === undefined) return;
    this.claimed.delete(seq);
    this.bytes -= bytes;
    this.rows -= 1;
    this.acks.push(seq);
    this.ackTimer ??= setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    this.ackTimer = undefined;
    if (this.acks.length === 0 || !this.db.open) return;
    const seqs = this.acks.splice(0);
    const remove = this.stmts.remove as Database.Statement;
    try {
      this.db.transaction(() => {
        for (const seq of seqs) remove.run(seq);
      })();
    } catch (err) {
      // Kept for the next attempt (the next ack or close); until then a restart re-sends them and
      // the collector drops the duplicates by seq.
      this.acks.unshift(...seqs);
      this.writeError = (err as Error).message;
    }
  }

  /** Deletes unsent rows created before `cutoff` (operator purge), reporting them as gaps. */
  purgeOlderThan(cutoff: number, reason = 'purged by an operator'): { messages: number; readings: number } {
    let messages = 0;
    let readings = 0;
    const tally = new GapTally();
    this.db.transaction(() => {
      const rows = this.db
        .prepare(
          "SELECT seq, kind, device, bytes, readings, t_from AS tFrom, t_to AS tTo, created_at AS createdAt FROM outbox WHERE created_at < ? AND kind != 'gap'",
        )
        .all(cutoff) as DroppableRow[];
      for (const row of rows) {
        this.drop(row, 'purged', reason, tally);
        messages += 1;
        if (row.kind === 'data') readings += row.readings;
      }
      this.writeGaps(tally.drain());
    })();
    return { messages, readings };
  }

  /**
   * Rows, bytes and the oldest message's time without scanning the table
   * (counters kept by this process; the oldest row is the first by seq).
   * For /readyz and the gauges: stats() reads every row.
   */
  quickStats(): Omit<OutboxStats, 'byKind'> {
    const oldest = this.db.prepare('SELECT created_at AS c FROM outbox ORDER BY seq LIMIT 1').get() as { c: number } | undefined;
    return { rows: this.rows, bytes: this.bytes, oldestCreatedAt: oldest?.c ?? null };
  }

  /** Returns space freed by deleted rows to the file system, a little at a time (auto_vacuum=INCREMENTAL). */
  reclaimSpace(pages = 2000): void {
    if (this.options.readonly) return;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (free >= 64) this.db.pragma(`incremental_vacuum(${Math.min(free, pages)})`);
  }

  stats(): OutboxStats {
    const totals = this.db.prepare('SELECT count(*) AS rows, coalesce(sum(bytes), 0) AS bytes, min(created_at) AS oldestCreatedAt FROM outbox').get() as Omit<
      OutboxStats,
      'byKind'
    >;
    const kinds = this.db.prepare('SELECT kind, count(*) AS n FROM outbox GROUP BY kind').all() as Array<{ kind: string; n: number }>;
    return { ...totals, byKind: Object.fromEntries(kinds.map((k) => [k.kind, k.n])) };
  }

  /** The oldest messages, for an operator to look at (bodies as stored). */
  peek(
    limit: number,
  ): Array<{ seq: number; kind: string; device: string | null; topic: string; priority: number; bytes: number; createdAt: number; body: string }> {
    return this.db
      .prepare('SELECT seq, kind, device, topic, priority, bytes, created_at AS createdAt, body FROM outbox ORDER BY priority, seq LIMIT ?')
      .all(limit) as never;
  }

  /** Bytes and claimed rows as this process tracks them (cheap; for metrics and tests). */
  get trackedBytes(): number {
    return this.bytes;
  }

  close(): void {
    if (this.ackTimer) clearImmediate(this.ackTimer);
    if (!this.options.readonly && this.db.open) {
      this.flushAcks();
      try {
        this.flush();
      } catch {
        // already counted and logged by the caller's onDrop
      }
    }
    this.db.close();
    this.lock?.release();
  }
}

function openErrorHint(err: unknown): string {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'LOCKED') return (err as Error).message;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return 'the file is damaged; stop the agent, move outbox.db (and any outbox.db-wal) aside to keep it for recovery, and start again with an empty outbox (docs/store-and-forward.md, "Recovering a damaged outbox")';
  }
  if (code === 'SQLITE_BUSY') return 'another process holds it; is a second agent running with the same stateDir?';
  if (code === 'SQLITE_CANTOPEN' || code === 'EACCES') return 'check that the directory exists and the service user may write to it';
  return (err as Error).message;
}
