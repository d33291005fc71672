import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { parseDuration } from '@medtel/shared';
import { addDays, fromLocal } from '../htm/calendar.js';
import type { SiteCalendar } from '../htm/pm-schedule.js';
import type { CalibrationDue, CalibrationRecord } from '../store/htm-store.js';
import type { Store } from '../store/store.js';
import { badParameter, notFound } from './errors.js';
import { actorOf } from '../auth/plugin.js';
import { refusalError } from './htm-http.js';
import { iso, isoOrNull, notInFuture, parseTime } from './times.js';
import { ErrorBody, PageOf, PageQuery } from './schemas.js';
import { WorkOrderSchema, workOrderView } from './work-order-view.js';

const strict = { additionalProperties: false } as const;
const Text = (max = 256) => Type.String({ minLength: 1, maxLength: max });
const Reason = Type.String({ minLength: 1, maxLength: 2000, description: 'Why, for the audit trail (required for calibration actions)' });

const ReadingIn = Type.Object(
  {
    point: Text(100),
    expected: Type.Number(),
    measured: Type.Number(),
    tolerance: Type.Number({ minimum: 0, description: '± around expected, in unit' }),
    uncertainty: Type.Optional(Type.Number({ minimum: 0, description: 'expanded measurement uncertainty, in unit' })),
    unit: Text(32),
  },
  strict,
);
const ReadingOut = Type.Object({
  point: Type.String(),
  expected: Type.Number(),
  measured: Type.Number(),
  tolerance: Type.Number(),
  uncertainty: Type.Optional(Type.Number()),
  unit: Type.String(),
  error: Type.Number({ description: 'measured - expected' }),
  pass: Type.Boolean(),
});
const TestEquipmentIn = Type.Object(
  {
    id: Text(100),
    description: Type.Optional(Text(200)),
    calibrationDueAt: Type.String({ description: "the test equipment's own calibration due: YYYY-MM-DD (valid through that day, site time) or ISO 8601 time" }),
  },
  strict,
);

const CalibrationBody = Type.Object(
  {
    performedAt: Type.String({ description: 'ISO 8601 or epoch ms' }),
    procedure: Text(200),
    performedBy: Type.String({ minLength: 1, maxLength: 256, description: 'laboratory or service organisation' }),
    technician: Text(),
    approver: Type.Optional(Text()),
    certificate: Type.Optional(Text(128)),
    asFound: Type.Array(ReadingIn, { minItems: 1, maxItems: 200 }),
    asLeft: Type.Optional(Type.Array(ReadingIn, { minItems: 1, maxItems: 200, description: 'omit when nothing was adjusted (as left = as found)' })),
    testEquipment: Type.Array(TestEquipmentIn, { minItems: 1, maxItems: 20 }),
    conditions: Type.Optional(Text(500)),
    notes: Type.Optional(Text(2000)),
    reason: Reason,
  },
  strict,
);

const Calibration = Type.Object({
  id: Type.Integer(),
  deviceId: Type.String(),
  performedAt: Type.String({ format: 'date-time' }),
  procedure: Type.String(),
  performedBy: Type.String(),
  technician: Type.String(),
  approver: Type.Union([Type.String(), Type.Null()]),
  certificate: Type.Union([Type.String(), Type.Null()]),
  asFound: Type.Array(ReadingOut),
  asLeft: Type.Array(ReadingOut),
  asFoundPass: Type.Boolean(),
  asLeftPass: Type.Boolean(),
  result: Type.String({ description: 'pass when the device was left in tolerance' }),
  decisionRule: Type.String(),
  testEquipment: Type.Array(
    Type.Object({ id: Type.String(), description: Type.Optional(Type.String()), calibrationDueAt: Type.String({ format: 'date-time' }) }),
  ),
  conditions: Type.Union([Type.String(), Type.Null()]),
  notes: Type.Union([Type.String(), Type.Null()]),
  recordedBy: Type.String(),
  recordedAt: Type.String({ format: 'date-time' }),
  impactWorkOrderId: Type.Union([Type.Integer(), Type.Null()]),
});

const Due = Type.Object({
  deviceId: Type.String(),
  model: Type.Union([Type.String(), Type.Null()]),
  type: Type.Union([Type.String(), Type.Null()]),
  location: Type.Union([Type.String(), Type.Null()]),
  department: Type.Union([Type.String(), Type.Null()]),
  highRisk: Type.Boolean(),
  lifeSupport: Type.Boolean(),
  intervalMonths: Type.Integer(),
  intervalSource: Type.String({ description: 'device (its own override) or model (the default for its model)' }),
  lastPassAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  dueAt: Type.String({ format: 'date-time', description: 'start of the due date, site time' }),
  dueDate: Type.String({ description: 'YYYY-MM-DD in the site time zone' }),
  overdue: Type.Boolean(),
  daysOverdue: Type.Integer(),
});

const DueQuery = Type.Object({ within: Type.String({ default: '30d', description: 'how far ahead: 30d, 12h, 0d (overdue only)...' }), ...PageQuery }, strict);
const DeviceParams = Type.Object({ id: Type.String({ maxLength: 200 }) }, strict);
const ModelParams = Type.Object({ model: Type.String({ minLength: 1, maxLength: 128 }) }, strict);
const IntervalBody = Type.Object(
  { intervalMonths: Type.Union([Type.Integer({ minimum: 1, maximum: 120 }), Type.Null()], { description: 'null removes the default' }), reason: Reason },
  strict,
);
const ModelInterval = Type.Object({ model: Type.String(), intervalMonths: Type.Integer(), updatedAt: Type.String({ format: 'date-time' }) });

