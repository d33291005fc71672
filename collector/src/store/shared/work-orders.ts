import type { AuditInput } from '../../audit/types.js';
import { classifyCompletion, nextWindow, type SiteCalendar } from '../../htm/pm-schedule.js';
import { FINAL_STATES, transitionProblem, type WorkOrderState } from '../../htm/work-order-rules.js';
import type { HtmRefusal, ImpactSummary, WorkOrder, WorkOrderInput, WorkOrderPatch, WorkOrderQuery } from '../htm-store.js';
import type { Actor } from '../store.js';
import { by } from './calibrations.js';
import type { ScheduleRow } from './htm-rows.js';

/**
 * Work-order rules both backends apply apart from their SQL: which changes
 * are allowed (../../htm/work-order-rules.ts), the timestamps a state change
 * sets, the next PM window a completed preventive work order yields, what
 * changed for the audit trail, and the statements' values.
 */

export const invalid = (status: 400 | 409, field: string, message: string) => ({ ok: false as const, reason: 'invalid' as const, status, field, message });

export const INSERT_WORK_ORDER_SQL = `INSERT INTO work_orders (device_id, type, state, title, description, assignee, alert_id, schedule_id, calibration_id, impact, opened_by, opened_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Values for INSERT_WORK_ORDER_SQL: assigned if it has an assignee, a draft otherwise. */
export function insertWorkOrderArgs(input: WorkOrderInput, actor: Actor, extra: { calibrationId?: number; impact?: ImpactSummary }): unknown[] {
  const state: WorkOrderState = input.assignee ? 'assigned' : 'draft';
  return [
    input.deviceId,
    input.type,
    state,
    input.title,
    input.description ?? null,
    input.assignee ?? null,
    input.alertId ?? null,
    input.scheduleId ?? null,
    extra.calibrationId ?? null,
    extra.impact ? JSON.stringify(extra.impact) : null,
    actor.sub,
    input.openedAt ?? Date.now(),
  ];
}

export function workOrderCreatedAudit(created: WorkOrder, actor: Actor, reason: string | null): AuditInput {
  return { ...by(actor), action: 'work-order:create', objectType: 'work-order', objectId: String(created.id), newValue: created, reason };
}

/** A refusal when the work order names a PM schedule it cannot follow. */
export function scheduleProblem(input: WorkOrderInput, schedule: ScheduleRow | undefined): HtmRefusal | undefined {
  if (!schedule || schedule.deviceId !== input.deviceId) return invalid(400, 'scheduleId', `device "${input.deviceId}" has no PM schedule ${input.scheduleId}`);
  if (input.type !== 'preventive') return invalid(400, 'scheduleId', 'only preventive work orders follow a PM schedule');
  return undefined;
}

export function workOrderFilters(q: WorkOrderQuery): Array<[string, unknown]> {
  return [
    ['state = ?', q.state],
    ['type = ?', q.type],
    ['device_id = ?', q.device],
  ];
}

/** An accepted update: the work order as it will be, when, and whether it completes a PM schedule (`scheduleId`). */
export interface PlannedUpdate {
  next: WorkOrder;
  at: number;
  moving: boolean;
  /** The PM schedule this completion advances, if any. */
  scheduleId: number | null;
}

/** Checks an update of `old` (already read, locked where the backend locks) and plans it; a refusal otherwise. */
export function planUpdate(old: WorkOrder, patch: WorkOrderPatch & { at?: number }, expectedVersion: number): PlannedUpdate | HtmRefusal {
  const id = old.id;
  if (old.version !== expectedVersion) return { ok: false, reason: 'stale', current: old.version };
  if (FINAL_STATES.has(old.state)) return invalid(409, 'state', `work order ${id} is ${old.state}; a closed work order is not changed (open a new one)`);
  const { at: when, ...fields } = patch;
  const next = { ...old, ...fields };
  const problem = transitionProblem(old.state, { ...next, searches: old.searches.length });
  if (problem) return invalid(problem.status, problem.field, problem.message);
  const at = when ?? Date.now();
  const moving = next.state !== old.state;
  if (moving && at < old.openedAt) return invalid(400, 'at', 'a state change cannot happen before the work order was opened');
  if (next.state === 'in-progress' && old.startedAt === null) next.startedAt = at;
  if (moving && (next.state === 'completed' || next.state === 'incomplete')) next.completedAt = at;
  const completesSchedule = moving && next.state === 'completed' && old.type === 'preventive' && old.scheduleId !== null;
  return { next, at, moving, scheduleId: completesSchedule ? old.scheduleId : null };
}

/** A completed preventive work order records the window it was due in and whether it was on time. */
export function completeForSchedule(plan: PlannedUpdate, schedule: ScheduleRow, calendar: SiteCalendar): void {
  plan.next.window = nextWindow(schedule, calendar);
  plan.next.completion = classifyCompletion(plan.at, plan.next.window);
}

/** Fields that changed (by value), old and new; empty when nothing changes. */
export function workOrderDiff(old: WorkOrder, next: WorkOrder): { oldValue: Record<string, unknown>; newValue: Record<string, unknown> } {
  const oldValue: Record<string, unknown> = {};
  const newValue: Record<string, unknown> = {};
  for (const key of Object.keys(next) as Array<keyof WorkOrder>) {
    if (key === 'version' || JSON.stringify(next[key]) === JSON.stringify(old[key])) continue;
    oldValue[key] = old[key];
    newValue[key] = next[key];
  }
  return { oldValue, newValue };
}

export const UPDATE_WORK_ORDER_SQL = `UPDATE work_orders SET state = @state, title = @title, description = @description, assignee = @assignee, incomplete_reason = @incompleteReason,
  cause_code = @causeCode, notes = @notes, started_at = @startedAt, completed_at = @completedAt, completion = @completion,
  due_at = @dueAt, window_start = @windowStart, window_end = @windowEnd, version = version + 1 WHERE id = @id`;

export function updateWorkOrderArgs(id: number, next: WorkOrder): Record<string, unknown> {
  return {
    id,
    state: next.state,
    title: next.title,
    description: next.description,
    assignee: next.assignee,
    incompleteReason: next.incompleteReason,
    causeCode: next.causeCode,
    notes: next.notes,
    startedAt: next.startedAt,
    completedAt: next.completedAt,
    completion: next.completion,
    dueAt: next.window?.dueAt ?? null,
    windowStart: next.window?.windowStart ?? null,
    windowEnd: next.window?.windowEnd ?? null,
  };
}

/** A state change is audited as `work-order:<new state>`, other edits as `work-order:update`. */
export function workOrderUpdateAudit(id: number, plan: PlannedUpdate, diff: ReturnType<typeof workOrderDiff>, actor: Actor, reason?: string): AuditInput {
  const action = plan.moving ? `work-order:${plan.next.state}` : 'work-order:update';
  return { ...by(actor), action, objectType: 'work-order', objectId: String(id), ...diff, reason: reason ?? null };
}

/** A search logged on an open work order: the entry appended, or a refusal. */
export function searchEntry(
  old: WorkOrder,
  search: { where: string; at: number; note?: string | null },
  actor: Actor,
): { entry: { by: string; at: number; where: string; note: string | null }; searches: string } | HtmRefusal {
  if (FINAL_STATES.has(old.state)) return invalid(409, 'state', `work order ${old.id} is ${old.state}; log searches while it is open`);
  const entry = { by: actor.sub, at: search.at, where: search.where, note: search.note ?? null };
  return { entry, searches: JSON.stringify([...old.searches, entry]) };
}

export function searchAudit(id: number, entry: unknown, actor: Actor): AuditInput {
  return { ...by(actor), action: 'work-order:search', objectType: 'work-order', objectId: String(id), newValue: entry, reason: null };
}
