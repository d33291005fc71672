import type { AuditInput } from '../../audit/types.js';
import type { Actor, DevicePatch, DeviceQuery, DeviceRecord, GatewayRecord, IngestItem } from '../store.js';
import { ASSET_CODECS, toAssetFields } from '../sqlite/device-asset-columns.js';
import { where } from '../sqlite/paged.js';
import { toApprovalFields } from './discovery.js';

/**
 * The backend-neutral half of the device registry and the ingest path: the
 * rows a message becomes, the filters a listing takes, how a PATCH is diffed
 * and audited, and how rows read back as records. Each backend keeps only its
 * SQL and its driver calls, so SQLite and PostgreSQL cannot drift apart in
 * what they store.
 */

type Row = Record<string, unknown>;
type ItemOf<K extends IngestItem['kind']> = Extract<IngestItem, { kind: K }>;

/** Quarantined payloads are kept up to this size (enough to diagnose, bounded on disk). */
export const QUARANTINE_KEEP_BYTES = 64 * 1024;

/** The part of a quarantined payload that is kept. */
export function keptPayload(item: ItemOf<'quarantine'>): Buffer {
  return item.payload.subarray(0, QUARANTINE_KEEP_BYTES);
}

/**
 * The `gateways` row a state message upserts. Ordered by when the collector
 * received it, not by the payload's sentAt: a last will is composed when the
 * agent connects, before that session's "online", yet it means "offline now".
 */
export function gatewayStateRow(item: ItemOf<'state'>) {
  const m = item.message;
  return {
    id: item.gateway,
    site: item.site,
    state: m.state,
    agentVersion: m.agentVersion ?? null,
    at: item.receivedAt,
    receivedAt: item.receivedAt,
    outboxRows: m.outbox?.rows ?? null,
    outboxBytes: m.outbox?.bytes ?? null,
    outboxOldestAgeS: m.outbox?.oldestAgeSeconds ?? null,
    outboxAt: m.outbox ? item.receivedAt : null,
  };
}

/** The `devices` row a birth upserts, filed under registry entry `id`. */
export function birthRow(id: string | undefined, item: ItemOf<'birth'>) {
  const b = item.message;
  return {
    id,
    gateway: item.gateway,
    site: item.site,
    device: b.device,
    type: b.type,
    deviceCode: b.deviceCode ?? null,
    manufacturer: b.manufacturer,
    model: b.model,
    serial: b.serial ?? null,
    firmware: b.firmware ?? null,
    protocol: b.protocol,
    profile: b.profile,
    metrics: JSON.stringify(b.metrics),
    diagnostics: JSON.stringify(b.diagnostics ?? []),
    // Configured on its gateway: someone decided already. Identified by the agent: awaiting approval.
    approval: b.discovery ? 'pending' : 'approved',
    discovery: b.discovery ? JSON.stringify(b.discovery) : null,
    at: item.receivedAt,
  };
}

/** `UPDATE devices SET status = ?, status_reason = ?, status_at = ?, last_seen = max(?) WHERE id = ? AND status_at <= ?` arguments. */
export function statusArgs(id: string | undefined, item: ItemOf<'status'>): unknown[] {
  const st = item.message;
  return [st.status, st.reason ?? null, st.t, item.receivedAt, id, st.t];
}

/** `alarms (device_id, alarm, t, code, ref_id, priority, phase, state, text, seq)` values. */
export function alarmArgs(id: string | undefined, item: ItemOf<'alarm'>): unknown[] {
  const a = item.message;
  return [id, a.alarm, a.t, a.code ?? null, a.refId ?? null, a.priority, a.phase, a.state, a.text, a.seq];
}

/** `gaps (device_id, from_t, to_t, count, kind, reason, seq, received_at)` values. */
export function gapArgs(id: string | undefined, item: ItemOf<'gap'>): unknown[] {
  const g = item.message;
  return [id, g.from, g.to, g.count, g.kind ?? 'data', g.reason, g.seq, item.receivedAt];
}

/** `results (request_id, gateway, ok, result, error, received_at)` values. */
export function resultArgs(item: ItemOf<'res'>): unknown[] {
  const r = item.message;
  return [r.requestId, item.gateway, r.ok ? 1 : 0, r.result === undefined ? null : JSON.stringify(r.result), r.error ?? null, item.receivedAt];
}

/** `[condition, value]` pairs for `where()` over `devices d`; an empty filter (`?gateway=`) filters nothing. */
export function deviceFilters(q: DeviceQuery): Array<[string, unknown]> {
  const given = (value: string | undefined) => (value === '' ? undefined : value);
  return [
    ['d.gateway = ?', given(q.gateway)],
    ['d.type = ?', given(q.type)],
    ['d.status = ?', given(q.status)],
    ['d.lifecycle = ?', given(q.lifecycle)],
    ['d.location = ?', given(q.location)],
    ['d.department = ?', given(q.department)],
    ['d.approval = ?', given(q.approval)],
    ['d.high_risk = ?', q.highRisk === undefined ? undefined : Number(q.highRisk)],
    ['d.life_support = ?', q.lifeSupport === undefined ? undefined : Number(q.lifeSupport)],
  ];
}

