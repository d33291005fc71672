import type { AuditInput } from '../../audit/types.js';
import type { DiagnosticRecord, DiagnosticResult, NewDiagnosticRequest } from '../diagnostics-store.js';
import type { Actor } from '../store.js';

/**
 * Diagnostic requests apart from the driver calls: the statements (plain SQL
 * both backends accept), the row a request becomes, its audit entry, the
 * time-out message, results read back from `results`, and the row mapping.
 */

type Row = Record<string, unknown>;

const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
const parse = (text: unknown) => (typeof text === 'string' ? JSON.parse(text) : null);

export const INSERT_DIAGNOSTIC_SQL = `INSERT INTO diagnostics (request_id, device_id, gateway, test, args, reason, actor, role, requested_at, timeout_ms, deadline, state, error, completed_at)
  VALUES (@requestId, @deviceId, @gateway, @test, @args, @reason, @actor, @role, @requestedAt, @timeoutMs, @deadline, @state, @error, @completedAt)`;

/** Arguments (ok, result, error, completedAt, requestId, gateway): a pending request completes. */
export const COMPLETE_SQL =
  "UPDATE diagnostics SET state = 'completed', ok = ?, result = ?, error = ?, completed_at = ? WHERE request_id = ? AND gateway = ? AND state = 'pending'";

/** Arguments (result JSON, requestId, gateway): the first result after a time-out is kept, for the record. */
export const LATE_RESULT_SQL = "UPDATE diagnostics SET late_result = ? WHERE request_id = ? AND gateway = ? AND state = 'timed-out' AND late_result IS NULL";

/** Arguments (error, requestId). */
export const TIME_OUT_SQL = "UPDATE diagnostics SET state = 'timed-out', completed_at = deadline, error = ? WHERE request_id = ? AND state = 'pending'";

/** Results the ingest stored whose diagnostics row was not updated (collector stopped in between). */
export const UNAPPLIED_SQL = `SELECT d.request_id, d.gateway, r.ok, r.result, r.error, r.received_at FROM diagnostics d
  JOIN results r ON r.request_id = d.request_id AND r.gateway = d.gateway
  WHERE d.state = 'pending' OR (d.state = 'timed-out' AND d.late_result IS NULL)`;

/** The row a request becomes; one refused because its gateway is offline is complete when made. */
export function diagnosticRow(request: NewDiagnosticRequest, actor: Actor): Record<string, unknown> {
  const offline = request.state === 'gateway-offline';
  return {
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
  };
}

export function diagnosticAudit(request: NewDiagnosticRequest, actor: Actor): AuditInput {
  return {
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
  };
}

/** COMPLETE_SQL's arguments. */
export function completeArgs(gateway: string, requestId: string, r: DiagnosticResult): unknown[] {
  return [r.ok ? 1 : 0, json(r.result), r.error ?? null, r.receivedAt, requestId, gateway];
}

/** The error a timed-out request records. */
export function timeOutMessage(row: Row): string {
  const seconds = Math.round((row.timeout_ms as number) / 1000);
  return `no result from gateway ${row.gateway} within ${seconds} s`;
}

/** A row of UNAPPLIED_SQL as the result it carries. */
export function unappliedResult(r: Row): DiagnosticResult {
  return {
    ok: r.ok === 1,
    ...(r.result !== null ? { result: parse(r.result) } : {}),
    ...(r.error !== null ? { error: r.error as string } : {}),
    receivedAt: r.received_at as number,
  };
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
