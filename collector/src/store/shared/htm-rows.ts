import type { Completion, DueWindow, PmFrequency } from '../../htm/pm-schedule.js';
import type { CauseCode, IncompleteReason, WorkOrderState, WorkOrderType } from '../../htm/work-order-rules.js';
import type { CalibrationRecord, PmSchedule, WorkOrder } from '../htm-store.js';

/** Row shapes of the HTM tables and their mapping to records (JSON columns parsed, flags as booleans). */

export type Row = Record<string, unknown>;

const parse = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : fallback);

export function toCalibration(r: Row): CalibrationRecord {
  return {
    id: r.id as number,
    deviceId: r.device_id as string,
    performedAt: r.performed_at as number,
    procedure: r.procedure as string,
    performedBy: r.performed_by as string,
    technician: r.technician as string,
    approver: (r.approver as string | null) ?? null,
    certificate: (r.certificate as string | null) ?? null,
    asFound: parse(r.as_found, []),
    asLeft: parse(r.as_left, []),
    asFoundPass: r.as_found_pass === 1,
    asLeftPass: r.as_left_pass === 1,
    result: r.result as 'pass' | 'fail',
    decisionRule: r.decision_rule as string,
    testEquipment: parse(r.test_equipment, []),
    conditions: (r.conditions as string | null) ?? null,
    notes: (r.notes as string | null) ?? null,
    recordedBy: r.recorded_by as string,
    recordedAt: r.recorded_at as number,
    impactWorkOrderId: (r.impact_work_order as number | null) ?? null,
  };
}

/** A schedule as stored: without its due window and overdue flag, which depend on the clock. */
export type ScheduleRow = Omit<PmSchedule, 'overdue' | keyof DueWindow>;

export function toScheduleRow(r: Row): ScheduleRow {
  return {
    id: r.id as number,
    deviceId: r.device_id as string,
    task: r.task as string,
    frequency: r.frequency as PmFrequency,
    years: (r.years as number | null) ?? null,
    firstDueAt: r.first_due_at as number,
    lastCompletedAt: (r.last_completed_at as number | null) ?? null,
    active: r.active === 1,
    createdAt: r.created_at as number,
    version: r.version as number,
  };
}

export function toWorkOrder(r: Row): WorkOrder {
  return {
    id: r.id as number,
    deviceId: r.device_id as string,
    type: r.type as WorkOrderType,
    state: r.state as WorkOrderState,
    title: r.title as string,
    description: (r.description as string | null) ?? null,
    assignee: (r.assignee as string | null) ?? null,
    alertId: (r.alert_id as number | null) ?? null,
    scheduleId: (r.schedule_id as number | null) ?? null,
    calibrationId: (r.calibration_id as number | null) ?? null,
    incompleteReason: (r.incomplete_reason as IncompleteReason | null) ?? null,
    causeCode: (r.cause_code as CauseCode | null) ?? null,
    notes: (r.notes as string | null) ?? null,
    searches: parse(r.searches, []),
    impact: parse(r.impact, null),
    window:
      r.due_at === null || r.due_at === undefined
        ? null
        : { dueAt: r.due_at as number, windowStart: r.window_start as number, windowEnd: r.window_end as number },
    completion: (r.completion as Completion | null) ?? null,
    openedBy: r.opened_by as string,
    openedAt: r.opened_at as number,
    startedAt: (r.started_at as number | null) ?? null,
    completedAt: (r.completed_at as number | null) ?? null,
    version: r.version as number,
  };
}