/** What a device listing selects: devices with their gateway's state, filtered, in id order (for each backend's selectPage). */
export function deviceListing(q: DeviceQuery) {
  return {
    columns: 'd.*, g.state AS gateway_state',
    from: 'devices d LEFT JOIN gateways g ON g.id = d.gateway',
    where: where(deviceFilters(q)),
    orderBy: 'd.id',
    limit: q.limit,
    offset: q.offset,
  };
}

/** One device with its gateway's state. */
export const DEVICE_BY_ID_SQL = 'SELECT d.*, g.state AS gateway_state FROM devices d LEFT JOIN gateways g ON g.id = d.gateway WHERE d.id = ?';

const same = (column: string) => ({ column, encode: (v: unknown) => v ?? null, decode: (r: unknown) => r ?? null });

/** Every field PATCH /devices/{id} may change, with its column. */
export const DEVICE_CODECS = {
  assetTag: same('asset_tag'),
  location: same('location'),
  department: same('department'),
  lifecycle: same('lifecycle'),
  ...ASSET_CODECS,
} satisfies Record<keyof DevicePatch, unknown>;

/** What a PATCH changes against the stored row: values for the audit trail and for the UPDATE. */
export interface DeviceChange {
  oldValue: Record<string, unknown>;
  newValue: Record<string, unknown>;
  /** Field name to stored value, for `@field` placeholders. */
  encoded: Record<string, unknown>;
  /** `column = @field` assignments; empty when nothing changes. */
  sets: string[];
}

/** Only fields whose stored value differs count as changed (no version bump, no audit entry otherwise). */
export function diffDevicePatch(row: Row, patch: DevicePatch): DeviceChange {
  const oldValue: Record<string, unknown> = {};
  const newValue: Record<string, unknown> = {};
  const encoded: Record<string, unknown> = {};
  for (const [field, codec] of Object.entries(DEVICE_CODECS)) {
    const value = patch[field as keyof DevicePatch];
    if (value === undefined) continue;
    const stored = codec.encode(value);
    if (stored === row[codec.column]) continue;
    oldValue[field] = codec.decode(row[codec.column]);
    newValue[field] = value;
    encoded[field] = stored;
  }
  const sets = Object.keys(encoded).map((f) => `${DEVICE_CODECS[f as keyof DevicePatch].column} = @${f}`);
  return { oldValue, newValue, encoded, sets };
}

/** The audit entry of a registry edit. */
export function deviceUpdateAudit(id: string, change: DeviceChange, actor: Actor, reason?: string): AuditInput {
  return {
    actor: actor.sub,
    role: actor.role,
    action: 'device:update',
    objectType: 'device',
    objectId: id,
    oldValue: change.oldValue,
    newValue: change.newValue,
    reason: reason ?? null,
  };
}

export function toGateway(r: Row): GatewayRecord {
  return {
    id: r.id as string,
    site: r.site as string,
    state: r.state as string,
    agentVersion: r.agent_version as string | null,
    stateAt: r.state_at as number,
    lastSeen: r.last_seen as number,
    outbox:
      r.outbox_at === null || r.outbox_at === undefined
        ? null
        : { rows: r.outbox_rows as number, bytes: r.outbox_bytes as number, oldestAgeSeconds: r.outbox_oldest_age_s as number, at: r.outbox_at as number },
  };
}

export function toDevice(r: Row): DeviceRecord {
  return {
    ...toAssetFields(r),
    ...toApprovalFields(r),
    id: r.id as string,
    gateway: r.gateway as string,
    site: r.site as string,
    device: r.device as string,
    type: r.type as string | null,
    deviceCode: r.device_code as number | null,
    manufacturer: r.manufacturer as string | null,
    model: r.model as string | null,
    serial: r.serial as string | null,
    firmware: r.firmware as string | null,
    protocol: r.protocol as string | null,
    profile: r.profile as string | null,
    metrics: JSON.parse(r.metrics as string),
    diagnostics: JSON.parse((r.diagnostics as string | undefined) ?? '[]'),
    status: r.status as string | null,
    statusReason: r.status_reason as string | null,
    statusAt: r.status_at as number | null,
    firstSeen: r.first_seen as number,
    lastSeen: r.last_seen as number,
    gatewayState: (r.gateway_state as string | null) ?? null,
    assetTag: r.asset_tag as string | null,
    location: r.location as string | null,
    department: r.department as string | null,
    lifecycle: r.lifecycle as string,
    version: r.version as number,
  };
}
