import type { DeviceBirthMessage } from '@medtel/shared';
import type { AuditInput } from '../../audit/types.js';
import type { ApprovalBinding, ApprovalFields, ApprovalState, GatewayDiscoverySummary, GatewayPortsRecord } from '../discovery-store.js';
import type { Actor } from '../store.js';

/**
 * Plug and play rules both backends apply apart from their SQL: when a birth
 * means the device moved gateways and how that is audited, which approval
 * decisions are allowed from which state, what a decision changes and how it
 * is audited, and the row mapping.
 */

type Row = Record<string, unknown>;

/** Who the audit trail names for changes the collector makes from what gateways report. */
const SYSTEM = { actor: 'collector', role: 'system' } as const;

/** The approval columns of a devices row (migration 10) as DeviceRecord fields. */
export function toApprovalFields(r: Row): ApprovalFields {
  return {
    approval: ((r.approval as ApprovalState | undefined) ?? 'approved') as ApprovalState,
    discovery: typeof r.discovery === 'string' ? JSON.parse(r.discovery) : null,
    approvalBy: (r.approval_by as string | null) ?? null,
    approvalAt: (r.approval_at as number | null) ?? null,
    approvalNote: (r.approval_note as string | null) ?? null,
  };
}

/** The entry's current gateway/device/site differ from the birth's: it moved, and the entry follows. */
export function hasMoved(row: Row, site: string, gateway: string, b: DeviceBirthMessage): boolean {
  return row.gateway !== gateway || row.device !== b.device || row.site !== site;
}

/** The audit entry of a move (actor: system). */
export function moveAudit(id: string, row: Row, site: string, gateway: string, b: DeviceBirthMessage): AuditInput {
  return {
    ...SYSTEM,
    action: 'device:move',
    objectType: 'device',
    objectId: id,
    oldValue: { gateway: row.gateway, site: row.site, device: row.device },
    newValue: { gateway, site, device: b.device },
    reason: `born on gateway ${gateway} as "${b.device}" with the same manufacturer, model and serial (${b.serial ?? 'none'})`,
  };
}

/** What an approval decision changes: columns to set, values for the audit trail, and the note. */
export interface Decision {
  action: string;
  set: Record<string, unknown>;
  oldValue: unknown;
  newValue: unknown;
  note: string | null;
}

/** A conflict message, or the decision; `row` is the device's approval columns. */
export type DecisionPlan = (row: Row) => string | Decision;

export function approvalPlan(id: string, binding: ApprovalBinding): DecisionPlan {
  return (row) => {
    if (row.approval === 'approved') return `device ${id} is already approved; edit its asset tag, location or department with PATCH /devices/{id}`;
    return {
      action: 'device:approve',
      set: { approval: 'approved', asset_tag: binding.assetTag, location: binding.location, department: binding.department },
      oldValue: { approval: row.approval, assetTag: row.asset_tag, location: row.location, department: row.department },
      newValue: { approval: 'approved', assetTag: binding.assetTag, location: binding.location, department: binding.department },
      note: binding.note ?? null,
    };
  };
}

export function rejectionPlan(id: string, reason: string): DecisionPlan {
  return (row) => {
    if (row.approval === 'rejected') return `device ${id} is already rejected; approve it instead if it belongs here`;
    if (row.approval === 'approved')
      return `device ${id} is approved; only devices awaiting approval can be rejected (take it out of use with PATCH /devices/{id} lifecycle)`;
    return { action: 'device:reject', set: { approval: 'rejected' }, oldValue: { approval: row.approval }, newValue: { approval: 'rejected' }, note: reason };
  };
}

/** The UPDATE of a decision and its named arguments. */
export function decisionUpdate(id: string, change: Decision, actor: Actor, at: number): { sql: string; args: Record<string, unknown> } {
  const sets = Object.keys(change.set).map((column) => `${column} = @${column}`);
  return {
    sql: `UPDATE devices SET ${sets.join(', ')}, approval_by = @by, approval_at = @at, approval_note = @note, version = version + 1 WHERE id = @id`,
    args: { ...change.set, by: actor.sub, at, note: change.note, id },
  };
}

export function decisionAudit(id: string, change: Decision, actor: Actor): AuditInput {
  return {
    actor: actor.sub,
    role: actor.role,
    action: change.action,
    objectType: 'device',
    objectId: id,
    oldValue: change.oldValue,
    newValue: change.newValue,
    reason: change.note,
  };
}

export function toPortsRecord(r: Row): GatewayPortsRecord {
  return {
    gateway: r.gateway as string,
    site: r.site as string,
    sentAt: r.sent_at as number,
    receivedAt: r.received_at as number,
    ports: JSON.parse(r.ports as string),
  };
}

/** Per gateway: devices awaiting approval and unidentified ports, from the two per-gateway counts. */
export function discoverySummary(
  pending: Array<{ gateway: string; n: number }>,
  unidentified: Array<{ gateway: string; n: number }>,
): Map<string, GatewayDiscoverySummary> {
  const out = new Map<string, GatewayDiscoverySummary>();
  const entry = (gateway: string) => {
    let s = out.get(gateway);
    if (!s) {
      s = { pendingDevices: 0, unidentifiedPorts: 0 };
      out.set(gateway, s);
    }
    return s;
  };
  for (const r of pending) entry(r.gateway).pendingDevices = r.n;
  for (const r of unidentified) entry(r.gateway).unidentifiedPorts = r.n;
  return out;
}
