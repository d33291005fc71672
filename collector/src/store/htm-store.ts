import type { EvaluatedReading, ReadingInput, TestEquipment } from '../htm/calibration.js';
import type { PmKpis } from '../htm/kpis.js';
import type { Completion, DueWindow, PmFrequency } from '../htm/pm-schedule.js';
import type { CauseCode, IncompleteReason, WorkOrderState, WorkOrderType } from '../htm/work-order-rules.js';
import type { Actor } from './store.js';

/**
 * Healthcare technology management records: calibrations, preventive
 * maintenance schedules, work orders and the KPIs made from them. Behind its
 * own interface (exposed as `Store.htm`) so a PostgreSQL backend can
 * implement it. Every change is audited in the same transaction; the
 * schedule arithmetic is in ../htm/ (pure), applied with the site calendar
 * the store was opened with.
 */

/** A change that could not be made: the API maps these to 404, 409 and 400. */
export type HtmRefusal =
  | { ok: false; reason: 'not_found'; what: string }
  | { ok: false; reason: 'stale'; current: number }
  | { ok: false; reason: 'invalid'; status: 400 | 409; field: string; message: string };

export type HtmOutcome<T> = { ok: true; value: T } | HtmRefusal;

export interface ModelInterval {
  model: string;
  intervalMonths: number;
  updatedAt: number;
}

export interface CalibrationInput {
  performedAt: number;
  procedure: string;
  /** The laboratory or service organisation. */
  performedBy: string;
  technician: string;
  approver?: string | null;
  certificate?: string | null;
  asFound: ReadingInput[];
  /** Omitted when nothing was adjusted: as left = as found. */
  asLeft?: ReadingInput[] | null;
  testEquipment: TestEquipment[];
  conditions?: string | null;
  notes?: string | null;
}

export interface CalibrationRecord extends Required<Omit<CalibrationInput, 'asLeft' | 'asFound'>> {
  id: number;
  deviceId: string;
  asFound: EvaluatedReading[];
  asLeft: EvaluatedReading[];
  asFoundPass: boolean;
  asLeftPass: boolean;
  /** pass when the device was left in tolerance. */
  result: 'pass' | 'fail';
  decisionRule: string;
  recordedBy: string;
  recordedAt: number;
  /** The impact-assessment work order opened because as-found was out of tolerance. */
  impactWorkOrderId: number | null;
}

export interface CalibrationDue {
  deviceId: string;
  model: string | null;
  type: string | null;
  location: string | null;
  department: string | null;
  highRisk: boolean;
  lifeSupport: boolean;
  intervalMonths: number;
  intervalSource: 'device' | 'model';
  /** The last passing calibration; null if the device has none (then it is due from install, or first seen). */
  lastPassAt: number | null;
  /** Start of the due date, site time. */
  dueAt: number;
  dueDate: string;
  overdue: boolean;
  /** Whole days past the due date (0 if not overdue). */
  daysOverdue: number;
}

export interface PmScheduleInput {
  task: string;
  frequency: PmFrequency;
  /** For multi-year: every N years (2-10). */
  years?: number | null;
  /** When the first occurrence is due (before any completion). */
  firstDueAt: number;
}

export interface PmSchedule extends DueWindow {
  id: number;
  deviceId: string;
  task: string;
  frequency: PmFrequency;
  years: number | null;
  firstDueAt: number;
  lastCompletedAt: number | null;
  active: boolean;
  overdue: boolean;
  createdAt: number;
  version: number;
}

export interface PmSchedulePatch {
  task?: string;
  frequency?: PmFrequency;
  years?: number | null;
  firstDueAt?: number;
  active?: boolean;
}

export interface UnableToLocateSearch {
  by: string;
  at: number;
  where: string;
  note?: string | null;
}

export interface ImpactSummary {
  calibrationId: number;
  /** Last passing calibration before this one; null: since the device was first seen. */
  since: number | null;
  until: number;
  total: number;
  metrics: Array<{ metric: string; unit: string | null; count: number; from: number; to: number }>;
  /** Where to read the readings themselves (GET, telemetry:read). */
  readingsUrl: string;
}

export interface WorkOrderInput {
  deviceId: string;
  type: WorkOrderType;
  title: string;
  description?: string | null;
  assignee?: string | null;
  alertId?: number | null;
  scheduleId?: number | null;
  /** When the request came in, if entered afterwards; default now. */
  openedAt?: number;
}

