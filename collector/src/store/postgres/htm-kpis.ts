import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { Kpis } from '../htm-store.js';
import type { Row } from '../shared/htm-rows.js';
import { KPI_SQL, type KpiRecords, assembleKpis } from '../shared/kpis.js';
import { type Queryable, all, one } from './pg-db.js';

/** KPIs over [from, to) in PostgreSQL: the queries of ../shared/kpis.ts, run here. */
export async function computeKpis(db: Queryable, calendar: SiteCalendar, from: number, to: number, now: number): Promise<Kpis> {
  const end = Math.min(to, now);
  const ids = await all<{ device_id: string }>(db, KPI_SQL.devicesWithHistory, [end]);
  const histories: KpiRecords['histories'] = [];
  for (const { device_id } of ids) histories.push(await all<{ t: number; status: string }>(db, KPI_SQL.history('id'), { id: device_id, end, from }));
  const records: KpiRecords = {
    completedPm: await all<Row>(db, KPI_SQL.completedPm, [from, to]),
    activeSchedules: await all<Row>(db, KPI_SQL.activeSchedules),
    incompletePm: ((await one(db, KPI_SQL.incompletePm, [from, to])) as { n: number }).n,
    repairs: await all<{ ms: number }>(db, KPI_SQL.repairs, [from, to]),
    openedCorrective: (await all(db, KPI_SQL.openedCorrective, [from, to])) as KpiRecords['openedCorrective'],
    inService: await all<Row>(db, KPI_SQL.inService),
    histories,
    located: await all<Row>(db, KPI_SQL.located),
  };
  return assembleKpis(records, calendar, from, to, now);
}
