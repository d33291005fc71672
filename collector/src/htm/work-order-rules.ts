/**
 * Work-order types, states and the moves between them (HTM-NOTES 1, 5, 6),
 * modelled on the states CMMSs use (ServiceNow: Draft, Assigned, Work in
 * Progress, Closed Complete, Closed Incomplete, Canceled). Completed,
 * incomplete and cancelled are final: follow-up work is a new work order, so
 * the record of what happened is never rewritten.
 */

export const WORK_ORDER_TYPES = ['preventive', 'calibration', 'corrective', 'incoming-inspection', 'post-repair-check', 'impact-assessment'] as const;
export type WorkOrderType = (typeof WORK_ORDER_TYPES)[number];

export const WORK_ORDER_STATES = ['draft', 'assigned', 'in-progress', 'completed', 'incomplete', 'cancelled'] as const;
export type WorkOrderState = (typeof WORK_ORDER_STATES)[number];

/** Why work could not be done at the visit (TJC accepts these when a written follow-up policy is applied). */
export const INCOMPLETE_REASONS = ['unable-to-locate', 'in-use', 'deferred'] as const;
export type IncompleteReason = (typeof INCOMPLETE_REASONS)[number];

/** Cause codes the EC committee reports on; use error and cannot-duplicate are not equipment failures. */
export const CAUSE_CODES = ['use-error', 'cannot-duplicate', 'damage', 'wear', 'preventable-by-maintenance'] as const;
export type CauseCode = (typeof CAUSE_CODES)[number];
export const NOT_A_FAILURE: ReadonlySet<CauseCode> = new Set(['use-error', 'cannot-duplicate']);

export const TRANSITIONS: Record<WorkOrderState, readonly WorkOrderState[]> = {
  draft: ['assigned', 'in-progress', 'cancelled'],
  assigned: ['draft', 'in-progress', 'cancelled'],
  'in-progress': ['assigned', 'completed', 'incomplete'],
  completed: [],
  incomplete: [],
  cancelled: [],
};

export const FINAL_STATES: ReadonlySet<WorkOrderState> = new Set(['completed', 'incomplete', 'cancelled']);

export interface WorkOrderFacts {
  type: WorkOrderType;
  state: WorkOrderState;
  assignee: string | null;
  incompleteReason: IncompleteReason | null;
  causeCode: CauseCode | null;
  searches: number;
}

/**
 * Whether the work order may move from `from` to `to.state` with the fields it
 * will have afterwards: an illegal move is a conflict with the current state
 * (409), a missing field a bad request (400) naming it.
 */
export function transitionProblem(from: WorkOrderState, to: WorkOrderFacts): { status: 400 | 409; field: string; message: string } | null {
  if (from !== to.state && !TRANSITIONS[from].includes(to.state)) {
    const allowed = TRANSITIONS[from];
    return {
      status: 409,
      field: 'state',
      message: `cannot move a work order from ${from} to ${to.state}; from ${from} it may go to ${allowed.length ? allowed.join(', ') : 'nowhere (it is closed)'}`,
    };
  }
  if (to.state === 'assigned' && !to.assignee) return { status: 400, field: 'assignee', message: 'an assigned work order needs an assignee' };
  if (to.state === 'incomplete' && !to.incompleteReason) {
    return { status: 400, field: 'incompleteReason', message: `closing incomplete needs a reason: ${INCOMPLETE_REASONS.join(', ')}` };
  }
  if (to.state === 'incomplete' && to.incompleteReason === 'unable-to-locate' && to.searches === 0) {
    return { status: 400, field: 'incompleteReason', message: 'unable-to-locate needs the searches logged first (POST /work-orders/{id}/searches)' };
  }
  if (to.state === 'completed' && to.type === 'corrective' && !to.causeCode) {
    return { status: 400, field: 'causeCode', message: `a completed repair needs a cause code: ${CAUSE_CODES.join(', ')}` };
  }
  return null;
}
