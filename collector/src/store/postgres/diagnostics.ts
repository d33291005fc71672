import type pg from 'pg';
import type { DiagnosticRecord, DiagnosticResult, DiagnosticsStore, NewDiagnosticRequest } from '../diagnostics-store.js';
import * as rules from '../shared/diagnostics.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, type Row, all, one, run, tx } from './pg-db.js';
import { selectPage, where } from './paged.js';

/** Diagnostic requests in PostgreSQL (statements and rules in ../shared/diagnostics.ts). */
export class PgDiagnostics implements DiagnosticsStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
  ) {}

  async create(request: NewDiagnosticRequest, actor: Actor): Promise<DiagnosticRecord> {
    return tx(this.pool, async (c) => {
      await run(c, rules.INSERT_DIAGNOSTIC_SQL, rules.diagnosticRow(request, actor));
      await this.audit.append(c, rules.diagnosticAudit(request, actor));
      return (await byId(c, request.requestId)) as DiagnosticRecord;
    });
  }

  async get(requestId: string): Promise<DiagnosticRecord | undefined> {
    return byId(this.pool, requestId);
  }

  async listForDevice(deviceId: string, q: { limit: number; offset: number }): Promise<{ items: DiagnosticRecord[]; total: number }> {
    const { rows, total } = await selectPage(this.pool, {
      from: 'diagnostics',
      where: where([['device_id = ?', deviceId]]),
      orderBy: 'requested_at DESC, created DESC',
      limit: q.limit,
      offset: q.offset,
    });
    return { items: rows.map(rules.toRecord), total };
  }

  async recordResult(gateway: string, requestId: string, r: DiagnosticResult): Promise<DiagnosticRecord | undefined> {
    await applyResult(this.pool, gateway, requestId, r);
    return byId(this.pool, requestId);
  }

  async expire(now: number): Promise<DiagnosticRecord[]> {
    return tx(this.pool, async (c) => {
      // SKIP LOCKED: two replicas expiring at once each take different rows.
      const rows = await all(c, "SELECT * FROM diagnostics WHERE state = 'pending' AND deadline <= ? FOR UPDATE SKIP LOCKED", [now]);
      const out: DiagnosticRecord[] = [];
      for (const row of rows) {
        await run(c, rules.TIME_OUT_SQL, [rules.timeOutMessage(row), row.request_id]);
        out.push((await byId(c, row.request_id as string)) as DiagnosticRecord);
      }
      return out;
    });
  }

  async recover(now: number): Promise<void> {
    await tx(this.pool, async (c) => {
      for (const r of await all(c, rules.UNAPPLIED_SQL)) await applyResult(c, r.gateway as string, r.request_id as string, rules.unappliedResult(r));
    });
    await this.expire(now);
  }
}

async function applyResult(c: Queryable, gateway: string, requestId: string, r: DiagnosticResult): Promise<void> {
  const done = await run(c, rules.COMPLETE_SQL, rules.completeArgs(gateway, requestId, r));
  if (done === 0) await run(c, rules.LATE_RESULT_SQL, [JSON.stringify(r), requestId, gateway]);
}

async function byId(c: Queryable, requestId: string): Promise<DiagnosticRecord | undefined> {
  const row = await one<Row>(c, 'SELECT * FROM diagnostics WHERE request_id = ?', [requestId]);
  return row ? rules.toRecord(row) : undefined;
}
