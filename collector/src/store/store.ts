import type { AuditEntry, AuditQuery, AuditVerifyResult } from '../audit/types.js';
import type { AssetFields, AssetPatch } from './device-asset.js';
import type { HtmStore } from './htm-store.js';
import type { DiagnosticsStore } from './diagnostics-store.js';
import type { AlertStore } from './alert-store.js';
import type { GatewayCredentialStore } from './gateway-credential-store.js';
import type { AlarmMessage, DataMessage, DeviceBirthMessage, DeviceStatusMessage, GapMessage, PortsMessage, ResultMessage, StateMessage } from '@medtel/shared';
import type { PhiStore } from './phi-store.js';
import type { ApprovalFields, ApprovalState, DiscoveryStore } from './discovery-store.js';
import type { TrendStore } from './trend-store.js';

/**
 * The collector's storage, narrow on purpose: ingest and the API depend on
 * this interface only, so a PostgreSQL implementation can follow without
 * touching either. Every backend runs the same contract suite
 * (collector/test/store-contract.ts).
 */

interface Origin {
  site: string;
  gateway: string;
  receivedAt: number;
  /**
   * Set by Store.apply on device messages: the registry entry the message was
   * filed under. Differs from deviceKey(gateway, device) after the device moved
   * to another gateway (it keeps its entry); listeners use it.
   */
  registryId?: string;
}

/** One validated message (or one rejected payload) to persist. */
export type IngestItem =
  | (Origin & { kind: 'birth'; message: DeviceBirthMessage })
  | (Origin & { kind: 'status'; message: DeviceStatusMessage })
  | (Origin & { kind: 'data'; message: DataMessage })
  | (Origin & { kind: 'alarm'; message: AlarmMessage })
  | (Origin & { kind: 'gap'; message: GapMessage })
  | (Origin & { kind: 'res'; message: ResultMessage })
  | (Origin & { kind: 'state'; message: StateMessage })
  | (Origin & { kind: 'ports'; message: PortsMessage })
  | (Origin & { kind: 'quarantine'; topic: string; reason: string; payload: Buffer });

/**
 * Per item, in order: stored; dropped as already stored (same gateway and
 * seq); or acknowledged but not stored because its device was rejected
 * (data and alarms only, see discovery-store.ts).
 */
export type ApplyOutcome = 'stored' | 'duplicate' | 'rejected_device';

export interface DeviceRecord extends AssetFields, ApprovalFields {
  id: string;
  gateway: string;
  site: string;
  device: string;
  type: string | null;
  deviceCode: number | null;
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  firmware: string | null;
  protocol: string | null;
  profile: string | null;
  metrics: Array<{ metric: string; code?: number; refId?: string; unit?: string; unitCode?: number }>;
  /** Diagnostic tests the gateway announced for the device (empty before its first birth that lists them). */
  diagnostics: Array<{ name: string; description: string; changesState: boolean }>;
  status: string | null;
  statusReason: string | null;
  statusAt: number | null;
  firstSeen: number;
  lastSeen: number;
  gatewayState: string | null;
  assetTag: string | null;
  location: string | null;
  department: string | null;
  lifecycle: string;
  /** Increases with every edit through the API; an edit must name the version it read. */
  version: number;
}

/** Registry fields a person edits (identity comes from the device's birth). */
export interface DevicePatch extends AssetPatch {
  assetTag?: string | null;
  location?: string | null;
  department?: string | null;
  lifecycle?: 'active' | 'out-of-service' | 'retired';
}

export interface Actor {
  sub: string;
  role: 'viewer' | 'technician' | 'clinician' | 'admin';
}

export type UpdateOutcome = { ok: true; device: DeviceRecord } | { ok: false; reason: 'not_found' } | { ok: false; reason: 'stale'; current: number };

export interface DeviceQuery {
  gateway?: string;
  type?: string;
  status?: string;
  lifecycle?: string;
  location?: string;
  department?: string;
  approval?: ApprovalState;
  highRisk?: boolean;
  lifeSupport?: boolean;
  limit: number;
  offset: number;
}

