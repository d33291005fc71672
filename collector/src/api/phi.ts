import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { PhiOpener } from '../phi/opener.js';
import type { PhiStore } from '../store/phi-store.js';
import type { Actor } from '../store/store.js';
import { HttpError, notFound } from './errors.js';
import { ErrorBody } from './schemas.js';

const strict = { additionalProperties: false } as const;
const iso = (ms: number) => new Date(ms).toISOString();

const SubjectsQuery = Type.Object(
  {
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  strict,
);
type SubjectsQuery = Static<typeof SubjectsQuery>;

const SubjectSpanView = Type.Object(
  {
    subject: Type.String(),
    device: Type.String(),
    from: Type.String(),
    to: Type.String(),
    readings: Type.Integer(),
    envelopeId: Type.Union([Type.Integer(), Type.Null()]),
  },
  strict,
);

const OpenBody = Type.Object(
  {
    envelopeId: Type.Integer({ minimum: 1 }),
    /** Why the identity is needed; kept in the audit trail. */
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  strict,
);
type OpenBody = Static<typeof OpenBody>;

const PatientView = Type.Object(
  {
    mrn: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    dob: Type.Optional(Type.String()),
    sex: Type.Optional(Type.String()),
    bed: Type.Optional(Type.String()),
  },
  strict,
);

const OpenedView = Type.Object(
  { envelopeId: Type.Integer(), device: Type.String(), subject: Type.Union([Type.String(), Type.Null()]), kid: Type.String(), patient: PatientView },
  strict,
);

/**
 * Pseudonymous subjects (any reader of telemetry) and opening a sealed record
 * (clinician, reason required, audited). Opening works only on a collector
 * given the keyring (docs/phi.md: who holds keys).
 */
export const phiRoutes =
  (store: PhiStore, opener: PhiOpener): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: SubjectsQuery }>(
      '/subjects',
      {
        config: { permission: 'telemetry:read' },
        schema: {
          summary: 'Which pseudonymous patient each device served and when (no identities), newest first',
          tags: ['phi'],
          querystring: SubjectsQuery,
          response: { 200: Type.Object({ items: Type.Array(SubjectSpanView) }, strict), 400: ErrorBody },
        },
      },
      async (request) => {
        const q = request.query;
        const spans = await store.subjects({ limit: q.limit, ...(q.device ? { deviceId: q.device } : {}), ...(q.subject ? { subject: q.subject } : {}) });
        return {
          items: spans.map((s) => ({
            subject: s.subject,
            device: s.deviceId,
            from: iso(s.from),
            to: iso(s.to),
            readings: s.readings,
            envelopeId: s.envelopeId,
          })),
        };
      },
    );

    app.post<{ Body: OpenBody }>(
      '/phi/open',
      {
        config: { permission: 'phi:open' },
        schema: {
          summary: 'Open a sealed patient record (clinician; a reason is required; every attempt is audited)',
          tags: ['phi'],
          body: OpenBody,
          response: { 200: OpenedView, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
        },
      },
      async (request, reply) => {
        const { envelopeId, reason } = request.body;
        const result = await opener.open(envelopeId, request.user as Actor, reason);
        if (result.ok) {
          // Nothing between here and the caller may keep it: no caching, no log of the body.
          reply.header('cache-control', 'no-store');
          const e = result.envelope;
          return { envelopeId: e.id, device: e.deviceId, subject: e.subject, kid: e.envelope.kid, patient: result.record };
        }
        if (result.kind === 'failed') throw new HttpError(422, result.code, result.message);
        if (result.kind === 'not_found') throw notFound(result.message);
        if (result.kind === 'no_reason') throw new HttpError(400, 'Bad Request', result.message, 'reason');
        throw new HttpError(409, 'Conflict', result.message);
      },
    );
  };
