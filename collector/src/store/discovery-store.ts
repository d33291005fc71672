import type { DiscoveryInfo, PortReport } from '@medtel/shared';
import type { Actor, DeviceRecord } from './store.js';

/**
 * Plug and play on the collector side (docs/api.md "Discovered devices:
 * approval"): a device the agent identified by itself arrives `pending`, a
 * technician approves it (binding asset tag, location, department) or
 * rejects it, and each gateway's latest port report is kept. The ingest side
 * (births that carry `discovery`, moves between gateways, the `ports`
 * message) runs inside Store.apply; this interface is what the API reads and
 * changes, so a PostgreSQL backend implements it next to its own apply.
 */

/**
 * approved: configured on its gateway, or approved by a person; pending:
 * discovered, awaiting a decision (its data is stored, flagged); rejected:
 * its data is acknowledged and counted but not stored (it may still be
 * approved later).
 */
export const APPROVAL_STATES = ['approved', 'pending', 'rejected'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** What a technician binds when approving a discovered device. */
export interface ApprovalBinding {
  assetTag: string;
  location: string;
  department: string;
  note?: string;
}

export interface ApprovalFields {
  approval: ApprovalState;
  /** How plug-and-play found the device; null for devices configured on their gateway. */
  discovery: DiscoveryInfo | null;
  /** Who approved or rejected it (sub), when (epoch ms), with the note or reason; null while nobody decided. */
  approvalBy: string | null;
  approvalAt: number | null;
  approvalNote: string | null;
}

export type ApprovalOutcome =
  | { ok: true; device: DeviceRecord }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'stale'; current: number }
  /** The device is not in a state this decision applies to (e.g. already approved); `message` says why. */
  | { ok: false; reason: 'conflict'; message: string };

/** A gateway's latest `ports` message as received. */
export interface GatewayPortsRecord {
  gateway: string;
  site: string;
  sentAt: number;
  receivedAt: number;
  ports: PortReport[];
}

export interface GatewayDiscoverySummary {
  pendingDevices: number;
  unidentifiedPorts: number;
}

export interface DiscoveryStore {
  /**
   * pending or rejected -> approved, binding asset tag, location and
   * department, if the device is still at `expectedVersion`; audited in the
   * same transaction. An approved device is a conflict.
   */
  approve(id: string, binding: ApprovalBinding, expectedVersion: number, actor: Actor): Promise<ApprovalOutcome>;
  /** pending -> rejected with a reason; audited in the same transaction. */
  reject(id: string, reason: string, expectedVersion: number, actor: Actor): Promise<ApprovalOutcome>;
  /** The latest port report of a gateway, if it sent one. */
  ports(gateway: string): Promise<GatewayPortsRecord | undefined>;
  /** Per gateway id: devices awaiting approval and ports where nothing was identified. */
  summary(): Promise<Map<string, GatewayDiscoverySummary>>;
  /** Devices awaiting approval, all gateways (the metrics gauge). */
  pendingCount(): Promise<number>;
}
