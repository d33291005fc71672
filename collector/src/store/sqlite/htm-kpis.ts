import type Database from 'better-sqlite3';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type { Kpis } from '../htm-store.js';
import type { Row } from '../shared/htm-rows.js';
import { KPI_SQL, type KpiRecords, assembleKpis } from '../shared/kpis.js';

/** KPIs over [from, to) from the collector's SQLite file: the queries of ../shared/kpis.ts, run here. */
export function computeKpis(db: Database.Database, calendar: SiteCalendar, from: number, to: number, now: number): Kpis {
  const end = Math.min(to, now);
  const history = db.prepare(KPI_SQL.history('rowid'));
  const ids = db.prepare(KPI_SQL.devicesWithHistory).all(end) as Array<{ device_id: string }>;
  const records: KpiRecords = {
    completedPm: db.prepare(KPI_SQL.completedPm).all(from, to) as Row[],
    activeSchedules: db.prepare(KPI_SQL.activeSchedules).all() as Row[],
    incompletePm: (db.prepare(KPI_SQL.incompletePm).get(from, to) as { n: number }).n,
    repairs: db.prepare(KPI_SQL.repairs).all(from, to) as KpiRecords['repairs'],
    openedCorrective: db.prepare(KPI_SQL.openedCorrective).all(from, to) as KpiRecords['openedCorrective'],
    inService: db.prepare(KPI_SQL.inService).all() as Row[],
    histories: ids.map(({ device_id }) => history.all({ id: device_id, end, from }) as Array<{ t: number; status: string }>),
    located: db.prepare(KPI_SQL.located).all() as Row[],
  };
  return assembleKpis(records, calendar, from, to, now);
}
