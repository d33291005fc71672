import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { CalibrationDue, CalibrationInput, CalibrationRecord, HtmOutcome, ImpactSummary, ModelInterval, WorkOrder } from '../htm-store.js';
import * as rules from '../shared/calibrations.js';
import { type Row, toCalibration } from '../shared/htm-rows.js';
import type { Actor } from '../store.js';
import { selectPage, where } from './paged.js';
import type { SqliteWorkOrders } from './htm-work-orders.js';

/**
 * Calibration intervals (per model, overridden per device), calibration
 * records, due dates, and the impact assessment an out-of-tolerance as-found
 * result opens. The rules are in ../shared/calibrations.ts; this is SQLite's SQL.
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
      this.audit.append(rules.intervalAudit(model, old, intervalMonths, actor, reason));
      return intervalMonths === null ? null : { model, intervalMonths, updatedAt: now };
    })();
  }

  listModelIntervals(): ModelInterval[] {
    return (this.db.prepare('SELECT * FROM calibration_intervals ORDER BY model').all() as Row[]).map(rules.toModelInterval);
  }

  record(
    deviceId: string,
    input: CalibrationInput,
    actor: Actor,
    reason: string,
  ): HtmOutcome<{ calibration: CalibrationRecord; impactWorkOrder: WorkOrder | null }> {
    const refused = rules.untraceable(input);
    if (refused) return refused;
    const evaluated = rules.evaluateCalibration(input);
    return this.db.transaction(() => {
      const device = this.db.prepare('SELECT id FROM devices WHERE id = ?').get(deviceId);
      if (!device) return { ok: false as const, reason: 'not_found' as const, what: `no device "${deviceId}"` };
      const previousPass = this.lastPass(deviceId, input.performedAt);
      const now = Date.now();
      const id = Number(
        this.db
          .prepare(`INSERT INTO calibrations (${rules.CALIBRATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(...rules.calibrationArgs(deviceId, input, evaluated, actor, now)).lastInsertRowid,
      );
      let impactWorkOrder: WorkOrder | null = null;
      if (!evaluated.found.pass) {
        const impact = this.impactSummary(deviceId, id, previousPass, input.performedAt);
        impactWorkOrder = this.workOrders.insert(rules.impactWorkOrderInput(deviceId, id, evaluated.found, impact, now), actor, reason, {
          calibrationId: id,
          impact,
        });
        this.db.prepare('UPDATE calibrations SET impact_work_order = ? WHERE id = ?').run(impactWorkOrder.id, id);
      }
      const calibration = toCalibration(this.db.prepare('SELECT * FROM calibrations WHERE id = ?').get(id) as Row);
      this.audit.append(rules.calibrationCreatedAudit(id, calibration, actor, reason));
      return { ok: true as const, value: { calibration, impactWorkOrder } };
    })();
  }

  private lastPass(deviceId: string, before = Number.MAX_SAFE_INTEGER): number | null {
    const row = this.db
      .prepare("SELECT max(performed_at) AS t FROM calibrations WHERE device_id = ? AND result = 'pass' AND performed_at < ?")
      .get(deviceId, before) as { t: number | null };
    return row.t;
  }

  private impactSummary(deviceId: string, calibrationId: number, since: number | null, until: number): ImpactSummary {
    const metrics = this.db.prepare(rules.IMPACT_METRICS_SQL).all(deviceId, since ?? Number.MIN_SAFE_INTEGER, until) as ImpactSummary['metrics'];
    return rules.impactSummary(deviceId, calibrationId, since, until, metrics);
  }

  list(deviceId: string, page: { limit: number; offset: number }): { items: CalibrationRecord[]; total: number } {
    const filter = where([['device_id = ?', deviceId]]);
    const { rows, total } = selectPage(this.db, { from: 'calibrations', where: filter, orderBy: 'performed_at DESC, id DESC', ...page });
    return { items: rows.map(toCalibration), total };
  }

  /** Due state of every active device that has an interval (of its own, or its model's). */
  due(now: number, deviceId?: string): CalibrationDue[] {
    const rows = this.db.prepare(rules.calibrationDueSql(deviceId !== undefined && deviceId !== '')).all(...(deviceId ? [deviceId] : [])) as Row[];
    return rules.calibrationsDue(rows, now, this.calendar.timeZone);
  }
}