export const calibrationView = (c: CalibrationRecord) => ({
  ...c,
  performedAt: iso(c.performedAt),
  recordedAt: iso(c.recordedAt),
  testEquipment: c.testEquipment.map((e) => ({ ...e, calibrationDueAt: iso(e.calibrationDueAt) })),
});
export const dueView = (d: CalibrationDue) => ({ ...d, lastPassAt: isoOrNull(d.lastPassAt), dueAt: iso(d.dueAt) });

/** Calibration intervals, records and due lists. */
export const calibrationRoutes =
  (store: Store, calendar: SiteCalendar): FastifyPluginAsync =>
  async (app) => {
    /** A date is "valid through that day" in the site's zone: due at the next local midnight. */
    const dueTime = (field: string, value: string) => {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
      if (!m) return parseTime(field, value);
      const day = fromLocal({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: 0, minute: 0, second: 0, millisecond: 0 }, calendar.timeZone);
      return addDays(day, 1, calendar.timeZone) - 1;
    };

    app.get(
      '/calibration-intervals',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: 'Default calibration interval per model',
          tags: ['calibration'],
          response: { 200: Type.Object({ items: Type.Array(ModelInterval) }) },
        },
      },
      async () => ({ items: (await store.htm.listModelIntervals()).map((m) => ({ ...m, updatedAt: iso(m.updatedAt) })) }),
    );

    app.put<{ Params: Static<typeof ModelParams>; Body: Static<typeof IntervalBody> }>(
      '/calibration-intervals/:model',
      {
        config: { permission: 'calibration:write' },
        schema: {
          summary: "Set (or with null remove) a model's default calibration interval; a device's own interval overrides it (audited)",
          tags: ['calibration'],
          params: ModelParams,
          body: IntervalBody,
          response: { 200: Type.Union([ModelInterval, Type.Null()]), 400: ErrorBody },
        },
      },
      async (request) => {
        const set = await store.htm.setModelInterval(request.params.model, request.body.intervalMonths, actorOf(request), request.body.reason);
        return set ? { ...set, updatedAt: iso(set.updatedAt) } : null;
      },
    );

    app.post<{ Params: Static<typeof DeviceParams>; Body: Static<typeof CalibrationBody> }>(
      '/devices/:id/calibrations',
      {
        config: { permission: 'calibration:write' },
        schema: {
          summary: 'Record a calibration (as-found and as-left readings; pass/fail computed). As-found out of tolerance opens an impact-assessment work order',
          tags: ['calibration'],
          params: DeviceParams,
          body: CalibrationBody,
          response: {
            201: Type.Object({
              calibration: Calibration,
              impactWorkOrder: Type.Union([Type.Ref(WorkOrderSchema), Type.Null()]),
              due: Type.Union([Due, Type.Null()]),
            }),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const { reason, ...rest } = b;
        const input = {
          ...rest,
          performedAt: notInFuture('performedAt', parseTime('performedAt', b.performedAt)),
          testEquipment: b.testEquipment.map((e, i) => ({ ...e, calibrationDueAt: dueTime(`testEquipment/${i}/calibrationDueAt`, e.calibrationDueAt) })),
        };
        const outcome = await store.htm.recordCalibration(request.params.id, input, actorOf(request), reason);
        if (!outcome.ok) throw refusalError(outcome, 'calibration');
        const due = await store.htm.calibrationDue(request.params.id, Date.now());
        reply.code(201);
        return {
          calibration: calibrationView(outcome.value.calibration),
          impactWorkOrder: outcome.value.impactWorkOrder ? workOrderView(outcome.value.impactWorkOrder) : null,
          due: due ? dueView(due) : null,
        };
      },
    );

    app.get<{ Params: Static<typeof DeviceParams>; Querystring: { limit: number; offset: number } }>(
      '/devices/:id/calibrations',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: "A device's calibration history, newest first, with its due state",
          tags: ['calibration'],
          params: DeviceParams,
          querystring: Type.Object(PageQuery, strict),
          response: {
            200: PageOf(Calibration, { due: Type.Union([Due, Type.Null()]) }),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request) => {
        const { id } = request.params;
        if (!(await store.getDevice(id))) throw notFound(`no device "${id}"`);
        const { limit, offset } = request.query;
        const { items, total } = await store.htm.listCalibrations(id, { limit, offset });
        const due = await store.htm.calibrationDue(id, Date.now());
        return { items: items.map(calibrationView), total, limit, offset, due: due ? dueView(due) : null };
      },
    );

    app.get<{ Querystring: Static<typeof DueQuery> }>(
      '/calibrations/due',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: 'Active devices whose calibration is due within the period, or overdue (most overdue first)',
          tags: ['calibration'],
          querystring: DueQuery,
          response: {
            200: PageOf(Due, { until: Type.String({ format: 'date-time' }) }),
            400: ErrorBody,
          },
        },
      },
      async (request) => {
        const { within, limit, offset } = request.query;
        let ahead: number;
        try {
          ahead = parseDuration(within);
        } catch {
          throw badParameter('within', `"${within.slice(0, 20)}" is not a duration; use e.g. 30d, 12h or 0d`);
        }
        const now = Date.now();
        const { items, total } = await store.htm.calibrationsDue(now, now + ahead, { limit, offset });
        return { items: items.map(dueView), total, limit, offset, until: iso(now + ahead) };
      },
    );
  };
