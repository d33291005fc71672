import type pg from 'pg';
import { addDays, addMonths, calendarDaysBetween, localDate, startOfDay } from '../../htm/calendar.js';
import { DECISION_RULE, evaluate, expiredTestEquipment } from '../../htm/calibration.js';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { CalibrationDue, CalibrationInput, CalibrationRecord, HtmOutcome, ImpactSummary, ModelInterval, WorkOrder } from '../htm-store.js';
import { by, installedAt } from '../sqlite/htm-calibrations.js';
import { toCalibration } from '../sqlite/htm-rows.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import type { PgWorkOrders } from './htm-work-orders.js';
import { type Queryable, type Row, all, one, run, tx } from './pg-db.js';
import { selectPage, where } from './paged.js';

/** Calibration intervals, records, due dates and impact assessments in PostgreSQL (as ../sqlite/htm-calibrations.ts). */
export class PgCalibrations {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly calendar: SiteCalendar,
    private readonly workOrders: PgWorkOrders,
  ) {}

  async setModelInterval(model: string, intervalMonths: number | null, actor: Actor, reason: string): Promise<ModelInterval | null> {
    return tx(this.pool, async (c) => {
      const old = await one(c, 'SELECT interval_months FROM calibration_intervals WHERE model = ? FOR UPDATE', [model]);
      const now = Date.now();
      if (intervalMonths === null) await run(c, 'DELETE FROM calibration_intervals WHERE model = ?', [model]);
      else
        await run(
          c,
          `INSERT INTO calibration_intervals (model, interval_months, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (model) DO UPDATE SET interval_months = EXCLUDED.interval_months, updated_at = EXCLUDED.updated_at`,
          [model, intervalMonths, now],
        );
      await this.audit.append(c, {
        ...by(actor),
        action: intervalMonths === null ? 'calibration:delete-interval' : 'calibration:set-interval',
        objectType: 'model',
        objectId: model,
        oldValue: old ? { intervalMonths: old.interval_months } : null,
        newValue: intervalMonths === null ? null : { intervalMonths },
        reason,
      });
      return intervalMonths === null ? null : { model, intervalMonths, updatedAt: now };
    });
  }

  async listModelIntervals(): Promise<ModelInterval[]> {
    return (await all(this.pool, 'SELECT * FROM calibration_intervals ORDER BY model')).map((r) => ({
      model: r.model as string,
      intervalMonths: r.interval_months as number,
      updatedAt: r.updated_at as number,
    }));
  }

  async record(
    deviceId: string,
    input: CalibrationInput,
    actor: Actor,
    reason: string,
  ): Promise<HtmOutcome<{ calibration: CalibrationRecord; impactWorkOrder: WorkOrder | null }>> {
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
    return tx(this.pool, async (c) => {
      if (!(await one(c, 'SELECT id FROM devices WHERE id = ?', [deviceId])))
        return { ok: false as const, reason: 'not_found' as const, what: `no device "${deviceId}"` };
      const previousPass = await this.lastPass(c, deviceId, input.performedAt);
      const now = Date.now();
      const inserted = (await one<{ id: number }>(
        c,
        `INSERT INTO calibrations (device_id, performed_at, procedure, performed_by, technician, approver, certificate, as_found, as_left,
           as_found_pass, as_left_pass, result, decision_rule, test_equipment, conditions, notes, recorded_by, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [
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
        ],
      )) as { id: number };
      const id = inserted.id;
      let impactWorkOrder: WorkOrder | null = null;
      if (!found.pass) {
        const impact = await this.impactSummary(c, deviceId, id, previousPass, input.performedAt);
        const failing = found.readings
          .filter((r) => !r.pass)
          .map((r) => `${r.point}: measured ${r.measured} ${r.unit}, expected ${r.expected} ± ${r.tolerance}`);
        impactWorkOrder = await this.workOrders.insert(
          c,
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
        await run(c, 'UPDATE calibrations SET impact_work_order = ? WHERE id = ?', [impactWorkOrder.id, id]);
      }
      const calibration = toCalibration((await one(c, 'SELECT * FROM calibrations WHERE id = ?', [id])) as Row);
      await this.audit.append(c, {
        ...by(actor),
        action: 'calibration:create',
        objectType: 'calibration',
        objectId: String(id),
        newValue: calibration,
        reason,
      });
      return { ok: true as const, value: { calibration, impactWorkOrder } };
    });
  }

  private async lastPass(c: Queryable, deviceId: string, before: number): Promise<number | null> {
    const row = await one<{ t: number | null }>(
      c,
      "SELECT max(performed_at) AS t FROM calibrations WHERE device_id = ? AND result = 'pass' AND performed_at < ?",
      [deviceId, before],
    );
    return row?.t ?? null;
  }

  private async impactSummary(c: Queryable, deviceId: string, calibrationId: number, since: number | null, until: number): Promise<ImpactSummary> {
    const metrics = await all<ImpactSummary['metrics'][number]>(
      c,
      `SELECT s.metric AS metric, s.unit AS unit, count(*) AS count, min(r.t) AS "from", max(r.t) AS "to"
       FROM series s JOIN readings r ON r.series_id = s.id
       WHERE s.device_id = ? AND r.t >= ? AND r.t <= ? GROUP BY s.metric, s.unit ORDER BY s.metric, s.unit`,
      [deviceId, since ?? Number.MIN_SAFE_INTEGER, until],
    );
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

  async list(deviceId: string, page: { limit: number; offset: number }): Promise<{ items: CalibrationRecord[]; total: number }> {
    const { rows, total } = await selectPage(this.pool, {
      from: 'calibrations',
      where: where([['device_id = ?', deviceId]]),
      orderBy: 'performed_at DESC, id DESC',
      ...page,
    });
    return { items: rows.map(toCalibration), total };
  }

  async due(now: number, deviceId?: string): Promise<CalibrationDue[]> {
    const rows = await all(
      this.pool,
      `SELECT d.id, d.model, d.type, d.location, d.department, d.high_risk, d.life_support, d.install_date, d.first_seen,
         d.calibration_interval_months AS own_interval, ci.interval_months AS model_interval,
         (SELECT max(performed_at) FROM calibrations c WHERE c.device_id = d.id AND c.result = 'pass') AS last_pass
       FROM devices d LEFT JOIN calibration_intervals ci ON ci.model = d.model
       WHERE d.lifecycle = 'active' AND coalesce(d.calibration_interval_months, ci.interval_months) IS NOT NULL ${deviceId ? 'AND d.id = ?' : ''}`,
      deviceId ? [deviceId] : [],
    );
    const tz = this.calendar.timeZone;
    return rows
      .map((r): CalibrationDue => {
        const intervalMonths = (r.own_interval ?? r.model_interval) as number;
        const lastPassAt = (r.last_pass as number | null) ?? null;
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
