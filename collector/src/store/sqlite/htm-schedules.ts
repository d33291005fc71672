import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { HtmOutcome, PmSchedule, PmScheduleInput, PmSchedulePatch } from '../htm-store.js';
import type { Actor } from '../store.js';
import { type Row, type ScheduleRow, toScheduleRow } from '../shared/htm-rows.js';
import * as rules from '../shared/schedules.js';

/** Preventive-maintenance schedules (rules in ../shared/schedules.ts); their due windows are computed from the last completion with the site calendar. */
export class SqliteSchedules {
  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly calendar: SiteCalendar,
  ) {}

  view(s: ScheduleRow, now: number): PmSchedule {
    return rules.scheduleView(s, now, this.calendar);
  }

  row(id: number): ScheduleRow | undefined {
    const r = this.db.prepare('SELECT * FROM pm_schedules WHERE id = ?').get(id) as Row | undefined;
    return r ? toScheduleRow(r) : undefined;
  }

  create(deviceId: string, input: PmScheduleInput, actor: Actor, reason?: string): HtmOutcome<PmSchedule> {
    const problem = rules.yearsProblem(input.frequency, input.years ?? null);
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
      this.audit.append(rules.scheduleCreatedAudit(created, actor, reason));
      return { ok: true, value: this.view(created, now) };
    })();
  }

  list(q: { device?: string; dueBefore?: number; limit: number; offset: number }, now: number): { items: PmSchedule[]; total: number } {
    const rows = (
      q.device
        ? this.db.prepare('SELECT * FROM pm_schedules WHERE device_id = ? ORDER BY id').all(q.device)
        : this.db.prepare('SELECT * FROM pm_schedules ORDER BY id').all()
    ) as Row[];
    return rules.schedulePage(
      rows.map((r) => this.view(toScheduleRow(r), now)),
      q,
    );
  }

  update(id: number, patch: PmSchedulePatch, expectedVersion: number, actor: Actor, reason?: string): HtmOutcome<PmSchedule> {
    return this.db.transaction((): HtmOutcome<PmSchedule> => {
      const old = this.row(id);
      if (!old) return { ok: false, reason: 'not_found', what: `no PM schedule ${id}` };
      const plan = rules.planScheduleUpdate(old, patch, expectedVersion);
      if ('ok' in plan) return plan;
      if (Object.keys(plan.newValue).length > 0) {
        this.db.prepare(rules.UPDATE_SCHEDULE_SQL).run(...rules.updateScheduleArgs(id, plan.next));
        this.audit.append(rules.scheduleUpdateAudit(id, plan, actor, reason));
      }
      return { ok: true, value: this.view(this.row(id) as ScheduleRow, Date.now()) };
    })();
  }

  /** Call inside the work order's transaction: the schedule now counts from `completedAt`. */
  advance(s: ScheduleRow, completedAt: number, workOrderId: number, actor: Actor): void {
    if (!rules.advances(s, completedAt)) return;
    this.db.prepare('UPDATE pm_schedules SET last_completed_at = ?, version = version + 1 WHERE id = ?').run(completedAt, s.id);
    this.audit.append(rules.scheduleAdvanceAudit(s, completedAt, workOrderId, actor));
  }
}
