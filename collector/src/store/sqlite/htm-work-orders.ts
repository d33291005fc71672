import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { HtmOutcome, ImpactSummary, WorkOrder, WorkOrderInput, WorkOrderPatch, WorkOrderQuery } from '../htm-store.js';
import type { Actor } from '../store.js';
import { type Row, toWorkOrder } from '../shared/htm-rows.js';
import * as rules from '../shared/work-orders.js';
import { selectPage, where } from './paged.js';
import type { SqliteSchedules } from './htm-schedules.js';

/** Work orders: typed, moved through their states by the rules in ../shared/work-orders.ts, each change audited. */
export class SqliteWorkOrders {
  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly calendar: SiteCalendar,
    private readonly schedules: SqliteSchedules,
  ) {}

  get(id: number): WorkOrder | undefined {
    const r = this.db.prepare('SELECT * FROM work_orders WHERE id = ?').get(id) as Row | undefined;
    return r ? toWorkOrder(r) : undefined;
  }

  /** Inside a transaction; checks done by the caller. */
  insert(input: WorkOrderInput, actor: Actor, reason: string | null, extra: { calibrationId?: number; impact?: ImpactSummary } = {}): WorkOrder {
    const id = Number(this.db.prepare(rules.INSERT_WORK_ORDER_SQL).run(...rules.insertWorkOrderArgs(input, actor, extra)).lastInsertRowid);
    const created = this.get(id) as WorkOrder;
    this.audit.append(rules.workOrderCreatedAudit(created, actor, reason));
    return created;
  }

  create(input: WorkOrderInput, actor: Actor, reason?: string): HtmOutcome<WorkOrder> {
    return this.db.transaction((): HtmOutcome<WorkOrder> => {
      if (!this.db.prepare('SELECT 1 FROM devices WHERE id = ?').get(input.deviceId))
        return { ok: false, reason: 'not_found', what: `no device "${input.deviceId}"` };
      if (input.scheduleId != null) {
        const problem = rules.scheduleProblem(input, this.schedules.row(input.scheduleId));
        if (problem) return problem;
      }
      return { ok: true, value: this.insert(input, actor, reason ?? null) };
    })();
  }

  list(q: WorkOrderQuery): { items: WorkOrder[]; total: number } {
    const filter = where(rules.workOrderFilters(q));
    const { rows, total } = selectPage(this.db, { from: 'work_orders', where: filter, orderBy: 'id DESC', limit: q.limit, offset: q.offset });
    return { items: rows.map(toWorkOrder), total };
  }

  update(id: number, patch: WorkOrderPatch & { at?: number }, expectedVersion: number, actor: Actor, reason?: string): HtmOutcome<WorkOrder> {
    return this.db.transaction((): HtmOutcome<WorkOrder> => {
      const old = this.get(id);
      if (!old) return { ok: false, reason: 'not_found', what: `no work order ${id}` };
      const plan = rules.planUpdate(old, patch, expectedVersion);
      if ('ok' in plan) return plan;
      if (plan.scheduleId !== null) {
        const schedule = this.schedules.row(plan.scheduleId);
        if (schedule) {
          rules.completeForSchedule(plan, schedule, this.calendar);
          this.schedules.advance(schedule, plan.at, id, actor);
        }
      }
      const diff = rules.workOrderDiff(old, plan.next);
      if (Object.keys(diff.newValue).length === 0) return { ok: true, value: old };
      this.db.prepare(rules.UPDATE_WORK_ORDER_SQL).run(rules.updateWorkOrderArgs(id, plan.next));
      this.audit.append(rules.workOrderUpdateAudit(id, plan, diff, actor, reason));
      return { ok: true, value: this.get(id) as WorkOrder };
    })();
  }

  logSearch(id: number, search: { where: string; at: number; note?: string | null }, actor: Actor): HtmOutcome<WorkOrder> {
    return this.db.transaction((): HtmOutcome<WorkOrder> => {
      const old = this.get(id);
      if (!old) return { ok: false, reason: 'not_found', what: `no work order ${id}` };
      const logged = rules.searchEntry(old, search, actor);
      if ('ok' in logged) return logged;
      this.db.prepare('UPDATE work_orders SET searches = ?, version = version + 1 WHERE id = ?').run(logged.searches, id);
      this.audit.append(rules.searchAudit(id, logged.entry, actor));
      return { ok: true, value: this.get(id) as WorkOrder };
    })();
  }
}