export interface WorkOrder {
  id: number;
  deviceId: string;
  type: WorkOrderType;
  state: WorkOrderState;
  title: string;
  description: string | null;
  assignee: string | null;
  alertId: number | null;
  scheduleId: number | null;
  calibrationId: number | null;
  incompleteReason: IncompleteReason | null;
  causeCode: CauseCode | null;
  notes: string | null;
  searches: UnableToLocateSearch[];
  impact: ImpactSummary | null;
  /** For preventive work on a schedule, the window it was measured against when closed. */
  window: DueWindow | null;
  completion: Completion | null;
  openedBy: string;
  openedAt: number;
  startedAt: number | null;
  completedAt: number | null;
  version: number;
}

export interface WorkOrderPatch {
  state?: WorkOrderState;
  title?: string;
  description?: string | null;
  assignee?: string | null;
  incompleteReason?: IncompleteReason | null;
  causeCode?: CauseCode | null;
  notes?: string | null;
  /** When a state change happened, if entered afterwards; default now (MTTR counts from it). */
  at?: number;
}

export interface WorkOrderQuery {
  state?: WorkOrderState;
  type?: WorkOrderType;
  device?: string;
  limit: number;
  offset: number;
}

export interface Kpis {
  from: number;
  to: number;
  preventiveMaintenance: PmKpis & { incomplete: number };
  repairs: { completed: number; meanTimeToRepairHours: number | null };
  failures: { count: number; operatingHours: number; meanTimeBetweenFailuresHours: number | null };
  uptime: { devices: number; connectedHours: number; knownHours: number; percent: number | null };
  unableToLocate: { workOrders: number; searches: number };
}

export interface HtmStore {
  /** The default calibration interval of a model; null removes it. Audited (reason required). */
  setModelInterval(model: string, intervalMonths: number | null, actor: Actor, reason: string): Promise<ModelInterval | null>;
  listModelIntervals(): Promise<ModelInterval[]>;
  /**
   * Records a calibration; if as-found was out of tolerance, opens an
   * impact-assessment work order summarising the readings since the last
   * passing calibration, in the same transaction.
   */
  recordCalibration(
    deviceId: string,
    input: CalibrationInput,
    actor: Actor,
    reason: string,
  ): Promise<HtmOutcome<{ calibration: CalibrationRecord; impactWorkOrder: WorkOrder | null }>>;
  listCalibrations(deviceId: string, page: { limit: number; offset: number }): Promise<{ items: CalibrationRecord[]; total: number }>;
  /** Active devices with a calibration interval whose due date is before `until`, soonest (most overdue) first. */
  calibrationsDue(now: number, until: number, page: { limit: number; offset: number }): Promise<{ items: CalibrationDue[]; total: number }>;
  /** One device's calibration due state; undefined if it has no interval (or does not exist). */
  calibrationDue(deviceId: string, now: number): Promise<CalibrationDue | undefined>;
  /** For the alerts: devices whose calibration due date has passed. */
  calibrationsOverdue(now: number): Promise<Array<{ deviceId: string; dueAt: number }>>;

  createSchedule(deviceId: string, input: PmScheduleInput, actor: Actor, reason?: string): Promise<HtmOutcome<PmSchedule>>;
  getSchedule(id: number, now: number): Promise<PmSchedule | undefined>;
  listSchedules(q: { device?: string; dueBefore?: number; limit: number; offset: number }, now: number): Promise<{ items: PmSchedule[]; total: number }>;
  updateSchedule(id: number, patch: PmSchedulePatch, expectedVersion: number, actor: Actor, reason?: string): Promise<HtmOutcome<PmSchedule>>;

  createWorkOrder(input: WorkOrderInput, actor: Actor, reason?: string): Promise<HtmOutcome<WorkOrder>>;
  getWorkOrder(id: number): Promise<WorkOrder | undefined>;
  listWorkOrders(q: WorkOrderQuery): Promise<{ items: WorkOrder[]; total: number }>;
  /** Edits and state moves; completing preventive work advances its schedule. */
  updateWorkOrder(id: number, patch: WorkOrderPatch, expectedVersion: number, actor: Actor, reason?: string): Promise<HtmOutcome<WorkOrder>>;
  /** Logs one search for a device that could not be found (append-only; no If-Match needed). */
  logSearch(id: number, search: { where: string; at: number; note?: string | null }, actor: Actor): Promise<HtmOutcome<WorkOrder>>;

  kpis(from: number, to: number, now: number): Promise<Kpis>;
}
