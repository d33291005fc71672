import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { CAUSE_CODES, INCOMPLETE_REASONS, WORK_ORDER_STATES, WORK_ORDER_TYPES } from '../htm/work-order-rules.js';
import type { Store } from '../store/store.js';
import { badParameter, notFound } from './errors.js';
import { actorOf } from '../auth/plugin.js';
import { changed } from './htm-http.js';
import { etag, expectedVersion } from './http-conditions.js';
import { notInFuture, parseTime } from './times.js';
import { ErrorBody, PageOf, PageQuery } from './schemas.js';
import { WorkOrderSchema, workOrderView } from './work-order-view.js';

const strict = { additionalProperties: false } as const;
const Text = (max = 256) => Type.String({ minLength: 1, maxLength: max });
const NullableText = (max = 256) => Type.Union([Text(max), Type.Null()]);
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Reason = Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Why, for the audit trail' }));

const CreateBody = Type.Object(
  {
    deviceId: Type.String({ minLength: 1, maxLength: 200 }),
    type: literals(WORK_ORDER_TYPES),
    title: Text(200),
    description: Type.Optional(Text(4000)),
    assignee: Type.Optional(Text()),
    alertId: Type.Optional(Type.Integer({ minimum: 1, description: 'the alert that caused this (corrective) work' })),
    scheduleId: Type.Optional(Type.Integer({ minimum: 1, description: 'the PM schedule this preventive work fulfils' })),
    openedAt: Type.Optional(Type.String({ description: 'when the request came in, if entered afterwards (ISO 8601 or epoch ms); default now' })),
    reason: Reason,
  },
  strict,
);

const PatchBody = Type.Object(
  {
    state: Type.Optional(literals(WORK_ORDER_STATES)),
    title: Type.Optional(Text(200)),
    description: Type.Optional(NullableText(4000)),
    assignee: Type.Optional(NullableText()),
    incompleteReason: Type.Optional(Type.Union([literals(INCOMPLETE_REASONS), Type.Null()])),
    causeCode: Type.Optional(Type.Union([literals(CAUSE_CODES), Type.Null()])),
    notes: Type.Optional(NullableText(4000)),
    at: Type.Optional(Type.String({ description: 'when the state change happened, if entered afterwards; default now' })),
    reason: Reason,
  },
  { ...strict, minProperties: 1 },
);

const SearchBody = Type.Object(
  {
    where: Text(500),
    at: Type.Optional(Type.String({ description: 'when the search was made; default now' })),
    note: Type.Optional(Text(1000)),
  },
  strict,
);

const ListQuery = Type.Object(
  {
    state: Type.Optional(literals(WORK_ORDER_STATES)),
    type: Type.Optional(literals(WORK_ORDER_TYPES)),
    device: Type.Optional(Type.String({ maxLength: 200 })),
    ...PageQuery,
  },
  strict,
);

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, strict);
const Ref = Type.Ref(WorkOrderSchema);
const errors = { 400: ErrorBody, 404: ErrorBody };

/** Work orders: open, move through their states, log searches for devices that cannot be found. */
export const workOrderRoutes =
  (store: Store): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: Static<typeof CreateBody> }>(
      '/work-orders',
      {
        config: { permission: 'maintenance:write' },
        schema: {
          summary: 'Open a work order (assigned if it names an assignee, else draft)',
          tags: ['maintenance'],
          body: CreateBody,
          response: { 201: Ref, ...errors },
        },
      },
      async (request, reply) => {
        const { reason, openedAt, ...input } = request.body;
        const opened = openedAt === undefined ? undefined : notInFuture('openedAt', parseTime('openedAt', openedAt));
        // A corrective work order names the alert that caused it; a dangling link would mislead the audit.
        if (input.alertId !== undefined) {
          const alert = await store.alerts.getAlert(input.alertId);
          if (!alert) throw badParameter('alertId', `no alert ${input.alertId}`);
          if (alert.deviceId !== null && alert.deviceId !== input.deviceId) {
            throw badParameter('alertId', `alert ${input.alertId} is about ${alert.deviceId}, not ${input.deviceId}`);
          }
        }
        const outcome = await store.htm.createWorkOrder({ ...input, ...(opened !== undefined ? { openedAt: opened } : {}) }, actorOf(request), reason);
        return workOrderView(changed(reply.code(201), outcome, 'work order'));
      },
    );

    app.get<{ Querystring: Static<typeof ListQuery> }>(
      '/work-orders',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: 'Work orders, newest first, filtered by state, type and device',
          tags: ['maintenance'],
          querystring: ListQuery,
          response: { 200: PageOf(Ref), 400: ErrorBody },
        },
      },
      async (request) => {
        const { limit, offset, ...filter } = request.query;
        const { items, total } = await store.htm.listWorkOrders({ ...filter, limit, offset });
        return { items: items.map(workOrderView), total, limit, offset };
      },
    );

    app.get<{ Params: Static<typeof IdParams> }>(
      '/work-orders/:id',
      {
        config: { permission: 'registry:read' },
        schema: { summary: 'One work order', tags: ['maintenance'], params: IdParams, response: { 200: Ref, ...errors } },
      },
      async (request, reply) => {
        const wo = await store.htm.getWorkOrder(request.params.id);
        if (!wo) throw notFound(`no work order ${request.params.id}`);
        reply.header('etag', etag(wo.version));
        return workOrderView(wo);
      },
    );

    app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchBody> }>(
      '/work-orders/:id',
      {
        config: { permission: 'maintenance:write' },
        schema: {
          summary: 'Change a work order or move it to another state (If-Match: its version); completing preventive work advances its schedule',
          tags: ['maintenance'],
          params: IdParams,
          body: PatchBody,
          response: { 200: Ref, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 428: ErrorBody },
        },
      },
      async (request, reply) => {
        const version = expectedVersion(request, '/work-orders/{id}');
        const { reason, at, ...patch } = request.body;
        const when = at === undefined ? undefined : notInFuture('at', parseTime('at', at));
        const outcome = await store.htm.updateWorkOrder(
          request.params.id,
          { ...patch, ...(when !== undefined ? { at: when } : {}) },
          version,
          actorOf(request),
          reason,
        );
        return workOrderView(changed(reply, outcome, 'work order'));
      },
    );

    app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof SearchBody> }>(
      '/work-orders/:id/searches',
      {
        config: { permission: 'maintenance:write' },
        schema: {
          summary: 'Log a search for a device that could not be located (who: the caller); practice is 2-3 logged searches before closing unable-to-locate',
          tags: ['maintenance'],
          params: IdParams,
          body: SearchBody,
          response: { 201: Ref, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (request, reply) => {
        const { where, at, note } = request.body;
        const when = at === undefined ? Date.now() : notInFuture('at', parseTime('at', at));
        const outcome = await store.htm.logSearch(request.params.id, { where, at: when, note: note ?? null }, actorOf(request));
        return workOrderView(changed(reply.code(201), outcome, 'work order'));
      },
    );
  };
