import type pg from 'pg';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { HtmOutcome, PmSchedule, PmScheduleInput, PmSchedulePatch } from '../htm-store.js';
import { type ScheduleRow, toScheduleRow } from '../shared/htm-rows.js';
import * as rules from '../shared/schedules.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, all, one, run, tx } from './pg-db.js';

/** PM schedules in PostgreSQL (rules in ../shared/schedules.ts); rows read for a change are locked FOR UPDATE. */
export class PgSchedules {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly calendar: SiteCalendar,
  ) {}

  view(s: ScheduleRow, now: number): PmSchedule {
    return rules.scheduleView(s, now, this.calendar);
  }

  async row(db: Queryable, id: number, lock = false): Promise<ScheduleRow | undefined> {
    const r = await one(db, `SELECT * FROM pm_schedules WHERE id = ?${lock ? ' FOR UPDATE' : ''}`, [id]);
    return r ? toScheduleRow(r) : undefined;
  }

  async create(deviceId: string, input: PmScheduleInput, actor: Actor, reason?: string): Promise<HtmOutcome<PmSchedule>> {
    const problem = rules.yearsProblem(input.frequency, input.years ?? null);
    if (problem) return problem;
    return tx(this.pool, async (c): Promise<HtmOutcome<PmSchedule>> => {
      if (!(await one(c, 'SELECT 1 FROM devices WHERE id = ?', [deviceId]))) return { ok: false, reason: 'not_found', what: `no device "${deviceId}"` };
      const now = Date.now();
      const created = toScheduleRow(
        (await one(c, 'INSERT INTO pm_schedules (device_id, task, frequency, years, first_due_at, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *', [
          deviceId,
          input.task,
          input.frequency,
          input.years ?? null,
          input.firstDueAt,
          now,
        ])) as Record<string, unknown>,
      );
      await this.audit.append(c, rules.scheduleCreatedAudit(created, actor, reason));
      return { ok: true, value: this.view(created, now) };
    });
  }

  async list(q: { device?: string; dueBefore?: number; limit: number; offset: number }, now: number): Promise<{ items: PmSchedule[]; total: number }> {
    const rows = q.device
      ? await all(this.pool, 'SELECT * FROM pm_schedules WHERE device_id = ? ORDER BY id', [q.device])
      : await all(this.pool, 'SELECT * FROM pm_schedules ORDER BY id');
    return rules.schedulePage(
      rows.map((r) => this.view(toScheduleRow(r), now)),
      q,
    );
  }

  async update(id: number, patch: PmSchedulePatch, expectedVersion: number, actor: Actor, reason?: string): Promise<HtmOutcome<PmSchedule>> {
    return tx(this.pool, async (c): Promise<HtmOutcome<PmSchedule>> => {
      const old = await this.row(c, id, true);
      if (!old) return { ok: false, reason: 'not_found', what: `no PM schedule ${id}` };
      const plan = rules.planScheduleUpdate(old, patch, expectedVersion);
      if ('ok' in plan) return plan;
      if (Object.keys(plan.newValue).length > 0) {
        await run(c, rules.UPDATE_SCHEDULE_SQL, rules.updateScheduleArgs(id, plan.next));
        await this.audit.append(c, rules.scheduleUpdateAudit(id, plan, actor, reason));
      }
      return { ok: true, value: this.view((await this.row(c, id)) as ScheduleRow, Date.now()) };
    });
  }

  /** Inside the work order's transaction: the schedule now counts from `completedAt`. */
  async advance(c: Queryable, s: ScheduleRow, completedAt: number, workOrderId: number, actor: Actor): Promise<void> {
    if (!rules.advances(s, completedAt)) return;
    await run(c, 'UPDATE pm_schedules SET last_completed_at = ?, version = version + 1 WHERE id = ?', [completedAt, s.id]);
    await this.audit.append(c, rules.scheduleAdvanceAudit(s, completedAt, workOrderId, actor));
  }
}
