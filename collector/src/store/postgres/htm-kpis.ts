import type { Queryable } from './pg-db.js';
import { all, one } from './pg-db.js';
import { HOUR_MS, connectedTime, meanHours, pmByRisk, percent, riskClass } from '../../htm/kpis.js';
import { NOT_A_FAILURE, type CauseCode } from '../../htm/work-order-rules.js';
import type { Completion, SiteCalendar } from '../../htm/pm-schedule.js';
import type { Kpis } from '../htm-store.js';
import { type Row, toScheduleRow } from '../shared/htm-rows.js';
import { dateStart } from '../sqlite/htm-kpis.js';
import type { PgSchedules } from './htm-schedules.js';

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * KPIs over [from, to) in PostgreSQL: the same queries as
 * ../sqlite/htm-kpis.ts; the arithmetic is in ../../htm/kpis.ts.
 */
export async function computeKpis(db: Queryable, schedules: PgSchedules, calendar: SiteCalendar, from: number, to: number, now: number): Promise<Kpis> {
  const end = Math.min(to, now);
  const flags = (r: Row) => riskClass({ highRisk: r.high_risk === 1, lifeSupport: r.life_support === 1 });

  const completed = (await all(
    db,
    `SELECT w.completion, d.high_risk, d.life_support FROM work_orders w JOIN devices d ON d.id = w.device_id
       WHERE w.type = 'preventive' AND w.state = 'completed' AND w.completion IS NOT NULL AND w.completed_at >= ? AND w.completed_at < ?`,
    [from, to],
  )) as Row[];
  // A window that closed in the period with the work still undone (completion would have moved the schedule on).
  const missed = (
    (await all(
      db,
      `SELECT s.*, d.high_risk, d.life_support FROM pm_schedules s JOIN devices d ON d.id = s.device_id
         WHERE s.active = 1 AND d.lifecycle = 'active'`,
    )) as Row[]
  )
    .filter((r) => {
      const { windowEnd } = schedules.view(toScheduleRow(r), now);
      return windowEnd > from && windowEnd <= end;
    })
    .map((r) => ({ risk: flags(r) }));
  const incomplete = await count(db, "type = 'preventive' AND state = 'incomplete' AND completed_at >= ? AND completed_at < ?", from, to);

  const repairs = (await all(
    db,
    "SELECT completed_at - opened_at AS ms FROM work_orders WHERE type = 'corrective' AND state = 'completed' AND completed_at >= ? AND completed_at < ?",
    [from, to],
  )) as Array<{ ms: number }>;

  const opened = (await all(db, "SELECT cause_code FROM work_orders WHERE type = 'corrective' AND state != 'cancelled' AND opened_at >= ? AND opened_at < ?", [
    from,
    to,
  ])) as Array<{ cause_code: CauseCode | null }>;
  const failures = opened.filter((w) => w.cause_code === null || !NOT_A_FAILURE.has(w.cause_code)).length;
  // Operating time: each device in service from its install date (or first sighting) until the end of the period.
  let operatingMs = 0;
  for (const d of (await all(db, "SELECT install_date, first_seen FROM devices WHERE lifecycle != 'retired'")) as Row[]) {
    const since = d.install_date ? dateStart(d.install_date as string, calendar.timeZone) : (d.first_seen as number);
    operatingMs += Math.max(0, end - Math.max(from, since));
  }

  let connectedMs = 0;
  let knownMs = 0;
  let devices = 0;
  const ids = (await all(db, 'SELECT DISTINCT device_id FROM device_status_history WHERE t < ?', [end])) as Array<{ device_id: string }>;
  const historySql = `SELECT t, status FROM device_status_history WHERE device_id = @id AND t < @end
       AND t >= coalesce((SELECT max(t) FROM device_status_history WHERE device_id = @id AND t <= @from), @from)
     ORDER BY t, id`;
  for (const { device_id } of ids) {
    const u = connectedTime((await all(db, historySql, { id: device_id, end, from })) as Array<{ t: number; status: string }>, from, end);
    if (u.knownMs === 0) continue;
    devices++;
    connectedMs += u.connectedMs;
    knownMs += u.knownMs;
  }

  const located = (await all(
    db,
    "SELECT searches, incomplete_reason, state, completed_at FROM work_orders WHERE searches != '[]' OR incomplete_reason = 'unable-to-locate'",
  )) as Row[];
  const unableToLocate = located.filter(
    (w) => w.state === 'incomplete' && w.incomplete_reason === 'unable-to-locate' && (w.completed_at as number) >= from && (w.completed_at as number) < to,
  ).length;
  const searches = located.flatMap((w) => JSON.parse(w.searches as string) as Array<{ at: number }>).filter((s) => s.at >= from && s.at < to).length;

  return {
    from,
    to,
    preventiveMaintenance: {
      ...pmByRisk(
        completed.map((r) => ({ completion: r.completion as Completion, risk: flags(r) })),
        missed,
      ),
      incomplete,
    },
    repairs: { completed: repairs.length, meanTimeToRepairHours: meanHours(repairs.map((r) => r.ms)) },
    failures: {
      count: failures,
      operatingHours: round2(operatingMs / HOUR_MS),
      meanTimeBetweenFailuresHours: failures === 0 ? null : round2(operatingMs / HOUR_MS / failures),
    },
    uptime: { devices, connectedHours: round2(connectedMs / HOUR_MS), knownHours: round2(knownMs / HOUR_MS), percent: percent(connectedMs, knownMs) },
    unableToLocate: { workOrders: unableToLocate, searches },
  };
}

async function count(db: Queryable, where: string, ...args: unknown[]): Promise<number> {
  return ((await one(db, `SELECT count(*) AS n FROM work_orders WHERE ${where}`, [...args])) as { n: number }).n;
}
