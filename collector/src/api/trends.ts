import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../store/store.js';
import { badParameter, notFound } from './errors.js';
import { DeviceParams, ErrorBody } from './schemas.js';
import { iso, parseTime } from './times.js';

const strict = { additionalProperties: false } as const;
const HOUR_MS = 3_600_000;
/** Longest range one request may aggregate: a year of readings is still one index range scan per series. */
const MAX_RANGE_MS = 366 * 24 * HOUR_MS;

const TrendQuery = Type.Object(
  {
    metric: Type.String({ minLength: 1, maxLength: 64, description: "the profile's metric id, e.g. line_pressure" }),
    from: Type.Optional(Type.String({ description: 'ISO 8601 time (inclusive) or epoch milliseconds; default: one hour before `to`' })),
    to: Type.Optional(Type.String({ description: 'ISO 8601 time (exclusive) or epoch milliseconds; default: now' })),
    points: Type.Integer({ minimum: 1, maximum: 2000, default: 300, description: 'how many time buckets [from, to) is cut into' }),
  },
  strict,
);
type TrendQuery = Static<typeof TrendQuery>;

const Trend = Type.Object({
  device: Type.String(),
  metric: Type.String(),
  unit: Type.Union([Type.String(), Type.Null()]),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  bucketMs: Type.Integer(),
  buckets: Type.Array(
    Type.Object({
      t: Type.String({ format: 'date-time', description: 'start of the bucket' }),
      min: Type.Number(),
      max: Type.Number(),
      avg: Type.Number(),
      count: Type.Integer(),
    }),
    { description: 'oldest first; buckets without numeric readings are left out' },
  ),
});

/**
 * GET /devices/{id}/trend: a metric's readings as min/max/avg per time bucket,
 * computed in the store, for charts over an hour or a day (the dashboard).
 */
export const trendRoutes =
  (store: Store): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: DeviceParams; Querystring: TrendQuery }>(
      '/devices/:id/trend',
      {
        config: { permission: 'telemetry:read' },
        schema: {
          summary: "A metric's readings downsampled server-side: min, max and average per time bucket (charts)",
          tags: ['telemetry'],
          params: DeviceParams,
          querystring: TrendQuery,
          response: { 200: Trend, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const { id } = request.params;
        const q = request.query;
        const to = q.to === undefined ? Date.now() : parseTime('to', q.to);
        const from = q.from === undefined ? to - HOUR_MS : parseTime('from', q.from);
        if (from >= to) throw badParameter('to', 'must be later than from');
        if (to - from > MAX_RANGE_MS) throw badParameter('from', 'the range may span at most 366 days');
        if (!(await store.getDevice(id))) throw notFound(`no device "${id}"; ids look like gateway.device (GET /api/v1/devices lists them)`);
        const trend = await store.trends.trend(id, { metric: q.metric, from, to, buckets: q.points });
        return {
          device: id,
          metric: q.metric,
          unit: trend.unit,
          from: iso(from),
          to: iso(to),
          bucketMs: trend.bucketMs,
          buckets: trend.buckets.map((b) => ({ ...b, t: iso(b.t) })),
        };
      },
    );
  };
