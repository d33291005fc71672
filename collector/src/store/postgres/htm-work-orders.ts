import type pg from 'pg';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { HtmOutcome, ImpactSummary, WorkOrder, WorkOrderInput, WorkOrderPatch, WorkOrderQuery } from '../htm-store.js';
import { toWorkOrder } from '../shared/htm-rows.js';
import * as rules from '../shared/work-orders.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import type { PgSchedules } from './htm-schedules.js';
import { type Queryable, one, run, tx } from './pg-db.js';
import { selectPage, where } from './paged.js';

/** Work orders in PostgreSQL (rules in ../shared/work-orders.ts); rows read for a change are locked FOR UPDATE. */
export class PgWorkOrders {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly calendar: SiteCalendar,
    private readonly schedules: PgSchedules,
  ) {}

  async get(db: Queryable, id: number, lock = false): Promise<WorkOrder | undefined> {
    const r = await one(db, `SELECT * FROM work_orders WHERE id = ?${lock ? ' FOR UPDATE' : ''}`, [id]);
    return r ? toWorkOrder(r) : undefined;
  }

  /** Inside a transaction; checks done by the caller. */
  async insert(
    c: Queryable,
    input: WorkOrderInput,
    actor: Actor,
    reason: string | null,
    extra: { calibrationId?: number; impact?: ImpactSummary } = {},
  ): Promise<WorkOrder> {
    const created = toWorkOrder(
      (await one(c, `${rules.INSERT_WORK_ORDER_SQL} RETURNING *`, rules.insertWorkOrderArgs(input, actor, extra))) as Record<string, unknown>,
    );
    await this.audit.append(c, rules.workOrderCreatedAudit(created, actor, reason));
    return created;
  }

  async create(input: WorkOrderInput, actor: Actor, reason?: string): Promise<HtmOutcome<WorkOrder>> {
    return tx(this.pool, async (c): Promise<HtmOutcome<WorkOrder>> => {
      if (!(await one(c, 'SELECT 1 FROM devices WHERE id = ?', [input.deviceId])))
        return { ok: false, reason: 'not_found', what: `no device "${input.deviceId}"` };
      if (input.scheduleId != null) {
        const problem = rules.scheduleProblem(input, await this.schedules.row(c, input.scheduleId));
        if (problem) return problem;
      }
      return { ok: true, value: await this.insert(c, input, actor, reason ?? null) };
    });
  }

  async list(q: WorkOrderQuery): Promise<{ items: WorkOrder[]; total: number }> {
    const filter = where(rules.workOrderFilters(q));
    const { rows, total } = await selectPage(this.pool, { from: 'work_orders', where: filter, orderBy: 'id DESC', limit: q.limit, offset: q.offset });
    return { items: rows.map(toWorkOrder), total };
  }

  async update(id: number, patch: WorkOrderPatch & { at?: number }, expectedVersion: number, actor: Actor, reason?: string): Promise<HtmOutcome<WorkOrder>> {
    return tx(this.pool, async (c): Promise<HtmOutcome<WorkOrder>> => {
      const old = await this.get(c, id, true);
      if (!old) return { ok: false, reason: 'not_found', what: `no work order ${id}` };
      const plan = rules.planUpdate(old, patch, expectedVersion);
      if ('ok' in plan) return plan;
      if (plan.scheduleId !== null) {
        const schedule = await this.schedules.row(c, plan.scheduleId, true);
        if (schedule) {
          rules.completeForSchedule(plan, schedule, this.calendar);
          await this.schedules.advance(c, schedule, plan.at, id, actor);
        }
      }
      const diff = rules.workOrderDiff(old, plan.next);
      if (Object.keys(diff.newValue).length === 0) return { ok: true, value: old };
      await run(c, rules.UPDATE_WORK_ORDER_SQL, rules.updateWorkOrderArgs(id, plan.next));
      await this.audit.append(c, rules.workOrderUpdateAudit(id, plan, diff, actor, reason));
      return { ok: true, value: (await this.get(c, id)) as WorkOrder };
    });
  }

  async logSearch(id: number, search: { where: string; at: number; note?: string | null }, actor: Actor): Promise<HtmOutcome<WorkOrder>> {
    return tx(this.pool, async (c): Promise<HtmOutcome<WorkOrder>> => {
      const old = await this.get(c, id, true);
      if (!old) return { ok: false, reason: 'not_found', what: `no work order ${id}` };
      const logged = rules.searchEntry(old, search, actor);
      if ('ok' in logged) return logged;
      await run(c, 'UPDATE work_orders SET searches = ?, version = version + 1 WHERE id = ?', [logged.searches, id]);
      await this.audit.append(c, rules.searchAudit(id, logged.entry, actor));
      return { ok: true, value: (await this.get(c, id)) as WorkOrder };
    });
  }
}