export interface TelemetryQuery {
  metric?: string;
  /** Inclusive, epoch ms. */
  from?: number;
  /** Exclusive, epoch ms. */
  to?: number;
  limit: number;
}

export interface TelemetryRow {
  t: number;
  metric: string;
  code: number | null;
  refId: string | null;
  unit: string | null;
  unitCode: number | null;
  value: number | string | boolean | null;
  quality: string;
  seq: number;
}

export interface AlarmRecord {
  t: number;
  alarm: string;
  code: number | null;
  refId: string | null;
  priority: string;
  phase: string;
  state: string;
  text: string;
}

export interface GapRecord {
  from: number;
  to: number;
  count: number;
  /** What the count counts: readings for "data", messages otherwise. */
  kind: string;
  reason: string;
  receivedAt: number;
}

export interface GatewayRecord {
  id: string;
  site: string;
  state: string;
  agentVersion: string | null;
  stateAt: number;
  lastSeen: number;
  /** The outbox backlog as the gateway's last `online` state reported it (`at`: when); null if it never did. */
  outbox: { rows: number; bytes: number; oldestAgeSeconds: number; at: number } | null;
}

export interface StoreCounts {
  readings: number;
  messages: number;
  quarantined: number;
}

/**
 * The audit trail as the API and CLI read it (see ../audit/audit-log.ts).
 * Entries are appended only inside the store's own methods, in the
 * transaction of the change they record, so this side is read-only and
 * backend-neutral (async).
 */
export interface AuditTrail {
  /** Entries matching the query, newest first, with the total matching count. */
  list(query?: AuditQuery): Promise<{ total: number; items: AuditEntry[] }>;
  /** Re-computes the whole chain (AuditLog.verify). */
  verify(): Promise<AuditVerifyResult>;
  /** The last entry's seq and hash. */
  head(): Promise<{ seq: number; hash: string }>;
}

export interface Store {
  /** Append-only, hash-chained record of every change made through the API. */
  readonly audit: AuditTrail;
  /** Calibrations, maintenance schedules, work orders and KPIs (htm-store.ts). */
  readonly htm: HtmStore;
  /** Diagnostic requests sent to gateways and their outcomes. */
  readonly diagnostics: DiagnosticsStore;
  /** Alert rules and alerts (./alert-store.ts). */
  readonly alerts: AlertStore;
  /** Sealed patient data and pseudonymous subjects (docs/phi.md). */
  readonly phi: PhiStore;
  /** Which gateways may connect and how they authenticate (./gateway-credential-store.ts). */
  readonly gatewayCredentials: GatewayCredentialStore;
  /** Approval of devices the agents discovered, and each gateway's port report (./discovery-store.ts). */
  readonly discovery: DiscoveryStore;
  /** Readings downsampled into time buckets for charts (./trend-store.ts). */
  readonly trends: TrendStore;
  /** Persists a batch atomically: either every item is durable when it resolves, or it rejects. */
  apply(items: IngestItem[]): Promise<ApplyOutcome[]>;
  listDevices(query: DeviceQuery): Promise<{ items: DeviceRecord[]; total: number }>;
  getDevice(id: string): Promise<DeviceRecord | undefined>;
  /**
   * Applies a registry edit if the device is still at `expectedVersion`, and
   * records it in the audit trail (old and new values) in the same transaction.
   */
  updateDevice(id: string, patch: DevicePatch, expectedVersion: number, actor: Actor, reason?: string): Promise<UpdateOutcome>;
  /** Newest first. */
  queryTelemetry(deviceId: string, query: TelemetryQuery): Promise<TelemetryRow[]>;
  /** Device alarm phases as the gateway reported them, newest first. */
  queryAlarms(deviceId: string, query: { from?: number; to?: number; limit: number }): Promise<AlarmRecord[]>;
  /** Data the gateway reported it had to drop, newest first. */
  queryGaps(deviceId: string, query: { from?: number; to?: number; limit: number }): Promise<GapRecord[]>;
  listGateways(): Promise<GatewayRecord[]>;
  counts(): Promise<StoreCounts>;
  /** Throws if the store cannot serve (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
