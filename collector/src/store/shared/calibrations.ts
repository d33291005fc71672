import type { AuditInput } from '../../audit/types.js';
import { addDays, addMonths, calendarDaysBetween, fromLocal, localDate, startOfDay } from '../../htm/calendar.js';
import { DECISION_RULE, evaluate, expiredTestEquipment } from '../../htm/calibration.js';
import type { CalibrationDue, CalibrationInput, CalibrationRecord, ImpactSummary, ModelInterval, WorkOrderInput } from '../htm-store.js';
import type { Actor } from '../store.js';
import type { Row } from './htm-rows.js';

/**
 * The calibration rules both backends apply, apart from their SQL: the
 * traceability check on test equipment, pass/fail of as-found and as-left,
 * the impact assessment an out-of-tolerance as-found opens, due dates, and
 * the audit entries.
 */

/** Who did it, as every HTM audit entry records. */
export const by = (actor: Actor) => ({ actor: actor.sub, role: actor.role });

/** A refusal (400, naming the field) when the test equipment was itself out of calibration; undefined when traceable. */
export function untraceable(input: CalibrationInput): { ok: false; reason: 'invalid'; status: 400; field: string; message: string } | undefined {
  const expired = expiredTestEquipment(input.testEquipment, input.performedAt);
  if (expired < 0) return undefined;
  const e = input.testEquipment[expired];
  return {
    ok: false,
    reason: 'invalid',
    status: 400,
    field: `testEquipment/${expired}/calibrationDueAt`,
    message: `test equipment "${e?.id}" was itself out of calibration (due ${new Date(e?.calibrationDueAt ?? 0).toISOString()}) when this calibration was performed; results measured with it are not traceable`,
  };
}

export type Evaluated = ReturnType<typeof evaluate>;

/** As found and as left; without as-left readings the device was left as found. */
export function evaluateCalibration(input: CalibrationInput): { found: Evaluated; left: Evaluated } {
  const found = evaluate(input.asFound);
  return { found, left: input.asLeft?.length ? evaluate(input.asLeft) : found };
}

/** The columns of `INSERT INTO calibrations`, in this order. */
export const CALIBRATION_COLUMNS = `device_id, performed_at, procedure, performed_by, technician, approver, certificate, as_found, as_left,
  as_found_pass, as_left_pass, result, decision_rule, test_equipment, conditions, notes, recorded_by, recorded_at`;

/** Values for CALIBRATION_COLUMNS. */
export function calibrationArgs(deviceId: string, input: CalibrationInput, e: { found: Evaluated; left: Evaluated }, actor: Actor, now: number): unknown[] {
  return [
    deviceId,
    input.performedAt,
    input.procedure,
    input.performedBy,
    input.technician,
    input.approver ?? null,
    input.certificate ?? null,
    JSON.stringify(e.found.readings),
    JSON.stringify(e.left.readings),
    Number(e.found.pass),
    Number(e.left.pass),
    e.left.pass ? 'pass' : 'fail',
    DECISION_RULE,
    JSON.stringify(input.testEquipment),
    input.conditions ?? null,
    input.notes ?? null,
    actor.sub,
    now,
  ];
}

/** The impact-assessment work order an out-of-tolerance as-found result opens. */
export function impactWorkOrderInput(deviceId: string, calibrationId: number, found: Evaluated, impact: ImpactSummary, now: number): WorkOrderInput {
  const failing = found.readings.filter((r) => !r.pass).map((r) => `${r.point}: measured ${r.measured} ${r.unit}, expected ${r.expected} ± ${r.tolerance}`);
  return {
    deviceId,
    type: 'impact-assessment',
    title: `Impact assessment: as-found out of tolerance (calibration ${calibrationId})`,
    description: `As found out of tolerance at ${failing.join('; ')}. Review the ${impact.total} readings taken since the last passing calibration for patient impact.`,
    openedAt: now,
  };
}

/** Per metric: how many readings, first and last, between the last passing calibration and this one. */
export const IMPACT_METRICS_SQL = `SELECT s.metric AS metric, s.unit AS unit, count(*) AS count, min(r.t) AS "from", max(r.t) AS "to"
  FROM series s JOIN readings r ON r.series_id = s.id
  WHERE s.device_id = ? AND r.t >= ? AND r.t <= ? GROUP BY s.metric, s.unit ORDER BY s.metric, s.unit`;

/** Counts per metric, not copies: the readings stay in telemetry, one link away. */
export function impactSummary(deviceId: string, calibrationId: number, since: number | null, until: number, metrics: ImpactSummary['metrics']): ImpactSummary {
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

export function intervalAudit(model: string, old: Row | undefined, intervalMonths: number | null, actor: Actor, reason: string): AuditInput {
  return {
    ...by(actor),
    action: intervalMonths === null ? 'calibration:delete-interval' : 'calibration:set-interval',
    objectType: 'model',
    objectId: model,
    oldValue: old ? { intervalMonths: old.interval_months } : null,
    newValue: intervalMonths === null ? null : { intervalMonths },
    reason,
  };
}

export function calibrationCreatedAudit(id: number, calibration: CalibrationRecord, actor: Actor, reason: string): AuditInput {
  return { ...by(actor), action: 'calibration:create', objectType: 'calibration', objectId: String(id), newValue: calibration, reason };
}

export function toModelInterval(r: Row): ModelInterval {
  return { model: r.model as string, intervalMonths: r.interval_months as number, updatedAt: r.updated_at as number };
}

/** Active devices with an interval (their own or their model's), with their last pass; `AND d.id = ?` when one device is asked for. */
export function calibrationDueSql(oneDevice: boolean): string {
  return `SELECT d.id, d.model, d.type, d.location, d.department, d.high_risk, d.life_support, d.install_date, d.first_seen,
     d.calibration_interval_months AS own_interval, ci.interval_months AS model_interval,
     (SELECT max(performed_at) FROM calibrations c WHERE c.device_id = d.id AND c.result = 'pass') AS last_pass
   FROM devices d LEFT JOIN calibration_intervals ci ON ci.model = d.model
   WHERE d.lifecycle = 'active' AND coalesce(d.calibration_interval_months, ci.interval_months) IS NOT NULL ${oneDevice ? 'AND d.id = ?' : ''}`;
}

/** Due state of each row of calibrationDueSql, soonest first. */
export function calibrationsDue(rows: Row[], now: number, tz: string): CalibrationDue[] {
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

export function installedAt(r: Row, timeZone: string): number {
  const date = r.install_date as string | null;
  if (!date) return r.first_seen as number;
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return fromLocal({ year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}

/** One page of the calibrations due before `until`, and how many there are. */
export function duePage(due: CalibrationDue[], until: number, page: { limit: number; offset: number }): { items: CalibrationDue[]; total: number } {
  const within = due.filter((d) => d.dueAt < until);
  return { items: within.slice(page.offset, page.offset + page.limit), total: within.length };
}

/** The devices whose calibration is overdue, and since when it was due. */
export function overdueOf(due: CalibrationDue[]): Array<{ deviceId: string; dueAt: number }> {
  return due.filter((d) => d.overdue).map((d) => ({ deviceId: d.deviceId, dueAt: d.dueAt }));
}
