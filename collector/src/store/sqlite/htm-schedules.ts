import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import { nextWindow, type SiteCalendar } from '../../htm/pm-schedule.js';
import type { HtmOutcome, PmSchedule, PmScheduleInput, PmSchedulePatch } from '../htm-store.js';
import type { Actor } from '../store.js';
import { by } from '../shared/calibrations.js';
import { type Row, type ScheduleRow, toScheduleRow } from '../shared/htm-rows.js';

/** Preventive-maintenance schedules; their due windows are computed from the last completion with the site calendar. */
export class SqliteSchedules {
  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly calendar: SiteCalendar,
  ) {}

  view(s: ScheduleRow, now: number): PmSchedule {
    const window = nextWindow(s, this.calendar);
    return { ...s, ...window, overdue: s.active && now >= window.windowEnd };
  }

  row(id: number): ScheduleRow | undefined {
    const r = this.db.prepare('SELECT * FROM pm_schedules WHERE id = ?').get(id) as Row | undefined;
    return r ? toScheduleRow(r) : undefined;
  }

  create(deviceId: string, input: PmScheduleInput, actor: Actor, reason?: string): HtmOutcome<PmSchedule> {
    const problem = yearsProblem(input.frequency, input.years ?? null);
    if (problem) return problem;
    return this.db.transaction((): HtmOutcome<PmSchedule> => {
      if (!this.db.prepare('SELECT 1 FROM devices WHERE id = ?').get(deviceId)) return { ok: false, reason: 'not_found', what: `no device "${deviceId}"` };
      const now = Date.now();
      const id = Number(
        this.db
          .prepare('INSERT INTO pm_schedules (device_id, task, frequency, years, first_due_at, created_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(deviceId, input.task, input.frequency, input.years ?? null, input.firstDueAt, now).lastInsertRowid,
      );
      const created = this.row(id) as ScheduleRow;
      this.audit.append({
        ...by(actor),
        action: 'pm-schedule:create',
        objectType: 'pm-schedule',
        objectId: String(id),
        newValue: created,
        reason: reason ?? null,
      });
      return { ok: true, value: this.view(created, now) };
    })();
  }

  list(q: { device?: string; dueBefore?: number; limit: number; offset: number }, now: number): { items: PmSchedule[]; total: number } {
    const rows = (
      q.device
        ? this.db.prepare('SELECT * FROM pm_schedules WHERE device_id = ? ORDER BY id').all(q.device)
        : this.db.prepare('SELECT * FROM pm_schedules ORDER BY id').all()
    ) as Row[];
    let items = rows.map((r) => this.view(toScheduleRow(r), now));
    if (q.dueBefore !== undefined) {
      const before = q.dueBefore;
      items = items.filter((s) => s.active && s.windowStart < before).sort((a, b) => a.windowEnd - b.windowEnd || a.id - b.id);
    }
    return { items: items.slice(q.offset, q.offset + q.limit), total: items.length };
  }

  update(id: number, patch: PmSchedulePatch, expectedVersion: number, actor: Actor, reason?: string): HtmOutcome<PmSchedule> {
    return this.db.transaction((): HtmOutcome<PmSchedule> => {
      const old = this.row(id);
      if (!old) return { ok: false, reason: 'not_found', what: `no PM schedule ${id}` };
      if (old.version !== expectedVersion) return { ok: false, reason: 'stale', current: old.version };
      const next = { ...old, ...patch };
      if (patch.frequency !== undefined && patch.frequency !== 'multi-year' && patch.years === undefined) next.years = null;
      const problem = yearsProblem(next.frequency, next.years);
      if (problem) return problem;
      const oldValue: Record<string, unknown> = {};
      const newValue: Record<string, unknown> = {};
      for (const key of ['task', 'frequency', 'years', 'firstDueAt', 'active'] as const) {
        if (next[key] === old[key]) continue;
        oldValue[key] = old[key];
        newValue[key] = next[key];
      }
      if (Object.keys(newValue).length > 0) {
        this.db
          .prepare('UPDATE pm_schedules SET task = ?, frequency = ?, years = ?, first_due_at = ?, active = ?, version = version + 1 WHERE id = ?')
          .run(next.task, next.frequency, next.years, next.firstDueAt, Number(next.active), id);
        this.audit.append({
          ...by(actor),
          action: 'pm-schedule:update',
          objectType: 'pm-schedule',
          objectId: String(id),
          oldValue,
          newValue,
          reason: reason ?? null,
        });
      }
      return { ok: true, value: this.view(this.row(id) as ScheduleRow, Date.now()) };
    })();
  }

  /** Call inside the work order's transaction: the schedule now counts from `completedAt`. */
  advance(s: ScheduleRow, completedAt: number, workOrderId: number, actor: Actor): void {
    if (s.lastCompletedAt !== null && s.lastCompletedAt >= completedAt) return;
    this.db.prepare('UPDATE pm_schedules SET last_completed_at = ?, version = version + 1 WHERE id = ?').run(completedAt, s.id);
    this.audit.append({
      ...by(actor),
      action: 'pm-schedule:advance',
      objectType: 'pm-schedule',
      objectId: String(s.id),
      oldValue: { lastCompletedAt: s.lastCompletedAt },
      newValue: { lastCompletedAt: completedAt, workOrderId },
      reason: `work order ${workOrderId} completed`,
    });
  }
}

export function yearsProblem(frequency: string, years: number | null): HtmOutcome<never> | null {
  if (frequency === 'multi-year' && years === null)
    return { ok: false, reason: 'invalid', status: 400, field: 'years', message: 'a multi-year schedule needs years (2-10)' };
  if (frequency !== 'multi-year' && years !== null)
    return { ok: false, reason: 'invalid', status: 400, field: 'years', message: 'years is only for the multi-year frequency' };
  return null;
}
