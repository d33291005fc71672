import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import type { DiagnosticRecord, DiagnosticResult, DiagnosticsStore, NewDiagnosticRequest } from '../diagnostics-store.js';
import type { Actor } from '../store.js';
import { selectPage, where } from './paged.js';

type Row = Record<string, unknown>;

const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
const parse = (text: unknown) => (typeof text === 'string' ? JSON.parse(text) : null);

/** Diagnostic requests in the collector's SQLite file (migration 7), audited through the same file's trail. */
export class SqliteDiagnostics implements DiagnosticsStore {
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO diagnostics (request_id, device_id, gateway, test, args, reason, actor, role, requested_at, timeout_ms, deadline, state, error, completed_at)
         VALUES (@requestId, @deviceId, @gateway, @test, @args, @reason, @actor, @role, @requestedAt, @timeoutMs, @deadline, @state, @error, @completedAt)`,
      ),
      get: db.prepare('SELECT * FROM diagnostics WHERE request_id = ?'),
      complete: db.prepare(
        "UPDATE diagnostics SET state = 'completed', ok = ?, result = ?, error = ?, completed_at = ? WHERE request_id = ? AND gateway = ? AND state = 'pending'",
      ),
      late: db.prepare("UPDATE diagnostics SET late_result = ? WHERE request_id = ? AND gateway = ? AND state = 'timed-out' AND late_result IS NULL"),
      overdue: db.prepare("SELECT * FROM diagnostics WHERE state = 'pending' AND deadline <= ?"),
      timeOut: db.prepare("UPDATE diagnostics SET state = 'timed-out', completed_at = deadline, error = ? WHERE request_id = ? AND state = 'pending'"),
      // Results the ingest stored whose diagnostics row was not updated (collector stopped in between).
      unapplied: db.prepare(
        `SELECT d.request_id, d.gateway, r.ok, r.result, r.error, r.received_at FROM diagnostics d
         JOIN results r ON r.request_id = d.request_id AND r.gateway = d.gateway
         WHERE d.state = 'pending' OR (d.state = 'timed-out' AND d.late_result IS NULL)`,
      ),
    };
  }

  async create(request: NewDiagnosticRequest, actor: Actor): Promise<DiagnosticRecord> {
    return this.db.transaction(() => {
      const offline = request.state === 'gateway-offline';
      this.stmt.insert.run({
        requestId: request.requestId,
        deviceId: request.deviceId,
        gateway: request.gateway,
        test: request.test,
        args: json(request.args),
        reason: request.reason ?? null,
        actor: actor.sub,
        role: actor.role,
        requestedAt: request.requestedAt,
        timeoutMs: request.timeoutMs,
        deadline: request.requestedAt + request.timeoutMs,
        state: request.state,
        error: request.error ?? null,
        completedAt: offline ? request.requestedAt : null,
      });
      this.audit.append({
        actor: actor.sub,
        role: actor.role,
        action: 'diagnostic:run',
        objectType: 'device',
        objectId: request.deviceId,
        newValue: {
          requestId: request.requestId,
          test: request.test,
          ...(request.args ? { args: request.args } : {}),
          timeoutMs: request.timeoutMs,
          state: request.state,
        },
        reason: request.reason ?? null,
      });
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
    return { items: rows.map(toRecord), total };
  }

  async recordResult(gateway: string, requestId: string, r: DiagnosticResult): Promise<DiagnosticRecord | undefined> {
    this.apply(gateway, requestId, r);
    return this.byId(requestId);
  }

  private apply(gateway: string, requestId: string, r: DiagnosticResult): void {
    const done = this.stmt.complete.run(r.ok ? 1 : 0, json(r.result), r.error ?? null, r.receivedAt, requestId, gateway);
    if (done.changes === 0) this.stmt.late.run(JSON.stringify(r), requestId, gateway);
  }

  async expire(now: number): Promise<DiagnosticRecord[]> {
    return this.db.transaction(() => {
      const rows = this.stmt.overdue.all(now) as Row[];
      for (const row of rows) {
        const seconds = Math.round((row.timeout_ms as number) / 1000);
        this.stmt.timeOut.run(`no result from gateway ${row.gateway} within ${seconds} s`, row.request_id);
      }
      return rows.map((row) => this.byId(row.request_id as string) as DiagnosticRecord);
    })();
  }

  async recover(now: number): Promise<void> {
    this.db.transaction(() => {
      for (const r of this.stmt.unapplied.all() as Row[]) {
        this.apply(r.gateway as string, r.request_id as string, {
          ok: r.ok === 1,
          ...(r.result !== null ? { result: parse(r.result) } : {}),
          ...(r.error !== null ? { error: r.error as string } : {}),
          receivedAt: r.received_at as number,
        });
      }
    })();
    await this.expire(now);
  }

  private byId(requestId: string): DiagnosticRecord | undefined {
    const row = this.stmt.get.get(requestId) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }
}

export function toRecord(r: Row): DiagnosticRecord {
  return {
    requestId: r.request_id as string,
    deviceId: r.device_id as string,
    gateway: r.gateway as string,
    test: r.test as string,
    args: parse(r.args),
    reason: r.reason as string | null,
    requestedBy: { sub: r.actor as string, role: r.role as Actor['role'] },
    requestedAt: r.requested_at as number,
    timeoutMs: r.timeout_ms as number,
    deadline: r.deadline as number,
    state: r.state as DiagnosticRecord['state'],
    ok: r.ok === null ? null : r.ok === 1,
    result: parse(r.result),
    error: r.error as string | null,
    completedAt: r.completed_at as number | null,
    lateResult: parse(r.late_result),
  };
}
