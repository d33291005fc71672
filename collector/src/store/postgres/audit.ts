import type pg from 'pg';
import { type AuditRow, HEAD_MISSING, INSERT_AUDIT_SQL, auditFields, auditListQuery, chainedRow, toEntry, verifyChain } from '../../audit/audit-log.js';
import type { AuditEntry, AuditInput, AuditQuery, AuditVerifyResult } from '../../audit/types.js';
import type { AuditTrail } from '../store.js';
import { LOCKS, type Queryable, all, one, run } from './pg-db.js';

/**
 * The hash-chained audit trail in PostgreSQL, the same rows and hashes as
 * the SQLite one (../../audit/audit-log.ts). `append` runs on the caller's
 * transaction client, so an entry commits with its change or not at all.
 * Several replicas append to ONE chain: each append first takes a
 * transaction-scoped advisory lock, held until that transaction ends, so the
 * head it reads cannot move under it (and `audit_head`'s row lock would
 * serialize the UPDATE anyway, but only after both had read the same head).
 */
export class PgAuditLog implements AuditTrail {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Inside the caller's transaction (`c` is its client). */
  async append(c: Queryable, input: AuditInput): Promise<AuditEntry> {
    const fields = auditFields(input);
    await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.audit]);
    const head = await one<{ seq: number; hash: string }>(c, 'SELECT seq, hash FROM audit_head WHERE id = 1');
    if (!head) throw new Error(HEAD_MISSING);
    const full = chainedRow(fields, head, this.now());
    await run(c, INSERT_AUDIT_SQL, full as unknown as Record<string, unknown>);
    await run(c, 'UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1', [full.seq, full.hash]);
    return toEntry(full);
  }

  async list(query: AuditQuery = {}): Promise<{ total: number; items: AuditEntry[] }> {
    const { clause, params, limit, offset } = auditListQuery(query);
    const total = (await one<{ total: number }>(this.pool, `SELECT count(*) AS total FROM audit ${clause}`, params))?.total ?? 0;
    const rows = await all<AuditRow>(this.pool, `SELECT * FROM audit ${clause} ORDER BY seq DESC LIMIT @limit OFFSET @offset`, { ...params, limit, offset });
    return { total, items: rows.map(toEntry) };
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const head = await one<{ seq: number; hash: string }>(this.pool, 'SELECT seq, hash FROM audit_head WHERE id = 1');
    if (!head) throw new Error(HEAD_MISSING);
    return head;
  }

  async verify(): Promise<AuditVerifyResult> {
    const client = await this.pool.connect();
    let head: { seq: number; hash: string } | null = null;
    try {
      // One snapshot for the head and every row, even while replicas append.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      head = (await one<{ seq: number; hash: string }>(client, 'SELECT seq, hash FROM audit_head WHERE id = 1')) ?? null;
      const rows = await all<AuditRow>(client, 'SELECT * FROM audit ORDER BY seq');
      await client.query('COMMIT');
      return verifyChain(head, rows);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      return { ok: false, entries: 0, head, problem: `audit tables unreadable: ${(err as Error).message}` };
    } finally {
      client.release();
    }
  }
}
