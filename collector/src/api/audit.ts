import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../store/store.js';
import { ErrorBody, PageQuery } from './schemas.js';

const AuditListQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ description: 'ISO 8601 time (inclusive) or epoch milliseconds' })),
    to: Type.Optional(Type.String({ description: 'ISO 8601 time (exclusive) or epoch milliseconds' })),
    objectType: Type.Optional(Type.String({ maxLength: 64 })),
    objectId: Type.Optional(Type.String({ maxLength: 200 })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
    action: Type.Optional(Type.String({ maxLength: 64 })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

const AuditEntry = Type.Object({
  seq: Type.Integer(),
  ts: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  role: Type.String(),
  action: Type.String(),
  objectType: Type.String(),
  objectId: Type.String(),
  oldValue: Type.Unknown(),
  newValue: Type.Unknown(),
  reason: Type.Union([Type.String(), Type.Null()]),
  prevHash: Type.String(),
  hash: Type.String(),
});

const time = (v: string | undefined) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v);

/** The audit trail, for administrators and auditors; `medtel-collector audit verify` checks its chain. */
export const auditRoutes =
  (store: Store): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: Static<typeof AuditListQuery> }>(
      '/audit',
      {
        config: { permission: 'audit:read' },
        schema: {
          summary: 'Audit trail entries, newest first',
          tags: ['audit'],
          querystring: AuditListQuery,
          response: {
            200: Type.Object({ total: Type.Integer(), items: Type.Array(AuditEntry), head: Type.Object({ seq: Type.Integer(), hash: Type.String() }) }),
            400: ErrorBody,
          },
        },
      },
      async (request) => {
        const { from, to, ...rest } = request.query;
        const result = await store.audit.list({ ...rest, ...(from ? { from: time(from) } : {}), ...(to ? { to: time(to) } : {}) });
        return { ...result, head: await store.audit.head() };
      },
    );
  };
