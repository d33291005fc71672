import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import { addDays, addMonths, calendarDaysBetween, fromLocal, localDate, startOfDay } from '../../htm/calendar.js';
import { DECISION_RULE, evaluate, expiredTestEquipment } from '../../htm/calibration.js';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { CalibrationDue, CalibrationInput, CalibrationRecord, HtmOutcome, ImpactSummary, ModelInterval, WorkOrder } from '../htm-store.js';
import type { Actor } from '../store.js';
import { type Row, toCalibration } from './htm-rows.js';
import { selectPage, where } from './paged.js';
import type { SqliteWorkOrders } from './htm-work-orders.js';

/**
 * Calibration intervals (per model, overridden per device), calibration
 * records, due dates, and the impact assessment an out-of-tolerance as-found
 * result opens.
 */
export class SqliteCalibrations {
  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly calendar: SiteCalendar,
    private readonly workOrders: SqliteWorkOrders,
  ) {}

  setModelInterval(model: string, intervalMonths: number | null, actor: Actor, reason: string): ModelInterval | null {
    return this.db.transaction(() => {
      const old = this.db.prepare('SELECT interval_months FROM calibration_intervals WHERE model = ?').get(model) as Row | undefined;
      const now = Date.now();
      if (intervalMonths === null) this.db.prepare('DELETE FROM calibration_intervals WHERE model = ?').run(model);
      else {
        this.db
          .prepare(
            `INSERT INTO calibration_intervals (model, interval_months, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (model) DO UPDATE SET interval_months = excluded.interval_months, updated_at = excluded.updated_at`,
          )
          .run(model, intervalMonths, now);
      }
      this.audit.append({
        ...by(actor),
        action: intervalMonths === null ? 'calibration:delete-interval' : 'calibration:set-interval',
        objectType: 'model',
        objectId: model,
        oldValue: old ? { intervalMonths: old.interval_months } : null,
        newValue: intervalMonths === null ? null : { intervalMonths },
        reason,
      });
      return intervalMonths === null ? null : { model, intervalMonths, updatedAt: now };
    })();
  }

  listModelIntervals(): ModelInterval[] {
    return (this.db.prepare('SELECT * FROM calibration_intervals ORDER BY model').all() as Row[]).map((r) => ({
      model: r.model as string,
      intervalMonths: r.interval_months as number,
      updatedAt: r.updated_at as number,
    }));
  }

  record(
    deviceId: string,
    input: CalibrationInput,
    actor: Actor,
    reason: string,
  ): HtmOutcome<{ calibration: CalibrationRecord; impactWorkOrder: WorkOrder | null }> {
    const expired = expiredTestEquipment(input.testEquipment, input.performedAt);
    if (expired >= 0) {
      const e = input.testEquipment[expired];
      return {
        ok: false,
        reason: 'invalid',
        status: 400,
        field: `testEquipment/${expired}/calibrationDueAt`,
        message: `test equipment "${e?.id}" was itself out of calibration (due ${new Date(e?.calibrationDueAt ?? 0).toISOString()}) when this calibration was performed; results measured with it are not traceable`,
      };
    }
    const found = evaluate(input.asFound);
    const left = input.asLeft?.length ? evaluate(input.asLeft) : found;
    return this.db.transaction(() => {
      const device = this.db.prepare('SELECT id FROM devices WHERE id = ?').get(deviceId);
      if (!device) return { ok: false as const, reason: 'not_found' as const, what: `no device "${deviceId}"` };
      const previousPass = this.lastPass(deviceId, input.performedAt);
      const now = Date.now();
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO calibrations (device_id, performed_at, procedure, performed_by, technician, approver, certificate, as_found, as_left,
               as_found_pass, as_left_pass, result, decision_rule, test_equipment, conditions, notes, recorded_by, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            deviceId,
            input.performedAt,
            input.procedure,
            input.performedBy,
            input.technician,
            input.approver ?? null,
            input.certificate ?? null,
            JSON.stringify(found.readings),
            JSON.stringify(left.readings),
            Number(found.pass),
            Number(left.pass),
            left.pass ? 'pass' : 'fail',
            DECISION_RULE,
            JSON.stringify(input.testEquipment),
            input.conditions ?? null,
            input.notes ?? null,
            actor.sub,
            now,
          ).lastInsertRowid,
      );
      let impactWorkOrder: WorkOrder | null = null;
      if (!found.pass) {
        const impact = this.impactSummary(deviceId, id, previousPass, input.performedAt);
        const failing = found.readings
          .filter((r) => !r.pass)
          .map((r) => `${r.point}: measured ${r.measured} ${r.unit}, expected ${r.expected} ± ${r.tolerance}`);
        impactWorkOrder = this.workOrders.insert(
          {
            deviceId,
            type: 'impact-assessment',
            title: `Impact assessment: as-found out of tolerance (calibration ${id})`,
            description: `As found out of tolerance at ${failing.join('; ')}. Review the ${impact.total} readings taken since the last passing calibration for patient impact.`,
            openedAt: now,
          },
          actor,
          reason,
          { calibrationId: id, impact },
        );
        this.db.prepare('UPDATE calibrations SET impact_work_order = ? WHERE id = ?').run(impactWorkOrder.id, id);
      }
      const calibration = toCalibration(this.db.prepare('SELECT * FROM calibrations WHERE id = ?').get(id) as Row);
      this.audit.append({ ...by(actor), action: 'calibration:create', objectType: 'calibration', objectId: String(id), newValue: calibration, reason });
      return { ok: true as const, value: { calibration, impactWorkOrder } };
    })();
  }

  private lastPass(deviceId: string, before = Number.MAX_SAFE_INTEGER): number | null {
    const row = this.db
      .prepare("SELECT max(performed_at) AS t FROM calibrations WHERE device_id = ? AND result = 'pass' AND performed_at < ?")
      .get(deviceId, before) as { t: number | null };
    return row.t;
  }

  /** Counts per metric, not copies: the readings stay in telemetry, one link away. */
  private impactSummary(deviceId: string, calibrationId: number, since: number | null, until: number): ImpactSummary {
    const metrics = this.db
      .prepare(
        `SELECT s.metric AS metric, s.unit AS unit, count(*) AS count, min(r.t) AS "from", max(r.t) AS "to"
         FROM series s JOIN readings r ON r.series_id = s.id
         WHERE s.device_id = ? AND r.t >= ? AND r.t <= ? GROUP BY s.metric, s.unit ORDER BY s.metric, s.unit`,
      )
      .all(deviceId, since ?? Number.MIN_SAFE_INTEGER, until) as ImpactSummary['metrics'];
    const from = since === null ? '' : `from=${new Date(since).toISOString()}&`;
    return {
      calibrationId,
      since,
      until,
      total: metrics.reduce((n, m) => n + m.count, 0),
      metrics,
      readingsUrl: `/api/v1/devices/${encodeURIComponent(deviceId)}/telemetry?${from}to=${new Date(until + 1).toISOString()}`,
    };
  }

  list(deviceId: string, page: { limit: number; offset: number }): { items: CalibrationRecord[]; total: number } {
    const filter = where([['device_id = ?', deviceId]]);
    const { rows, total } = selectPage(this.db, { from: 'calibrations', where: filter, orderBy: 'performed_at DESC, id DESC', ...page });
    return { items: rows.map(toCalibration), total };
  }

  /** Due state of every active device that has an interval (of its own, or its model's). */
  due(now: number, deviceId?: string): CalibrationDue[] {
    const rows = this.db
      .prepare(
        `SELECT d.id, d.model, d.type, d.location, d.department, d.high_risk, d.life_support, d.install_date, d.first_seen,
           d.calibration_interval_months AS own_interval, ci.interval_months AS model_interval,
           (SELECT max(performed_at) FROM calibrations c WHERE c.device_id = d.id AND c.result = 'pass') AS last_pass
         FROM devices d LEFT JOIN calibration_intervals ci ON ci.model = d.model
         WHERE d.lifecycle = 'active' AND coalesce(d.calibration_interval_months, ci.interval_months) IS NOT NULL ${deviceId ? 'AND d.id = ?' : ''}`,
      )
      .all(...(deviceId ? [deviceId] : [])) as Row[];
    const tz = this.calendar.timeZone;
    return rows
      .map((r): CalibrationDue => {
        const intervalMonths = (r.own_interval ?? r.model_interval) as number;
        const lastPassAt = (r.last_pass as number | null) ?? null;
        // Never calibrated here: due since it was installed (or first seen), i.e. now.
        const due = lastPassAt !== null ? addMonths(lastPassAt, intervalMonths, tz) : installedAt(r, tz);
        const dueAt = startOfDay(due, tz);
        const overdue = now >= addDays(dueAt, 1, tz);
        return {
          deviceId: r.id as string,
          model: r.model as string | null,
          type: r.type as string | null,
          location: r.location as string | null,
          department: r.department as string | null,
          highRisk: r.high_risk === 1,
          lifeSupport: r.life_support === 1,
          intervalMonths,
          intervalSource: r.own_interval !== null ? 'device' : 'model',
          lastPassAt,
          dueAt,
          dueDate: localDate(dueAt, tz),
          overdue,
          daysOverdue: overdue ? calendarDaysBetween(dueAt, now, tz) : 0,
        };
      })
      .sort((a, b) => a.dueAt - b.dueAt || a.deviceId.localeCompare(b.deviceId));
  }
}

export function installedAt(r: Row, timeZone: string): number {
  const date = r.install_date as string | null;
  if (!date) return r.first_seen as number;
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return fromLocal({ year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}

export const by = (actor: Actor) => ({ actor: actor.sub, role: actor.role });
