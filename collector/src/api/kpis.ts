import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { addDays } from '../htm/calendar.js';
import type { SiteCalendar } from '../htm/pm-schedule.js';
import type { Store } from '../store/store.js';
import { badParameter } from './errors.js';
import { iso, parseTime } from './times.js';
import { ErrorBody } from './schemas.js';

const Query = Type.Object(
  {
    from: Type.Optional(Type.String({ description: 'ISO 8601 (inclusive) or epoch ms; default 30 days before `to`' })),
    to: Type.Optional(Type.String({ description: 'ISO 8601 (exclusive) or epoch ms; default now' })),
  },
  { additionalProperties: false },
);

const Pct = Type.Union([Type.Number(), Type.Null()], { description: 'percent; null when there is nothing to measure' });
const Tally = Type.Object({
  due: Type.Integer(),
  onTime: Type.Integer(),
  early: Type.Integer(),
  late: Type.Integer(),
  missed: Type.Integer(),
  onTimePercent: Pct,
});
const Hours = Type.Union([Type.Number(), Type.Null()]);

const KpiBody = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  timeZone: Type.String(),
  preventiveMaintenance: Type.Object({
    ...Tally.properties,
    incomplete: Type.Integer({ description: 'closed incomplete (unable to locate, in use, deferred); not counted in due' }),
    byRisk: Type.Object({ lifeSupport: Tally, highRisk: Tally, other: Tally }),
  }),
  repairs: Type.Object({ completed: Type.Integer(), meanTimeToRepairHours: Hours }),
  failures: Type.Object({ count: Type.Integer(), operatingHours: Type.Number(), meanTimeBetweenFailuresHours: Hours }),
  uptime: Type.Object({ devices: Type.Integer(), connectedHours: Type.Number(), knownHours: Type.Number(), percent: Pct }),
  unableToLocate: Type.Object({ workOrders: Type.Integer(), searches: Type.Integer() }),
});

/** Clinical-engineering KPIs over a period (definitions in docs/htm.md). */
export const kpiRoutes =
  (store: Store, calendar: SiteCalendar): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: Static<typeof Query> }>(
      '/kpis',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: 'On-time PM % (by risk class, life support apart), MTTR, MTBF, uptime and unable-to-locate over [from, to)',
          tags: ['kpis'],
          querystring: Query,
          response: { 200: KpiBody, 400: ErrorBody },
        },
      },
      async (request) => {
        const now = Date.now();
        const to = request.query.to === undefined ? now : parseTime('to', request.query.to);
        const from = request.query.from === undefined ? addDays(to, -30, calendar.timeZone) : parseTime('from', request.query.from);
        if (from >= to) throw badParameter('to', 'must be later than from');
        const k = await store.htm.kpis(from, to, now);
        return { ...k, from: iso(k.from), to: iso(k.to), timeZone: calendar.timeZone };
      },
    );
  };
