import type Database from 'better-sqlite3';
import { isRole } from '../auth/roles.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { GENESIS_HASH } from './schema.js';
import { AuditError, reasonRequired, type AuditEntry, type AuditInput, type AuditQuery, type AuditRole, type AuditVerifyResult } from './types.js';

export interface AuditRow {
  seq: number;
  ts: string;
  actor: string;
  role: string;
  action: string;
  object_type: string;
  object_id: string;
  old_value: string | null;
  new_value: string | null;
  reason: string | null;
  prev_hash: string;
  hash: string;
}

const ACTION = /^[a-z][a-z0-9_-]{0,31}:[a-z][a-z0-9_-]{0,31}$/;
// Printable and bounded: these fields go into reports and terminals.
const LABEL = /^[^\p{Cc}]{1,256}$/u;
const MAX_REASON = 2000;

/** The hash of a row: sha256(prev_hash + canonical JSON of every other column). Values are hashed as stored text, byte for byte. */
export function entryHash(prevHash: string, r: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  const body = {
    seq: r.seq,
    ts: r.ts,
    actor: r.actor,
    role: r.role,
    action: r.action,
    objectType: r.object_type,
    objectId: r.object_id,
    oldValue: r.old_value,
    newValue: r.new_value,
    reason: r.reason,
  };
  return sha256Hex(prevHash + canonicalJson(body));
}

/** Checks an entry (AuditError names the field) and gives its columns as stored; shared by every backend. */
export function auditFields(input: AuditInput): Omit<AuditRow, 'seq' | 'ts' | 'prev_hash' | 'hash'> {
  const reason = typeof input.reason === 'string' ? input.reason.trim() : null;
  if (!LABEL.test(input.actor ?? '')) throw new AuditError('actor must be 1-256 printable characters');
  if (!(isRole(input.role) || input.role === 'system')) throw new AuditError(`role "${String(input.role)}" is not a role`);
  if (!ACTION.test(input.action ?? '')) throw new AuditError(`action "${String(input.action)}" must look like type:verb, e.g. device:update`);
  if (!LABEL.test(input.objectType ?? '')) throw new AuditError('objectType must be 1-256 printable characters');
  if (!LABEL.test(input.objectId ?? '')) throw new AuditError('objectId must be 1-256 printable characters');
  if (reason !== null && reason.length > MAX_REASON) throw new AuditError(`reason is longer than ${MAX_REASON} characters`);
  if (reasonRequired(input.action) && !reason) throw new AuditError(`reason is required for ${input.action}`);
  return {
    actor: input.actor,
    role: input.role,
    action: input.action,
    object_type: input.objectType,
    object_id: input.objectId,
    old_value: input.oldValue == null ? null : canonicalJson(input.oldValue),
    new_value: input.newValue == null ? null : canonicalJson(input.newValue),
    reason: reason || null,
  };
}

export const HEAD_MISSING = 'audit chain head is missing: the log has been damaged; run `medtel-collector audit verify`';

export const INSERT_AUDIT_SQL = `INSERT INTO audit (seq, ts, actor, role, action, object_type, object_id, old_value, new_value, reason, prev_hash, hash)
  VALUES (@seq, @ts, @actor, @role, @action, @object_type, @object_id, @old_value, @new_value, @reason, @prev_hash, @hash)`;

/** The next link of the chain after `head`: the entry's columns with its seq, time and hashes. */
export function chainedRow(fields: ReturnType<typeof auditFields>, head: { seq: number; hash: string }, now: Date): AuditRow {
  const row = { ...fields, seq: head.seq + 1, ts: now.toISOString() };
  return { ...row, prev_hash: head.hash, hash: entryHash(head.hash, row) };
}

/** The WHERE clause, named parameters and page of an audit listing; RangeError for a bad limit or offset. Shared by every backend. */
export function auditListQuery(query: AuditQuery): { clause: string; params: Record<string, string | number>; limit: number; offset: number } {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (query.from !== undefined) {
    where.push('ts >= @from');
    params.from = isoTime('from', query.from);
  }
  if (query.to !== undefined) {
    where.push('ts < @to');
    params.to = isoTime('to', query.to);
  }
  for (const [key, column] of [
    ['objectType', 'object_type'],
    ['objectId', 'object_id'],
    ['actor', 'actor'],
    ['action', 'action'],
  ] as const) {
    const value = query[key];
    if (value !== undefined) {
      where.push(`${column} = @${key}`);
      params[key] = value;
    }
  }
  const limit = query.limit ?? 100;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('limit must be an integer from 1 to 1000');
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError('offset must be a non-negative integer');
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params, limit, offset };
}

/**
 * The audit trail: append-only, each entry hash-chained to the previous one,
 * the chain head kept in `audit_head`. Call append() inside the same
 * transaction as the change it records (better-sqlite3 nests it as a
 * savepoint), so a change is never committed without its entry.
 */
