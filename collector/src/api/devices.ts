import type { FastifyPluginAsync } from 'fastify';
import type { DeviceRecord, Store, TelemetryRow } from '../store/store.js';
import { programProblem } from '../htm/asset-rules.js';
import { actorOf } from '../auth/plugin.js';
import { badParameter, notFound } from './errors.js';
import { etag, expectedVersion, staleVersion } from './http-conditions.js';
import { iso, parseTime } from './times.js';
import {
  AlarmQuery,
  DeviceAlarms,
  DeviceGaps,
  DevicePatchBody,
  DeviceList,
  DeviceListQuery,
  DeviceParams,
  ErrorBody,
  Telemetry,
  TelemetryQuery,
} from './schemas.js';

export function deviceView(d: DeviceRecord) {
  return {
    ...d,
    statusAt: d.statusAt === null ? null : iso(d.statusAt),
    approvalAt: d.approvalAt === null ? null : iso(d.approvalAt),
    discovery: d.discovery === null ? null : { ...d.discovery, identifiedAt: iso(d.discovery.identifiedAt) },
    firstSeen: iso(d.firstSeen),
    lastSeen: iso(d.lastSeen),
    connectivity: d.gatewayState === 'offline' ? 'offline' : (d.status ?? 'unknown'),
  };
}

function telemetryView(r: TelemetryRow) {
  const { seq: _seq, ...rest } = r;
  return { ...rest, t: iso(r.t) };
}

/** `from`/`to` of a query as epoch ms, only those given; 400 if `to` is not after `from`. */
function timeRange(q: { from?: string; to?: string }): { from?: number; to?: number } {
  const from = q.from === undefined ? undefined : parseTime('from', q.from);
  const to = q.to === undefined ? undefined : parseTime('to', q.to);
  if (from !== undefined && to !== undefined && from >= to) throw badParameter('to', 'must be later than from');
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

/** The device registry and each device's telemetry. */
export const deviceRoutes =
  (store: Store): FastifyPluginAsync =>
  async (app) => {
    const errors = { 400: ErrorBody, 404: ErrorBody };

    app.get<{ Querystring: DeviceListQuery }>(
      '/devices',
      {
        config: { permission: 'registry:read' },
        schema: { summary: 'List devices', tags: ['registry'], querystring: DeviceListQuery, response: { 200: DeviceList, 400: ErrorBody } },
      },
      async (request) => {
        const { limit, offset, ...filter } = request.query;
        const { items, total } = await store.listDevices({ ...filter, limit, offset });
        return { items: items.map(deviceView), total, limit, offset };
      },
    );

    app.get<{ Params: DeviceParams }>(
      '/devices/:id',
      {
        config: { permission: 'registry:read' },
        schema: { summary: 'One device', tags: ['registry'], params: DeviceParams, response: { 200: { $ref: 'Device#' }, ...errors } },
      },
      async (request, reply) => {
        const device = await store.getDevice(request.params.id);
        if (!device) throw notFound(`no device "${request.params.id}"; ids look like gateway.device (GET /api/v1/devices lists them)`);
        reply.header('etag', etag(device.version));
        return deviceView(device);
      },
    );

    app.patch<{ Params: DeviceParams; Body: DevicePatchBody }>(
      '/devices/:id',
      {
        config: { permission: 'registry:write' },
        schema: {
          summary:
            "Edit a device's registry and clinical-engineering fields (asset tag, location, lifecycle, risk, schedule source, UDI, ownership, calibration interval...); audited; If-Match: its version",
          tags: ['registry'],
          params: DeviceParams,
          body: DevicePatchBody,
          response: { 200: { $ref: 'Device#' }, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 428: ErrorBody },
        },
      },
      async (request, reply) => {
        const expected = expectedVersion(request, '/devices/{id}');
        const { reason, ...patch } = request.body;
        const current = await store.getDevice(request.params.id);
        if (!current) throw notFound(`no device "${request.params.id}"`);
        // Rules across fields (AEM not for imaging or lasers, AEM needs its justification) on the device as it would be after the edit.
        const problem = programProblem(current.type, { ...current, ...patch });
        if (problem) throw badParameter(problem.field, problem.message);
        const outcome = await store.updateDevice(request.params.id, patch, expected, actorOf(request), reason);
        if (!outcome.ok && outcome.reason === 'not_found') throw notFound(`no device "${request.params.id}"`);
        if (!outcome.ok) throw staleVersion('device', outcome.current);
        reply.header('etag', etag(outcome.device.version));
        return deviceView(outcome.device);
      },
    );

    app.get<{ Params: DeviceParams; Querystring: TelemetryQuery }>(
      '/devices/:id/telemetry',
      {
        config: { permission: 'telemetry:read' },
        schema: {
          summary: "A device's readings, newest first",
          tags: ['telemetry'],
          params: DeviceParams,
          querystring: TelemetryQuery,
          response: { 200: Telemetry, ...errors },
        },
      },
      async (request) => {
        const { id } = request.params;
        const q = request.query;
        const range = timeRange(q);
        const device = await store.getDevice(id);
        if (!device) throw notFound(`no device "${id}"`);
        const rows = await store.queryTelemetry(id, { ...(q.metric ? { metric: q.metric } : {}), ...range, limit: q.limit });
        return { device: id, approval: device.approval, count: rows.length, readings: rows.map(telemetryView) };
      },
    );

    app.get<{ Params: DeviceParams; Querystring: AlarmQuery }>(
      '/devices/:id/alarms',
      {
        config: { permission: 'telemetry:read' },
        schema: {
          summary: "A device's own alarms (start and end phases), newest first",
          tags: ['telemetry'],
          params: DeviceParams,
          querystring: AlarmQuery,
          response: { 200: DeviceAlarms, ...errors },
        },
      },
      async (request) => {
        const { id } = request.params;
        const range = timeRange(request.query);
        const device = await store.getDevice(id);
        if (!device) throw notFound(`no device "${id}"`);
        const rows = await store.queryAlarms(id, { ...range, limit: request.query.limit });
        return { device: id, approval: device.approval, count: rows.length, alarms: rows.map((a) => ({ ...a, t: iso(a.t) })) };
      },
    );

    app.get<{ Params: DeviceParams; Querystring: AlarmQuery }>(
      '/devices/:id/gaps',
      {
        config: { permission: 'telemetry:read' },
        schema: {
          summary: 'Data the gateway had to drop for this device (outbox full, too old, purged), newest first',
          tags: ['telemetry'],
          params: DeviceParams,
          querystring: AlarmQuery,
          response: { 200: DeviceGaps, ...errors },
        },
      },
      async (request) => {
        const { id } = request.params;
        const range = timeRange(request.query);
        const device = await store.getDevice(id);
        if (!device) throw notFound(`no device "${id}"`);
        const rows = await store.queryGaps(id, { ...range, limit: request.query.limit });
        return {
          device: id,
          approval: device.approval,
          count: rows.length,
          gaps: rows.map((g) => ({ ...g, from: iso(g.from), to: iso(g.to), receivedAt: iso(g.receivedAt) })),
        };
      },
    );
  };
