import type pg from 'pg';
import { nextWindow, type SiteCalendar } from '../../htm/pm-schedule.js';
import type { HtmOutcome, PmSchedule, PmScheduleInput, PmSchedulePatch } from '../htm-store.js';
import { by } from '../shared/calibrations.js';
import { type ScheduleRow, toScheduleRow } from '../shared/htm-rows.js';
import { yearsProblem } from '../sqlite/htm-schedules.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, all, one, run, tx } from './pg-db.js';

/** PM schedules in PostgreSQL (as ../sqlite/htm-schedules.ts). */
export class PgSchedules {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly calendar: SiteCalendar,
  ) {}

  view(s: ScheduleRow, now: number): PmSchedule {
    const window = nextWindow(s, this.calendar);
    return { ...s, ...window, overdue: s.active && now >= window.windowEnd };
  }

  async row(db: Queryable, id: number, lock = false): Promise<ScheduleRow | undefined> {
    const r = await one(db, `SELECT * FROM pm_schedules WHERE id = ?${lock ? ' FOR UPDATE' : ''}`, [id]);
    return r ? toScheduleRow(r) : undefined;
  }

  async create(deviceId: string, input: PmScheduleInput, actor: Actor, reason?: string): Promise<HtmOutcome<PmSchedule>> {
    const problem = yearsProblem(input.frequency, input.years ?? null);
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
      await this.audit.append(c, {
        ...by(actor),
        action: 'pm-schedule:create',
        objectType: 'pm-schedule',
        objectId: String(created.id),
        newValue: created,
        reason: reason ?? null,
      });
      return { ok: true, value: this.view(created, now) };
    });
  }

  async list(q: { device?: string; dueBefore?: number; limit: number; offset: number }, now: number): Promise<{ items: PmSchedule[]; total: number }> {
    const rows = q.device
      ? await all(this.pool, 'SELECT * FROM pm_schedules WHERE device_id = ? ORDER BY id', [q.device])
      : await all(this.pool, 'SELECT * FROM pm_schedules ORDER BY id');
    let items = rows.map((r) => this.view(toScheduleRow(r), now));
    if (q.dueBefore !== undefined) {
      const before = q.dueBefore;
      items = items.filter((s) => s.active && s.windowStart < before).sort((a, b) => a.windowEnd - b.windowEnd || a.id - b.id);
    }
    return { items: items.slice(q.offset, q.offset + q.limit), total: items.length };
  }

  async update(id: number, patch: PmSchedulePatch, expectedVersion: number, actor: Actor, reason?: string): Promise<HtmOutcome<PmSchedule>> {
    return tx(this.pool, async (c): Promise<HtmOutcome<PmSchedule>> => {
      const old = await this.row(c, id, true);
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
        await run(c, 'UPDATE pm_schedules SET task = ?, frequency = ?, years = ?, first_due_at = ?, active = ?, version = version + 1 WHERE id = ?', [
          next.task,
          next.frequency,
          next.years,
          next.firstDueAt,
          Number(next.active),
          id,
        ]);
        await this.audit.append(c, {
          ...by(actor),
          action: 'pm-schedule:update',
          objectType: 'pm-schedule',
          objectId: String(id),
          oldValue,
          newValue,
          reason: reason ?? null,
        });
      }
      return { ok: true, value: this.view((await this.row(c, id)) as ScheduleRow, Date.now()) };
    });
  }

  /** Inside the work order's transaction: the schedule now counts from `completedAt`. */
  async advance(c: Queryable, s: ScheduleRow, completedAt: number, workOrderId: number, actor: Actor): Promise<void> {
    if (s.lastCompletedAt !== null && s.lastCompletedAt >= completedAt) return;
    await run(c, 'UPDATE pm_schedules SET last_completed_at = ?, version = version + 1 WHERE id = ?', [completedAt, s.id]);
    await this.audit.append(c, {
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
