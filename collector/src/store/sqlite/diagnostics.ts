import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import type { DiagnosticRecord, DiagnosticResult, DiagnosticsStore, NewDiagnosticRequest } from '../diagnostics-store.js';
import * as rules from '../shared/diagnostics.js';
import type { Actor } from '../store.js';
import { selectPage, where } from './paged.js';

type Row = Record<string, unknown>;

/** Diagnostic requests in the collector's SQLite file (migration 7), audited through the same file's trail. */
export class SqliteDiagnostics implements DiagnosticsStore {
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
  ) {
    this.stmt = {
      insert: db.prepare(rules.INSERT_DIAGNOSTIC_SQL),
      get: db.prepare('SELECT * FROM diagnostics WHERE request_id = ?'),
      complete: db.prepare(rules.COMPLETE_SQL),
      late: db.prepare(rules.LATE_RESULT_SQL),
      overdue: db.prepare("SELECT * FROM diagnostics WHERE state = 'pending' AND deadline <= ?"),
      timeOut: db.prepare(rules.TIME_OUT_SQL),
      unapplied: db.prepare(rules.UNAPPLIED_SQL),
    };
  }

  async create(request: NewDiagnosticRequest, actor: Actor): Promise<DiagnosticRecord> {
    return this.db.transaction(() => {
      this.stmt.insert.run(rules.diagnosticRow(request, actor));
      this.audit.append(rules.diagnosticAudit(request, actor));
      return this.byId(request.requestId) as DiagnosticRecord;
    })();
  }

  async get(requestId: string): Promise<DiagnosticRecord | undefined> {
    return this.byId(requestId);
  }

  async listForDevice(deviceId: string, q: { limit: number; offset: number }): Promise<{ items: DiagnosticRecord[]; total: number }> {
    const filter = where([['device_id = ?', deviceId]]);
    const { rows, total } = selectPage(this.db, {
      from: 'diagnostics',
      where: filter,
      orderBy: 'requested_at DESC, rowid DESC',
      limit: q.limit,
      offset: q.offset,
    });
    return { items: rows.map(rules.toRecord), total };
  }

  async recordResult(gateway: string, requestId: string, r: DiagnosticResult): Promise<DiagnosticRecord | undefined> {
    this.apply(gateway, requestId, r);
    return this.byId(requestId);
  }

  private apply(gateway: string, requestId: string, r: DiagnosticResult): void {
    const done = this.stmt.complete.run(...rules.completeArgs(gateway, requestId, r));
    if (done.changes === 0) this.stmt.late.run(JSON.stringify(r), requestId, gateway);
  }

  async expire(now: number): Promise<DiagnosticRecord[]> {
    return this.db.transaction(() => {
      const rows = this.stmt.overdue.all(now) as Row[];
      for (const row of rows) this.stmt.timeOut.run(rules.timeOutMessage(row), row.request_id);
      return rows.map((row) => this.byId(row.request_id as string) as DiagnosticRecord);
    })();
  }

  async recover(now: number): Promise<void> {
    this.db.transaction(() => {
      for (const r of this.stmt.unapplied.all() as Row[]) this.apply(r.gateway as string, r.request_id as string, rules.unappliedResult(r));
    })();
    await this.expire(now);
  }

  private byId(requestId: string): DiagnosticRecord | undefined {
    const row = this.stmt.get.get(requestId) as Row | undefined;
    return row ? rules.toRecord(row) : undefined;
  }
}
