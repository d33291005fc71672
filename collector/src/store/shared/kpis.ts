import { fromLocal } from '../../htm/calendar.js';
import { HOUR_MS, connectedTime, meanHours, pmByRisk, percent, riskClass } from '../../htm/kpis.js';
import type { Completion, SiteCalendar } from '../../htm/pm-schedule.js';
import { NOT_A_FAILURE, type CauseCode } from '../../htm/work-order-rules.js';
import type { Kpis } from '../htm-store.js';
import { type Row, toScheduleRow } from './htm-rows.js';
import { scheduleView } from './schedules.js';

/**
 * KPIs over [from, to): the queries both backends run to gather the records
 * (plain SQL both accept), and how the records become the figures; the
 * arithmetic itself is in ../../htm/kpis.ts. Time after `now` is not counted
 * (a period may reach into the future).
 */

const round2 = (n: number) => Math.round(n * 100) / 100;

export const KPI_SQL = {
  /** (from, to) */
  completedPm: `SELECT w.completion, d.high_risk, d.life_support FROM work_orders w JOIN devices d ON d.id = w.device_id
    WHERE w.type = 'preventive' AND w.state = 'completed' AND w.completion IS NOT NULL AND w.completed_at >= ? AND w.completed_at < ?`,
  activeSchedules: `SELECT s.*, d.high_risk, d.life_support FROM pm_schedules s JOIN devices d ON d.id = s.device_id
    WHERE s.active = 1 AND d.lifecycle = 'active'`,
  /** (from, to) */
  incompletePm: "SELECT count(*) AS n FROM work_orders WHERE type = 'preventive' AND state = 'incomplete' AND completed_at >= ? AND completed_at < ?",
  /** (from, to) */
  repairs:
    "SELECT completed_at - opened_at AS ms FROM work_orders WHERE type = 'corrective' AND state = 'completed' AND completed_at >= ? AND completed_at < ?",
  /** (from, to) */
  openedCorrective: "SELECT cause_code FROM work_orders WHERE type = 'corrective' AND state != 'cancelled' AND opened_at >= ? AND opened_at < ?",
  inService: "SELECT install_date, first_seen FROM devices WHERE lifecycle != 'retired'",
  /** (end) */
  devicesWithHistory: 'SELECT DISTINCT device_id FROM device_status_history WHERE t < ?',
  /** Named (@id, @end, @from): the status at `from` and every change up to `end`; `tiebreak` orders changes at the same t (insertion order). */
  history: (tiebreak: string) => `SELECT t, status FROM device_status_history WHERE device_id = @id AND t < @end
    AND t >= coalesce((SELECT max(t) FROM device_status_history WHERE device_id = @id AND t <= @from), @from)
    ORDER BY t, ${tiebreak}`,
  located: "SELECT searches, incomplete_reason, state, completed_at FROM work_orders WHERE searches != '[]' OR incomplete_reason = 'unable-to-locate'",
} as const;

/** What the queries return, per KPI_SQL entry; `histories` holds one status history per device. */
export interface KpiRecords {
  completedPm: Row[];
  activeSchedules: Row[];
  incompletePm: number;
  repairs: Array<{ ms: number }>;
  openedCorrective: Array<{ cause_code: CauseCode | null }>;
  inService: Row[];
  histories: Array<Array<{ t: number; status: string }>>;
  located: Row[];
}

export function assembleKpis(r: KpiRecords, calendar: SiteCalendar, from: number, to: number, now: number): Kpis {
  const end = Math.min(to, now);
  const flags = (row: Row) => riskClass({ highRisk: row.high_risk === 1, lifeSupport: row.life_support === 1 });

  // A window that closed in the period with the work still undone (completion would have moved the schedule on).
  const missed = r.activeSchedules
    .filter((row) => {
      const { windowEnd } = scheduleView(toScheduleRow(row), now, calendar);
      return windowEnd > from && windowEnd <= end;
    })
    .map((row) => ({ risk: flags(row) }));

  const failures = r.openedCorrective.filter((w) => w.cause_code === null || !NOT_A_FAILURE.has(w.cause_code)).length;
  // Operating time: each device in service from its install date (or first sighting) until the end of the period.
  let operatingMs = 0;
  for (const d of r.inService) {
    const since = d.install_date ? dateStart(d.install_date as string, calendar.timeZone) : (d.first_seen as number);
    operatingMs += Math.max(0, end - Math.max(from, since));
  }

  let connectedMs = 0;
  let knownMs = 0;
  let devices = 0;
  for (const history of r.histories) {
    const u = connectedTime(history, from, end);
    if (u.knownMs === 0) continue;
    devices++;
    connectedMs += u.connectedMs;
    knownMs += u.knownMs;
  }

  const unableToLocate = r.located.filter(
    (w) => w.state === 'incomplete' && w.incomplete_reason === 'unable-to-locate' && (w.completed_at as number) >= from && (w.completed_at as number) < to,
  ).length;
  const searches = r.located.flatMap((w) => JSON.parse(w.searches as string) as Array<{ at: number }>).filter((s) => s.at >= from && s.at < to).length;

  return {
    from,
    to,
    preventiveMaintenance: {
      ...pmByRisk(
        r.completedPm.map((row) => ({ completion: row.completion as Completion, risk: flags(row) })),
        missed,
      ),
      incomplete: r.incompletePm,
    },
    repairs: { completed: r.repairs.length, meanTimeToRepairHours: meanHours(r.repairs.map((x) => x.ms)) },
    failures: {
      count: failures,
      operatingHours: round2(operatingMs / HOUR_MS),
      meanTimeBetweenFailuresHours: failures === 0 ? null : round2(operatingMs / HOUR_MS / failures),
    },
    uptime: { devices, connectedHours: round2(connectedMs / HOUR_MS), knownHours: round2(knownMs / HOUR_MS), percent: percent(connectedMs, knownMs) },
    unableToLocate: { workOrders: unableToLocate, searches },
  };
}

export function dateStart(date: string, timeZone: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return fromLocal({ year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}
