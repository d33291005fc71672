import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { parseDuration } from '@medtel/shared';
import { PM_FREQUENCIES } from '../htm/pm-schedule.js';
import type { PmSchedule } from '../store/htm-store.js';
import type { Store } from '../store/store.js';
import { badParameter, notFound } from './errors.js';
import { actorOf } from '../auth/plugin.js';
import { changed } from './htm-http.js';
import { etag, expectedVersion } from './http-conditions.js';
import { iso, isoOrNull, parseTime } from './times.js';
import { ErrorBody, PageOf, PageQuery } from './schemas.js';

const strict = { additionalProperties: false } as const;
const Frequency = Type.Union(PM_FREQUENCIES.map((f) => Type.Literal(f)));
const Years = Type.Integer({ minimum: 2, maximum: 10, description: 'multi-year only: every N years' });
const Reason = Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Why, for the audit trail' }));
const Time = Type.String({ format: 'date-time' });

const CreateBody = Type.Object(
  {
    task: Type.String({ minLength: 1, maxLength: 500 }),
    frequency: Frequency,
    years: Type.Optional(Years),
    firstDueAt: Type.String({ description: 'when the first occurrence is due (ISO 8601 or epoch ms)' }),
    reason: Reason,
  },
  strict,
);
const PatchBody = Type.Object(
  {
    task: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    frequency: Type.Optional(Frequency),
    years: Type.Optional(Type.Union([Years, Type.Null()])),
    firstDueAt: Type.Optional(Type.String()),
    active: Type.Optional(Type.Boolean()),
    reason: Reason,
  },
  { ...strict, minProperties: 1 },
);
const ListQuery = Type.Object(
  {
    device: Type.Optional(Type.String({ maxLength: 200 })),
    dueWithin: Type.Optional(Type.String({ description: 'only active schedules whose window opens within this period (30d...), overdue ones included' })),
    ...PageQuery,
  },
  strict,
);

const Schedule = Type.Object({
  id: Type.Integer(),
  deviceId: Type.String(),
  task: Type.String(),
  frequency: Type.String(),
  years: Type.Union([Type.Integer(), Type.Null()]),
  firstDueAt: Time,
  lastCompletedAt: Type.Union([Time, Type.Null()]),
  dueAt: Type.String({ format: 'date-time', description: 'nominal due (start of the calendar week/month for weekly/monthly)' }),
  windowStart: Type.String({ format: 'date-time', description: 'on time from here...' }),
  windowEnd: Type.String({ format: 'date-time', description: '...until here (exclusive)' }),
  overdue: Type.Boolean(),
  active: Type.Boolean(),
  createdAt: Time,
  version: Type.Integer(),
});

const view = (s: PmSchedule) => ({
  ...s,
  firstDueAt: iso(s.firstDueAt),
  lastCompletedAt: isoOrNull(s.lastCompletedAt),
  dueAt: iso(s.dueAt),
  windowStart: iso(s.windowStart),
  windowEnd: iso(s.windowEnd),
  createdAt: iso(s.createdAt),
});

const DeviceParams = Type.Object({ id: Type.String({ maxLength: 200 }) }, strict);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, strict);

/** Preventive-maintenance schedules; due windows follow the on-time rules in docs/htm.md. */
export const pmScheduleRoutes =
  (store: Store): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Params: Static<typeof DeviceParams>; Body: Static<typeof CreateBody> }>(
      '/devices/:id/pm-schedules',
      {
        config: { permission: 'maintenance:write' },
        schema: {
          summary: 'Add a preventive-maintenance schedule to a device',
          tags: ['maintenance'],
          params: DeviceParams,
          body: CreateBody,
          response: { 201: Schedule, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        const { reason, firstDueAt, ...rest } = request.body;
        const input = { ...rest, firstDueAt: parseTime('firstDueAt', firstDueAt) };
        const outcome = await store.htm.createSchedule(request.params.id, input, actorOf(request), reason);
        return view(changed(reply.code(201), outcome, 'PM schedule'));
      },
    );

    app.get<{ Querystring: Static<typeof ListQuery> }>(
      '/pm-schedules',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: 'PM schedules with their next due window; ?dueWithin=30d lists what is due soon or overdue',
          tags: ['maintenance'],
          querystring: ListQuery,
          response: { 200: PageOf(Schedule), 400: ErrorBody },
        },
      },
      async (request) => {
        const { device, dueWithin, limit, offset } = request.query;
        const now = Date.now();
        let dueBefore: number | undefined;
        if (dueWithin !== undefined) {
          try {
            dueBefore = now + parseDuration(dueWithin);
          } catch {
            throw badParameter('dueWithin', `"${dueWithin.slice(0, 20)}" is not a duration; use e.g. 30d`);
          }
        }
        const { items, total } = await store.htm.listSchedules(
          { ...(device ? { device } : {}), ...(dueBefore !== undefined ? { dueBefore } : {}), limit, offset },
          now,
        );
        return { items: items.map(view), total, limit, offset };
      },
    );

    app.get<{ Params: Static<typeof IdParams> }>(
      '/pm-schedules/:id',
      {
        config: { permission: 'registry:read' },
        schema: { summary: 'One PM schedule', tags: ['maintenance'], params: IdParams, response: { 200: Schedule, 400: ErrorBody, 404: ErrorBody } },
      },
      async (request, reply) => {
        const s = await store.htm.getSchedule(request.params.id, Date.now());
        if (!s) throw notFound(`no PM schedule ${request.params.id}`);
        reply.header('etag', etag(s.version));
        return view(s);
      },
    );

    app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchBody> }>(
      '/pm-schedules/:id',
      {
        config: { permission: 'maintenance:write' },
        schema: {
          summary: 'Change a PM schedule, or retire it with active: false (If-Match: its version)',
          tags: ['maintenance'],
          params: IdParams,
          body: PatchBody,
          response: { 200: Schedule, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 428: ErrorBody },
        },
      },
      async (request, reply) => {
        const version = expectedVersion(request, '/pm-schedules/{id}');
        const { reason, firstDueAt, ...rest } = request.body;
        const patch = { ...rest, ...(firstDueAt !== undefined ? { firstDueAt: parseTime('firstDueAt', firstDueAt) } : {}) };
        const outcome = await store.htm.updateSchedule(request.params.id, patch, version, actorOf(request), reason);
        return view(changed(reply, outcome, 'PM schedule'));
      },
    );
  };
