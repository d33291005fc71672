import type pg from 'pg';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { CalibrationDue, CalibrationInput, CalibrationRecord, HtmOutcome, ImpactSummary, ModelInterval, WorkOrder } from '../htm-store.js';
import * as rules from '../shared/calibrations.js';
import { toCalibration } from '../shared/htm-rows.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import type { PgWorkOrders } from './htm-work-orders.js';
import { type Queryable, type Row, all, one, run, tx } from './pg-db.js';
import { selectPage, where } from './paged.js';

/** Calibration intervals, records, due dates and impact assessments in PostgreSQL (rules in ../shared/calibrations.ts). */
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
      await this.audit.append(c, rules.intervalAudit(model, old, intervalMonths, actor, reason));
      return intervalMonths === null ? null : { model, intervalMonths, updatedAt: now };
    });
  }

  async listModelIntervals(): Promise<ModelInterval[]> {
    return (await all(this.pool, 'SELECT * FROM calibration_intervals ORDER BY model')).map(rules.toModelInterval);
  }

  async record(
    deviceId: string,
    input: CalibrationInput,
    actor: Actor,
    reason: string,
  ): Promise<HtmOutcome<{ calibration: CalibrationRecord; impactWorkOrder: WorkOrder | null }>> {
    const refused = rules.untraceable(input);
    if (refused) return refused;
    const evaluated = rules.evaluateCalibration(input);
    return tx(this.pool, async (c) => {
      if (!(await one(c, 'SELECT id FROM devices WHERE id = ?', [deviceId])))
        return { ok: false as const, reason: 'not_found' as const, what: `no device "${deviceId}"` };
      const previousPass = await this.lastPass(c, deviceId, input.performedAt);
      const now = Date.now();
      const inserted = (await one<{ id: number }>(
        c,
        `INSERT INTO calibrations (${rules.CALIBRATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        rules.calibrationArgs(deviceId, input, evaluated, actor, now),
      )) as { id: number };
      const id = inserted.id;
      let impactWorkOrder: WorkOrder | null = null;
      if (!evaluated.found.pass) {
        const impact = await this.impactSummary(c, deviceId, id, previousPass, input.performedAt);
        impactWorkOrder = await this.workOrders.insert(c, rules.impactWorkOrderInput(deviceId, id, evaluated.found, impact, now), actor, reason, {
          calibrationId: id,
          impact,
        });
        await run(c, 'UPDATE calibrations SET impact_work_order = ? WHERE id = ?', [impactWorkOrder.id, id]);
      }
      const calibration = toCalibration((await one(c, 'SELECT * FROM calibrations WHERE id = ?', [id])) as Row);
      await this.audit.append(c, rules.calibrationCreatedAudit(id, calibration, actor, reason));
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
    const metrics = await all<ImpactSummary['metrics'][number]>(c, rules.IMPACT_METRICS_SQL, [deviceId, since ?? Number.MIN_SAFE_INTEGER, until]);
    return rules.impactSummary(deviceId, calibrationId, since, until, metrics);
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
    const rows = await all(this.pool, rules.calibrationDueSql(deviceId !== undefined && deviceId !== ''), deviceId ? [deviceId] : []);
    return rules.calibrationsDue(rows, now, this.calendar.timeZone);
  }
}
