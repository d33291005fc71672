import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import type { SiteCalendar } from '../../htm/pm-schedule.js';
import type {
  CalibrationDue,
  CalibrationInput,
  HtmStore,
  PmScheduleInput,
  PmSchedulePatch,
  WorkOrderInput,
  WorkOrderPatch,
  WorkOrderQuery,
} from '../htm-store.js';
import type { Actor } from '../store.js';
import { duePage, overdueOf } from '../shared/calibrations.js';
import { SqliteCalibrations } from './htm-calibrations.js';
import { computeKpis } from './htm-kpis.js';
import { SqliteSchedules } from './htm-schedules.js';
import { SqliteWorkOrders } from './htm-work-orders.js';

/** HtmStore on the collector's SQLite file (same database and audit log as the registry, so one transaction covers both). */
export class SqliteHtmStore implements HtmStore {
  private readonly calibrations: SqliteCalibrations;
  private readonly schedules: SqliteSchedules;
  private readonly workOrders: SqliteWorkOrders;

  constructor(
    private readonly db: Database.Database,
    audit: AuditLog,
    private readonly calendar: SiteCalendar,
  ) {
    this.schedules = new SqliteSchedules(db, audit, calendar);
    this.workOrders = new SqliteWorkOrders(db, audit, calendar, this.schedules);
    this.calibrations = new SqliteCalibrations(db, audit, calendar, this.workOrders);
  }

  async setModelInterval(model: string, intervalMonths: number | null, actor: Actor, reason: string) {
    return this.calibrations.setModelInterval(model, intervalMonths, actor, reason);
  }
  async listModelIntervals() {
    return this.calibrations.listModelIntervals();
  }
  async recordCalibration(deviceId: string, input: CalibrationInput, actor: Actor, reason: string) {
    return this.calibrations.record(deviceId, input, actor, reason);
  }
  async listCalibrations(deviceId: string, page: { limit: number; offset: number }) {
    return this.calibrations.list(deviceId, page);
  }
  async calibrationsDue(now: number, until: number, page: { limit: number; offset: number }) {
    return duePage(this.calibrations.due(now), until, page);
  }
  async calibrationDue(deviceId: string, now: number): Promise<CalibrationDue | undefined> {
    return this.calibrations.due(now, deviceId)[0];
  }
  async calibrationsOverdue(now: number) {
    return overdueOf(this.calibrations.due(now));
  }

  async createSchedule(deviceId: string, input: PmScheduleInput, actor: Actor, reason?: string) {
    return this.schedules.create(deviceId, input, actor, reason);
  }
  async getSchedule(id: number, now: number) {
    const row = this.schedules.row(id);
    return row ? this.schedules.view(row, now) : undefined;
  }
  async listSchedules(q: { device?: string; dueBefore?: number; limit: number; offset: number }, now: number) {
    return this.schedules.list(q, now);
  }
  async updateSchedule(id: number, patch: PmSchedulePatch, expectedVersion: number, actor: Actor, reason?: string) {
    return this.schedules.update(id, patch, expectedVersion, actor, reason);
  }

  async createWorkOrder(input: WorkOrderInput, actor: Actor, reason?: string) {
    return this.workOrders.create(input, actor, reason);
  }
  async getWorkOrder(id: number) {
    return this.workOrders.get(id);
  }
  async listWorkOrders(q: WorkOrderQuery) {
    return this.workOrders.list(q);
  }
  async updateWorkOrder(id: number, patch: WorkOrderPatch, expectedVersion: number, actor: Actor, reason?: string) {
    return this.workOrders.update(id, patch, expectedVersion, actor, reason);
  }
  async logSearch(id: number, search: { where: string; at: number; note?: string | null }, actor: Actor) {
    return this.workOrders.logSearch(id, search, actor);
  }

  async kpis(from: number, to: number, now: number) {
    return computeKpis(this.db, this.calendar, from, to, now);
  }
}
