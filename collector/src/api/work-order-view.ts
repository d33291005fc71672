import { Type } from '@sinclair/typebox';
import type { WorkOrder } from '../store/htm-store.js';
import { iso, isoOrNull } from './times.js';

/** The work order as the API shows it (times as ISO 8601), shared by the work-order and calibration routes. */

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);
const Time = Type.String({ format: 'date-time' });

export const WorkOrderSchema = Type.Object(
  {
    id: Type.Integer(),
    deviceId: Type.String(),
    type: Type.String({ description: 'preventive, calibration, corrective, incoming-inspection, post-repair-check or impact-assessment' }),
    state: Type.String({ description: 'draft, assigned, in-progress, completed, incomplete or cancelled' }),
    title: Type.String(),
    description: Nullable(Type.String()),
    assignee: Nullable(Type.String()),
    alertId: Nullable(Type.Integer({ description: 'the alert that caused this corrective work' })),
    scheduleId: Nullable(Type.Integer()),
    calibrationId: Nullable(Type.Integer()),
    incompleteReason: Nullable(Type.String()),
    causeCode: Nullable(Type.String()),
    notes: Nullable(Type.String()),
    searches: Type.Array(Type.Object({ by: Type.String(), at: Time, where: Type.String(), note: Nullable(Type.String()) })),
    impact: Type.Union([
      Type.Object({
        calibrationId: Type.Integer(),
        since: Type.Union([Time, Type.Null()]),
        until: Time,
        total: Type.Integer({ description: 'readings since the last passing calibration' }),
        metrics: Type.Array(Type.Object({ metric: Type.String(), unit: Nullable(Type.String()), count: Type.Integer(), from: Time, to: Time })),
        readingsUrl: Type.String(),
      }),
      Type.Null(),
    ]),
    window: Type.Union([Type.Object({ dueAt: Time, windowStart: Time, windowEnd: Time }), Type.Null()]),
    completion: Nullable(Type.String({ description: 'early, on-time or late (preventive work on a schedule)' })),
    openedBy: Type.String(),
    openedAt: Time,
    startedAt: Type.Union([Time, Type.Null()]),
    completedAt: Type.Union([Time, Type.Null()]),
    version: Type.Integer({ description: 'send it back in If-Match to change the work order (also the ETag)' }),
  },
  { $id: 'WorkOrder' },
);

export function workOrderView(w: WorkOrder) {
  return {
    ...w,
    searches: w.searches.map((s) => ({ ...s, at: iso(s.at), note: s.note ?? null })),
    impact: w.impact
      ? {
          ...w.impact,
          since: isoOrNull(w.impact.since),
          until: iso(w.impact.until),
          metrics: w.impact.metrics.map((m) => ({ ...m, from: iso(m.from), to: iso(m.to) })),
        }
      : null,
    window: w.window ? { dueAt: iso(w.window.dueAt), windowStart: iso(w.window.windowStart), windowEnd: iso(w.window.windowEnd) } : null,
    openedAt: iso(w.openedAt),
    startedAt: isoOrNull(w.startedAt),
    completedAt: isoOrNull(w.completedAt),
  };
}
