import type { Role } from '../auth/roles.js';

/** `system` is for changes the collector makes on its own (retention, migrations), not on a person's request. */
export type AuditRole = Role | 'system';

/**
 * Action types (the part before `:`) whose entries must give a reason, as
 * 21 CFR 11 practice expects for calibration results and alert handling.
 * Plural spellings too, so `alerts:ack` (the permission's name) cannot slip through.
 */
export const REASON_REQUIRED_TYPES: ReadonlySet<string> = new Set(['calibration', 'calibrations', 'alert', 'alerts', 'phi']);

export function reasonRequired(action: string): boolean {
  return REASON_REQUIRED_TYPES.has(action.split(':')[0] ?? '');
}

export interface AuditInput {
  actor: string;
  role: AuditRole;
  /** `type:verb`, e.g. `device:update`, `calibration:create`, `alert:ack`, `phi:open`. */
  action: string;
  objectType: string;
  objectId: string;
  /** JSON values; null or undefined for "none" (before a create, after a delete). */
  oldValue?: unknown;
  newValue?: unknown;
  reason?: string | null;
}

export interface AuditEntry {
  seq: number;
  /** UTC, ISO 8601 with milliseconds. */
  ts: string;
  actor: string;
  role: AuditRole;
  action: string;
  objectType: string;
  objectId: string;
  oldValue: unknown;
  newValue: unknown;
  reason: string | null;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  /** Inclusive; Date, epoch ms or ISO 8601. */
  from?: Date | number | string;
  /** Exclusive. */
  to?: Date | number | string;
  objectType?: string;
  objectId?: string;
  actor?: string;
  action?: string;
  /** 1..1000, default 100. */
  limit?: number;
  offset?: number;
}

export interface AuditVerifyResult {
  ok: boolean;
  /** Entries verified intact: all of them when ok, else those before the problem. */
  entries: number;
  /** The chain head as stored: record it elsewhere to detect a rewrite of the whole chain. */
  head: { seq: number; hash: string } | null;
  /** The first seq at which the chain does not verify. */
  firstBadSeq?: number;
  problem?: string;
}

/** Input the log refuses (missing reason, malformed action, ...); the message names the field. */
export class AuditError extends Error {
  override name = 'AuditError';
}
