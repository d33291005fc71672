import type pg from 'pg';
import type { DiagnosticRecord, DiagnosticResult, DiagnosticsStore, NewDiagnosticRequest } from '../diagnostics-store.js';
import { toRecord } from '../sqlite/diagnostics.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, type Row, all, one, run, tx } from './pg-db.js';
import { selectPage, where } from './paged.js';

const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
const parse = (text: unknown) => (typeof text === 'string' ? JSON.parse(text) : null);

/** Diagnostic requests in PostgreSQL (as ../sqlite/diagnostics.ts). */
export class PgDiagnostics implements DiagnosticsStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
  ) {}

  async create(request: NewDiagnosticRequest, actor: Actor): Promise<DiagnosticRecord> {
    return tx(this.pool, async (c) => {
      const offline = request.state === 'gateway-offline';
      await run(
        c,
        `INSERT INTO diagnostics (request_id, device_id, gateway, test, args, reason, actor, role, requested_at, timeout_ms, deadline, state, error, completed_at)
         VALUES (@requestId, @deviceId, @gateway, @test, @args, @reason, @actor, @role, @requestedAt, @timeoutMs, @deadline, @state, @error, @completedAt)`,
        {
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
        },
      );
      await this.audit.append(c, {
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
    return { items: rows.map(toRecord), total };
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
        const seconds = Math.round((row.timeout_ms as number) / 1000);
        await run(c, "UPDATE diagnostics SET state = 'timed-out', completed_at = deadline, error = ? WHERE request_id = ? AND state = 'pending'", [
          `no result from gateway ${row.gateway} within ${seconds} s`,
          row.request_id,
        ]);
        out.push((await byId(c, row.request_id as string)) as DiagnosticRecord);
      }
      return out;
    });
  }

  async recover(now: number): Promise<void> {
    await tx(this.pool, async (c) => {
      const rows = await all(
        c,
        `SELECT d.request_id, d.gateway, r.ok, r.result, r.error, r.received_at FROM diagnostics d
         JOIN results r ON r.request_id = d.request_id AND r.gateway = d.gateway
         WHERE d.state = 'pending' OR (d.state = 'timed-out' AND d.late_result IS NULL)`,
      );
      for (const r of rows) {
        await applyResult(c, r.gateway as string, r.request_id as string, {
          ok: r.ok === 1,
          ...(r.result !== null ? { result: parse(r.result) } : {}),
          ...(r.error !== null ? { error: r.error as string } : {}),
          receivedAt: r.received_at as number,
        });
      }
    });
    await this.expire(now);
  }
}

async function applyResult(c: Queryable, gateway: string, requestId: string, r: DiagnosticResult): Promise<void> {
  const done = await run(
    c,
    "UPDATE diagnostics SET state = 'completed', ok = ?, result = ?, error = ?, completed_at = ? WHERE request_id = ? AND gateway = ? AND state = 'pending'",
    [r.ok ? 1 : 0, json(r.result), r.error ?? null, r.receivedAt, requestId, gateway],
  );
  if (done === 0)
    await run(c, "UPDATE diagnostics SET late_result = ? WHERE request_id = ? AND gateway = ? AND state = 'timed-out' AND late_result IS NULL", [
      JSON.stringify(r),
      requestId,
      gateway,
    ]);
}

async function byId(c: Queryable, requestId: string): Promise<DiagnosticRecord | undefined> {
  const row = await one<Row>(c, 'SELECT * FROM diagnostics WHERE request_id = ?', [requestId]);
  return row ? toRecord(row) : undefined;
}
