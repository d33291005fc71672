import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import { classifyCompletion, nextWindow, type SiteCalendar } from '../../htm/pm-schedule.js';
import { FINAL_STATES, transitionProblem, type WorkOrderState } from '../../htm/work-order-rules.js';
import type { HtmOutcome, ImpactSummary, WorkOrder, WorkOrderInput, WorkOrderPatch, WorkOrderQuery } from '../htm-store.js';
import type { Actor } from '../store.js';
import { by } from '../shared/calibrations.js';
import { type Row, toWorkOrder } from '../shared/htm-rows.js';
import { selectPage, where } from './paged.js';
import type { SqliteSchedules } from './htm-schedules.js';

const invalid = (status: 400 | 409, field: string, message: string) => ({ ok: false as const, reason: 'invalid' as const, status, field, message });

/** Work orders: typed, moved through their states by the rules in ../../htm/work-order-rules.ts, each change audited. */
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
    const state: WorkOrderState = input.assignee ? 'assigned' : 'draft';
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO work_orders (device_id, type, state, title, description, assignee, alert_id, schedule_id, calibration_id, impact, opened_by, opened_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
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
        ).lastInsertRowid,
    );
    const created = this.get(id) as WorkOrder;
    this.audit.append({ ...by(actor), action: 'work-order:create', objectType: 'work-order', objectId: String(id), newValue: created, reason });
    return created;
  }

  create(input: WorkOrderInput, actor: Actor, reason?: string): HtmOutcome<WorkOrder> {
    return this.db.transaction((): HtmOutcome<WorkOrder> => {
      if (!this.db.prepare('SELECT 1 FROM devices WHERE id = ?').get(input.deviceId))
        return { ok: false, reason: 'not_found', what: `no device "${input.deviceId}"` };
      if (input.scheduleId != null) {
        const schedule = this.schedules.row(input.scheduleId);
        if (!schedule || schedule.deviceId !== input.deviceId)
          return invalid(400, 'scheduleId', `device "${input.deviceId}" has no PM schedule ${input.scheduleId}`);
        if (input.type !== 'preventive') return invalid(400, 'scheduleId', 'only preventive work orders follow a PM schedule');
      }
      return { ok: true, value: this.insert(input, actor, reason ?? null) };
    })();
  }

  list(q: WorkOrderQuery): { items: WorkOrder[]; total: number } {
    const filter = where([
      ['state = ?', q.state],
      ['type = ?', q.type],
      ['device_id = ?', q.device],
    ]);
    const { rows, total } = selectPage(this.db, { from: 'work_orders', where: filter, orderBy: 'id DESC', limit: q.limit, offset: q.offset });
    return { items: rows.map(toWorkOrder), total };
  }

  update(id: number, patch: WorkOrderPatch & { at?: number }, expectedVersion: number, actor: Actor, reason?: string): HtmOutcome<WorkOrder> {
    return this.db.transaction((): HtmOutcome<WorkOrder> => {
      const old = this.get(id);
      if (!old) return { ok: false, reason: 'not_found', what: `no work order ${id}` };
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
      if (moving && next.state === 'completed' && old.type === 'preventive' && old.scheduleId !== null) {
        const schedule = this.schedules.row(old.scheduleId);
        if (schedule) {
          next.window = nextWindow(schedule, this.calendar);
          next.completion = classifyCompletion(at, next.window);
          this.schedules.advance(schedule, at, id, actor);
        }
      }
      const oldValue: Record<string, unknown> = {};
      const newValue: Record<string, unknown> = {};
      for (const key of Object.keys(next) as Array<keyof WorkOrder>) {
        if (key === 'version' || JSON.stringify(next[key]) === JSON.stringify(old[key])) continue;
        oldValue[key] = old[key];
        newValue[key] = next[key];
      }
      if (Object.keys(newValue).length === 0) return { ok: true, value: old };
      this.db
        .prepare(
          `UPDATE work_orders SET state = @state, title = @title, description = @description, assignee = @assignee, incomplete_reason = @incompleteReason,
             cause_code = @causeCode, notes = @notes, started_at = @startedAt, completed_at = @completedAt, completion = @completion,
             due_at = @dueAt, window_start = @windowStart, window_end = @windowEnd, version = version + 1 WHERE id = @id`,
        )
        .run({
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
        });
      const action = moving ? `work-order:${next.state}` : 'work-order:update';
      this.audit.append({ ...by(actor), action, objectType: 'work-order', objectId: String(id), oldValue, newValue, reason: reason ?? null });
      return { ok: true, value: this.get(id) as WorkOrder };
    })();
  }

  logSearch(id: number, search: { where: string; at: number; note?: string | null }, actor: Actor): HtmOutcome<WorkOrder> {
    return this.db.transaction((): HtmOutcome<WorkOrder> => {
      const old = this.get(id);
      if (!old) return { ok: false, reason: 'not_found', what: `no work order ${id}` };
      if (FINAL_STATES.has(old.state)) return invalid(409, 'state', `work order ${id} is ${old.state}; log searches while it is open`);
      const entry = { by: actor.sub, at: search.at, where: search.where, note: search.note ?? null };
      this.db.prepare('UPDATE work_orders SET searches = ?, version = version + 1 WHERE id = ?').run(JSON.stringify([...old.searches, entry]), id);
      this.audit.append({ ...by(actor), action: 'work-order:search', objectType: 'work-order', objectId: String(id), newValue: entry, reason: null });
      return { ok: true, value: this.get(id) as WorkOrder };
    })();
  }
}
