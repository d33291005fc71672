import type { AuditInput } from '../../audit/types.js';
import { nextWindow, type SiteCalendar } from '../../htm/pm-schedule.js';
import type { HtmOutcome, HtmRefusal, PmSchedule, PmSchedulePatch } from '../htm-store.js';
import type { Actor } from '../store.js';
import { by } from './calibrations.js';
import type { ScheduleRow } from './htm-rows.js';

/**
 * PM schedule rules both backends apply apart from their SQL: the due
 * window from the site calendar, the years/frequency check, what an update
 * changes, when a completion advances a schedule, and the audit entries.
 */

/** A schedule with its next due window; overdue once the window has ended. */
export function scheduleView(s: ScheduleRow, now: number, calendar: SiteCalendar): PmSchedule {
  const window = nextWindow(s, calendar);
  return { ...s, ...window, overdue: s.active && now >= window.windowEnd };
}

export function yearsProblem(frequency: string, years: number | null): HtmOutcome<never> | null {
  if (frequency === 'multi-year' && years === null)
    return { ok: false, reason: 'invalid', status: 400, field: 'years', message: 'a multi-year schedule needs years (2-10)' };
  if (frequency !== 'multi-year' && years !== null)
    return { ok: false, reason: 'invalid', status: 400, field: 'years', message: 'years is only for the multi-year frequency' };
  return null;
}

/** One page of schedules; with `dueBefore`, only active ones whose window opens before it, soonest ending first. */
export function schedulePage(items: PmSchedule[], q: { dueBefore?: number; limit: number; offset: number }): { items: PmSchedule[]; total: number } {
  let kept = items;
  if (q.dueBefore !== undefined) {
    const before = q.dueBefore;
    kept = kept.filter((s) => s.active && s.windowStart < before).sort((a, b) => a.windowEnd - b.windowEnd || a.id - b.id);
  }
  return { items: kept.slice(q.offset, q.offset + q.limit), total: kept.length };
}

export function scheduleCreatedAudit(created: ScheduleRow, actor: Actor, reason?: string): AuditInput {
  return { ...by(actor), action: 'pm-schedule:create', objectType: 'pm-schedule', objectId: String(created.id), newValue: created, reason: reason ?? null };
}

/** The schedule as an accepted patch leaves it and what changed, or a refusal. Switching away from multi-year drops `years`. */
export function planScheduleUpdate(
  old: ScheduleRow,
  patch: PmSchedulePatch,
  expectedVersion: number,
): HtmRefusal | { next: ScheduleRow; oldValue: Record<string, unknown>; newValue: Record<string, unknown> } {
  if (old.version !== expectedVersion) return { ok: false, reason: 'stale', current: old.version };
  const next = { ...old, ...patch };
  if (patch.frequency !== undefined && patch.frequency !== 'multi-year' && patch.years === undefined) next.years = null;
  const problem = yearsProblem(next.frequency, next.years);
  if (problem) return problem as HtmRefusal;
  const oldValue: Record<string, unknown> = {};
  const newValue: Record<string, unknown> = {};
  for (const key of ['task', 'frequency', 'years', 'firstDueAt', 'active'] as const) {
    if (next[key] === old[key]) continue;
    oldValue[key] = old[key];
    newValue[key] = next[key];
  }
  return { next, oldValue, newValue };
}

export const UPDATE_SCHEDULE_SQL =
  'UPDATE pm_schedules SET task = ?, frequency = ?, years = ?, first_due_at = ?, active = ?, version = version + 1 WHERE id = ?';

export function updateScheduleArgs(id: number, next: ScheduleRow): unknown[] {
  return [next.task, next.frequency, next.years, next.firstDueAt, Number(next.active), id];
}

export function scheduleUpdateAudit(
  id: number,
  change: { oldValue: Record<string, unknown>; newValue: Record<string, unknown> },
  actor: Actor,
  reason?: string,
): AuditInput {
  return {
    ...by(actor),
    action: 'pm-schedule:update',
    objectType: 'pm-schedule',
    objectId: String(id),
    oldValue: change.oldValue,
    newValue: change.newValue,
    reason: reason ?? null,
  };
}

/** A completion older than the last one recorded does not move the schedule back. */
export function advances(s: ScheduleRow, completedAt: number): boolean {
  return s.lastCompletedAt === null || s.lastCompletedAt < completedAt;
}

export function scheduleAdvanceAudit(s: ScheduleRow, completedAt: number, workOrderId: number, actor: Actor): AuditInput {
  return {
    ...by(actor),
    action: 'pm-schedule:advance',
    objectType: 'pm-schedule',
    objectId: String(s.id),
    oldValue: { lastCompletedAt: s.lastCompletedAt },
    newValue: { lastCompletedAt: completedAt, workOrderId },
    reason: `work order ${workOrderId} completed`,
  };
}
