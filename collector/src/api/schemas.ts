import { type Static, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { AssetFieldsPatch, AssetFieldsResponse, AssetListFilters } from './asset-schemas.js';
import { ApprovalFieldsResponse, ApprovalState } from './approval-schemas.js';

/** Response and parameter schemas of the HTTP API; the OpenAPI document is generated from them. */

export const ErrorBody = Type.Object(
  {
    error: Type.String(),
    message: Type.String(),
    parameter: Type.Optional(Type.String()),
    code: Type.Optional(Type.String({ description: "Fastify's error code, when Fastify refused the request itself" })),
  },
  { $id: 'Error', description: 'What went wrong, in one sentence; `parameter` names the offending query or path parameter.' },
);

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);

/** `limit` and `offset` of a paged list, to spread into its query schema. */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
};

/** One page of a list: its items, how many match in all, the window asked for, and `extra` fields of that list. */
export function PageOf<T extends TSchema, E extends TProperties = Record<never, never>>(item: T, extra: E = {} as E) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer(), ...extra });
}
const Iso = Type.String({ format: 'date-time' });

export const MetricInfo = Type.Object({
  metric: Type.String(),
  code: Type.Optional(Type.Integer({ description: 'IEEE 11073-10101 code (partition * 65536 + term)' })),
  refId: Type.Optional(Type.String()),
  unit: Type.Optional(Type.String()),
  unitCode: Type.Optional(Type.Integer()),
});

export const Device = Type.Object(
  {
    id: Type.String({ description: '`{gateway}.{device}`' }),
    gateway: Type.String(),
    site: Type.String(),
    device: Type.String({ description: 'Id of the device on its gateway' }),
    type: Nullable(Type.String()),
    deviceCode: NullableInt,
    manufacturer: Nullable(Type.String()),
    model: Nullable(Type.String()),
    serial: Nullable(Type.String()),
    firmware: Nullable(Type.String()),
    protocol: Nullable(Type.String()),
    profile: Nullable(Type.String()),
    status: Nullable(Type.String({ description: 'connected, unreachable or error, as last reported by the gateway' })),
    statusReason: Nullable(Type.String()),
    statusAt: Type.Union([Iso, Type.Null()]),
    connectivity: Type.String({ description: 'status, or "offline" while the gateway itself is offline' }),
    gatewayState: Nullable(Type.String()),
    firstSeen: Iso,
    lastSeen: Iso,
    metrics: Type.Array(MetricInfo),
    diagnostics: Type.Array(Type.Object({ name: Type.String(), description: Type.String(), changesState: Type.Boolean() }), {
      description: 'Tests the device offers (POST /devices/{id}/diagnostics); changesState: a reason is required',
    }),
    assetTag: Nullable(Type.String()),
    location: Nullable(Type.String()),
    department: Nullable(Type.String()),
    lifecycle: Type.String({ description: 'active, out-of-service or retired' }),
    ...AssetFieldsResponse,
    ...ApprovalFieldsResponse,
    version: Type.Integer({ description: 'Send it back in If-Match to edit the device (also the ETag)' }),
  },
  { $id: 'Device' },
);

export const DeviceList = PageOf(Type.Ref(Device));

export const TelemetryReading = Type.Object({
  t: Iso,
  metric: Type.String(),
  code: NullableInt,
  refId: Nullable(Type.String()),
  unit: Nullable(Type.String()),
  unitCode: NullableInt,
  value: Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]),
  quality: Type.String(),
});

/** On every per-device data response: readings of a device awaiting approval are kept, flagged by this. */
const DeviceApproval = { approval: ApprovalState };

export const Telemetry = Type.Object({ device: Type.String(), ...DeviceApproval, count: Type.Integer(), readings: Type.Array(TelemetryReading) });

export const DeviceAlarm = Type.Object({
  t: Iso,
  alarm: Type.String({ description: 'Alarm id from the device profile' }),
  code: NullableInt,
  refId: Nullable(Type.String()),
  priority: Type.String(),
  phase: Type.String({ description: 'start or end' }),
  state: Type.String(),
  text: Type.String(),
});

export const DeviceAlarms = Type.Object({ device: Type.String(), ...DeviceApproval, count: Type.Integer(), alarms: Type.Array(DeviceAlarm) });

export const AlarmQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ description: 'ISO 8601 time (inclusive) or epoch milliseconds' })),
    to: Type.Optional(Type.String({ description: 'ISO 8601 time (exclusive) or epoch milliseconds' })),
    limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
  },
  { additionalProperties: false },
);

export const DeviceGap = Type.Object({
  from: Iso,
  to: Iso,
  count: Type.Integer(),
  kind: Type.String({ description: 'data: count is readings; alarm, status...: count is messages' }),
  reason: Type.String(),
  receivedAt: Iso,
});

export const DeviceGaps = Type.Object({ device: Type.String(), ...DeviceApproval, count: Type.Integer(), gaps: Type.Array(DeviceGap) });

export const Gateway = Type.Object({
  id: Type.String(),
  site: Type.String(),
  state: Type.String(),
  agentVersion: Nullable(Type.String()),
  stateAt: Iso,
  lastSeen: Iso,
  pendingDevices: Type.Integer({ description: 'devices on this gateway awaiting approval' }),
  unidentifiedPorts: Type.Integer({ description: 'ports in its latest report where nothing was identified (GET /gateways/{id}/ports)' }),
  outbox: Type.Union(
    [
      Type.Object({
        rows: Type.Integer({ description: 'messages waiting in the outbox' }),
        bytes: Type.Integer({ description: 'payload bytes waiting' }),
        oldestAgeSeconds: Type.Number({ description: 'age of the oldest waiting message when reported' }),
        at: Iso,
      }),
      Type.Null(),
    ],
    { description: "the gateway's outbox backlog as its last online state reported it (every 30 s while connected); null if it never did" },
  ),
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      device: Type.String(),
      type: Nullable(Type.String()),
      model: Nullable(Type.String()),
      approval: ApprovalState,
      connectivity: Type.String({ description: 'status, or "offline" while the gateway is offline' }),
      lastSeen: Iso,
    }),
    { description: 'the devices this gateway has announced' },
  ),
});

const strict = { additionalProperties: false } as const;

export const DeviceListQuery = Type.Object(
  {
    gateway: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(Type.Union([Type.Literal('connected'), Type.Literal('unreachable'), Type.Literal('error')])),
    approval: Type.Optional(ApprovalState),
    ...AssetListFilters,
    ...PageQuery,
  },
  strict,
);

export const TelemetryQuery = Type.Object(
  {
    metric: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    from: Type.Optional(Type.String({ description: 'ISO 8601 time (inclusive) or epoch milliseconds' })),
    to: Type.Optional(Type.String({ description: 'ISO 8601 time (exclusive) or epoch milliseconds' })),
    limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
  },
  strict,
);

const EditableText = Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()]);

export const DevicePatchBody = Type.Object(
  {
    assetTag: Type.Optional(EditableText),
    location: Type.Optional(EditableText),
    department: Type.Optional(EditableText),
    lifecycle: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('out-of-service'), Type.Literal('retired')])),
    ...AssetFieldsPatch,
    /** Why, for the audit trail. */
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const DeviceParams = Type.Object({ id: Type.String({ maxLength: 200 }) }, strict);

export type DeviceListQuery = Static<typeof DeviceListQuery>;
export type TelemetryQuery = Static<typeof TelemetryQuery>;
export type DeviceParams = Static<typeof DeviceParams>;
export type DevicePatchBody = Static<typeof DevicePatchBody>;
export type AlarmQuery = Static<typeof AlarmQuery>;