export class AuditLog {
  private readonly now: () => Date;
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
    try {
      this.stmt = {
        head: db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1'),
        insert: db.prepare(INSERT_AUDIT_SQL),
        moveHead: db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1'),
        all: db.prepare<[], AuditRow>('SELECT * FROM audit ORDER BY seq'),
      };
    } catch (err) {
      throw new Error(`audit tables missing (${(err as Error).message}); migrateAudit(db) must run first`);
    }
  }

  /** Records one entry and returns it; throws AuditError for unacceptable input, appending nothing. */
  append(input: AuditInput): AuditEntry {
    const fields = auditFields(input);
    const write = this.db.transaction(() => {
      const head = this.stmt.head.get();
      if (!head) throw new Error(HEAD_MISSING);
      const full = chainedRow(fields, head, this.now());
      this.stmt.insert.run(full);
      this.stmt.moveHead.run(full.seq, full.hash);
      return toEntry(full);
    });
    // IMMEDIATE: take the write lock before reading the head, so two processes cannot both append seq n+1.
    return write.immediate();
  }

  /** Entries matching the query, newest first, with the total matching count. */
  list(query: AuditQuery = {}): { total: number; items: AuditEntry[] } {
    const { clause, params, limit, offset } = auditListQuery(query);
    const { total } = this.db.prepare<Record<string, string | number>, { total: number }>(`SELECT COUNT(*) AS total FROM audit ${clause}`).get(params)!;
    const rows = this.db.prepare<Record<string, string | number>, AuditRow>(`SELECT * FROM audit ${clause} ORDER BY seq DESC LIMIT @limit OFFSET @offset`).all({
      ...params,
      limit,
      offset,
    });
    return { total, items: rows.map(toEntry) };
  }

  /** The last entry's seq and hash (seq 0 and the genesis hash when empty). */
  head(): { seq: number; hash: string } {
    const head = this.stmt.head.get();
    if (!head) throw new Error(HEAD_MISSING);
    return head;
  }

  /**
   * Re-computes the whole chain. Detects an edited entry (hash mismatch), an
   * inserted, replaced or moved one (seq or prev_hash out of line), a deleted
   * one (a gap in seq, or the log ending before the chain head) and entries
   * added behind the log's back (after the head). Works without the triggers.
   * It cannot detect a consistent rewrite of the chain and head together:
   * compare `head` with a copy kept elsewhere for that.
   */
  verify(): AuditVerifyResult {
    // One read transaction: a consistent snapshot even while the collector appends.
    return this.db.transaction((): AuditVerifyResult => {
      let head: { seq: number; hash: string } | null = null;
      try {
        head = this.stmt.head.get() ?? null;
        return verifyChain(head, this.stmt.all.iterate());
      } catch (err) {
        return { ok: false, entries: 0, head, problem: `audit tables unreadable: ${(err as Error).message}` };
      }
    })();
  }
}

/**
 * Walks the chain in seq order against the stored head (see AuditLog.verify
 * for what it detects); shared by every backend. Rows come from one snapshot.
 */
export function verifyChain(head: { seq: number; hash: string } | null, rows: Iterable<AuditRow>): AuditVerifyResult {
  let prev = GENESIS_HASH;
  let expected = 1;
  const bad = (seq: number, problem: string): AuditVerifyResult => ({ ok: false, entries: seq - 1, head, firstBadSeq: seq, problem });
  for (const row of rows) {
    if (row.seq < expected) return bad(row.seq, `entry ${row.seq} is out of sequence: inserted`);
    if (row.seq !== expected) {
      const range = row.seq - 1 > expected ? `entries ${expected}-${row.seq - 1} are` : `entry ${expected} is`;
      return bad(expected, `${range} missing: deleted`);
    }
    if (entryHash(row.prev_hash, row) !== row.hash) {
      return bad(row.seq, `entry ${row.seq} does not match its hash: edited, or moved from another position`);
    }
    if (row.prev_hash !== prev) {
      return bad(row.seq, `entry ${row.seq} does not follow entry ${row.seq - 1}: an entry was inserted, replaced or moved`);
    }
    prev = row.hash;
    expected++;
  }
  const last = expected - 1;
  if (!head) return bad(expected, 'the chain head (audit_head) is missing: deleted');
  if (head.seq > last) {
    const range = head.seq > last + 1 ? `entries ${last + 1}-${head.seq} were` : `entry ${head.seq} was`;
    return bad(last + 1, `the log ${last ? `ends at entry ${last}` : 'is empty'} but the chain head is entry ${head.seq}: ${range} deleted`);
  }
  if (head.seq < last) return bad(head.seq + 1, `entries after the chain head (${head.seq}) were added outside the audit log`);
  if (head.hash !== prev) return bad(last, `entry ${last} is not the one the chain head records: replaced`);
  return { ok: true, entries: last, head };
}

/** One line for `medtel-collector audit verify`. */
export function describeVerifyResult(result: AuditVerifyResult): string {
  if (result.ok) return `audit trail intact: ${result.entries} entries, head ${result.head?.seq} ${result.head?.hash}`;
  return `audit trail NOT intact${result.firstBadSeq !== undefined ? ` at entry ${result.firstBadSeq}` : ''}: ${result.problem} (${result.entries} entries verified before it)`;
}

export function toEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    ts: row.ts,
    actor: row.actor,
    role: row.role as AuditRole,
    action: row.action,
    objectType: row.object_type,
    objectId: row.object_id,
    oldValue: row.old_value === null ? null : JSON.parse(row.old_value),
    newValue: row.new_value === null ? null : JSON.parse(row.new_value),
    reason: row.reason,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function isoTime(name: string, value: Date | number | string): string {
  // Digits alone are epoch milliseconds, as in the rest of the API.
  const date = value instanceof Date ? value : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`${name}: "${String(value)}" is not a time (ISO 8601 or epoch milliseconds)`);
  return date.toISOString();
}
