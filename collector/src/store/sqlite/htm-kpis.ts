import type Database from 'better-sqlite3';
import { HOUR_MS, connectedTime, meanHours, pmByRisk, percent, riskClass } from '../../htm/kpis.js';
import { NOT_A_FAILURE, type CauseCode } from '../../htm/work-order-rules.js';
import type { Completion, SiteCalendar } from '../../htm/pm-schedule.js';
import type { Kpis } from '../htm-store.js';
import type { Row } from '../shared/htm-rows.js';
import type { SqliteSchedules } from './htm-schedules.js';
import { toScheduleRow } from '../shared/htm-rows.js';
import { fromLocal } from '../../htm/calendar.js';

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * KPIs over [from, to): the queries that gather the records; the arithmetic
 * is in ../../htm/kpis.ts. Time after `now` is not counted (a period may
 * reach into the future).
 */
export function computeKpis(db: Database.Database, schedules: SqliteSchedules, calendar: SiteCalendar, from: number, to: number, now: number): Kpis {
  const end = Math.min(to, now);
  const flags = (r: Row) => riskClass({ highRisk: r.high_risk === 1, lifeSupport: r.life_support === 1 });

  const completed = db
    .prepare(
      `SELECT w.completion, d.high_risk, d.life_support FROM work_orders w JOIN devices d ON d.id = w.device_id
       WHERE w.type = 'preventive' AND w.state = 'completed' AND w.completion IS NOT NULL AND w.completed_at >= ? AND w.completed_at < ?`,
    )
    .all(from, to) as Row[];
  // A window that closed in the period with the work still undone (completion would have moved the schedule on).
  const missed = (
    db
      .prepare(
        `SELECT s.*, d.high_risk, d.life_support FROM pm_schedules s JOIN devices d ON d.id = s.device_id
         WHERE s.active = 1 AND d.lifecycle = 'active'`,
      )
      .all() as Row[]
  )
    .filter((r) => {
      const { windowEnd } = schedules.view(toScheduleRow(r), now);
      return windowEnd > from && windowEnd <= end;
    })
    .map((r) => ({ risk: flags(r) }));
  const incomplete = count(db, "type = 'preventive' AND state = 'incomplete' AND completed_at >= ? AND completed_at < ?", from, to);

  const repairs = db
    .prepare(
      "SELECT completed_at - opened_at AS ms FROM work_orders WHERE type = 'corrective' AND state = 'completed' AND completed_at >= ? AND completed_at < ?",
    )
    .all(from, to) as Array<{ ms: number }>;

  const opened = db
    .prepare("SELECT cause_code FROM work_orders WHERE type = 'corrective' AND state != 'cancelled' AND opened_at >= ? AND opened_at < ?")
    .all(from, to) as Array<{ cause_code: CauseCode | null }>;
  const failures = opened.filter((w) => w.cause_code === null || !NOT_A_FAILURE.has(w.cause_code)).length;
  // Operating time: each device in service from its install date (or first sighting) until the end of the period.
  let operatingMs = 0;
  for (const d of db.prepare("SELECT install_date, first_seen FROM devices WHERE lifecycle != 'retired'").all() as Row[]) {
    const since = d.install_date ? dateStart(d.install_date as string, calendar.timeZone) : (d.first_seen as number);
    operatingMs += Math.max(0, end - Math.max(from, since));
  }

  let connectedMs = 0;
  let knownMs = 0;
  let devices = 0;
  const ids = db.prepare('SELECT DISTINCT device_id FROM device_status_history WHERE t < ?').all(end) as Array<{ device_id: string }>;
  const history = db.prepare(
    `SELECT t, status FROM device_status_history WHERE device_id = @id AND t < @end
       AND t >= coalesce((SELECT max(t) FROM device_status_history WHERE device_id = @id AND t <= @from), @from)
     ORDER BY t, rowid`,
  );
  for (const { device_id } of ids) {
    const u = connectedTime(history.all({ id: device_id, end, from }) as Array<{ t: number; status: string }>, from, end);
    if (u.knownMs === 0) continue;
    devices++;
    connectedMs += u.connectedMs;
    knownMs += u.knownMs;
  }

  const located = db
    .prepare("SELECT searches, incomplete_reason, state, completed_at FROM work_orders WHERE searches != '[]' OR incomplete_reason = 'unable-to-locate'")
    .all() as Row[];
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

function count(db: Database.Database, where: string, ...args: unknown[]): number {
  return (db.prepare(`SELECT count(*) AS n FROM work_orders WHERE ${where}`).get(...args) as { n: number }).n;
}

export function dateStart(date: string, timeZone: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return fromLocal({ year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}
