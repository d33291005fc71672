import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ID_PATTERN } from '@medtel/shared';
import { generateSecret, hashSecret } from '../secrets.js';
import type { CredentialOutcome, GatewayCredential } from '../store/gateway-credential-store.js';
import type { Store } from '../store/store.js';
import { actorOf } from '../auth/index.js';
import { HttpError, notFound } from './errors.js';
import { etag, optionalVersion } from './http-conditions.js';
import { ErrorBody } from './schemas.js';

const strict = { additionalProperties: false } as const;
const Reason = Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'recorded in the audit trail' }));
const Credential = Type.Object(
  {
    id: Type.String(),
    site: Type.Union([Type.String(), Type.Null()]),
    auth: Type.Union([Type.Literal('secret'), Type.Literal('certificate'), Type.Literal('both')]),
    state: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    version: Type.Integer(),
  },
  strict,
);
const WithSecret = Type.Object(
  { gateway: Credential, secret: Type.Optional(Type.String({ description: 'shown once; only its scrypt hash is stored' })) },
  strict,
);
const AddBody = Type.Object(
  {
    id: Type.String({ pattern: ID_PATTERN, description: 'the gateway id (its MQTT user name and certificate name)' }),
    site: Type.Optional(Type.String({ pattern: ID_PATTERN })),
    auth: Type.Optional(Type.Union([Type.Literal('secret'), Type.Literal('certificate'), Type.Literal('both')], { default: 'secret' })),
    reason: Reason,
  },
  strict,
);
const ChangeBody = Type.Object({ reason: Reason }, strict);
const Params = Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }, strict);

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const view = (c: GatewayCredential) => ({
  id: c.id,
  site: c.site,
  auth: c.auth,
  state: c.revokedAt ? ('revoked' as const) : ('active' as const),
  createdAt: iso(c.createdAt) as string,
  updatedAt: iso(c.updatedAt) as string,
  revokedAt: iso(c.revokedAt),
  version: c.version,
});

/** If-Match is optional here (unlike PATCH /devices): rotating or revoking is not an edit that could overwrite another's. */
/** Options of a route that changes one gateway's credential (rotate, revoke): admin only, audited, optional If-Match. */
const changeRoute = (summary: string) => ({
  config: { permission: 'gateways:manage' as const },
  schema: { summary, tags: ['gateways'], params: Params, body: ChangeBody, response: { 200: WithSecret, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody } },
});

function outcomeError(id: string, outcome: CredentialOutcome & { ok: false }): HttpError {
  switch (outcome.reason) {
    case 'not_found':
      return notFound(`no gateway credential "${id}"`);
    case 'exists':
      return new HttpError(409, 'Conflict', `gateway "${id}" already exists; rotate its secret instead`);
    case 'revoked':
      return new HttpError(409, 'Conflict', `gateway "${id}" is revoked; a revoked id is not reused`);
    case 'stale':
      return new HttpError(409, 'Conflict', `gateway "${id}" was changed meanwhile (now version ${outcome.current})`);
  }
}

/**
 * Gateway provisioning for admins (permission gateways:manage), beside the
 * registry's GET /gateways (what gateways reported, registry:read). Every
 * change is audited in the same transaction; a secret is returned once.
 * Revocation and rotation end the gateway's live MQTT sessions before the
 * response is sent.
 */
export const gatewayProvisioningRoutes =
  (store: Store, sessions: { recheck: () => Promise<number> }): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/gateways/credentials',
      {
        config: { permission: 'gateways:manage' },
        schema: {
          summary: 'List gateway credentials (never the secrets)',
          tags: ['gateways'],
          response: { 200: Type.Object({ items: Type.Array(Credential) }, strict) },
        },
      },
      async () => ({ items: (await store.gatewayCredentials.list()).map(view) }),
    );

    app.get<{ Params: Static<typeof Params> }>(
      '/gateways/:id/credential',
      {
        config: { permission: 'gateways:manage' },
        schema: { summary: "One gateway's credential (ETag: its version)", tags: ['gateways'], params: Params, response: { 200: Credential, 404: ErrorBody } },
      },
      async (request, reply) => {
        const c = await store.gatewayCredentials.get(request.params.id);
        if (!c) throw notFound(`no gateway credential "${request.params.id}"`);
        reply.header('etag', `"${c.version}"`);
        return view(c);
      },
    );

    app.post<{ Body: Static<typeof AddBody> }>(
      '/gateways',
      {
        config: { permission: 'gateways:manage' },
        schema: {
          summary: 'Provision a gateway; the response carries its secret, shown once (unless auth is certificate); audited',
          tags: ['gateways'],
          body: AddBody,
          response: { 201: WithSecret, 400: ErrorBody, 409: ErrorBody },
        },
      },
      async (request, reply) => {
        const { id, site, reason } = request.body;
        const auth = request.body.auth ?? 'secret';
        const secret = auth === 'certificate' ? undefined : generateSecret();
        const outcome = await store.gatewayCredentials.add(
          { id, site: site ?? null, auth, secretHash: secret ? await hashSecret(secret) : null },
          actorOf(request),
          reason,
        );
        if (!outcome.ok) throw outcomeError(id, outcome);
        reply.code(201).header('etag', etag(outcome.credential.version)).header('cache-control', 'no-store');
        return { gateway: view(outcome.credential), ...(secret ? { secret } : {}) };
      },
    );

    app.post<{ Params: Static<typeof Params>; Body: Static<typeof ChangeBody> }>(
      '/gateways/:id/rotate-secret',
      changeRoute("Replace a gateway's secret (shown once); its live sessions are closed; audited; optional If-Match"),
      async (request, reply) => {
        const expected = optionalVersion(request);
        const secret = generateSecret();
        const outcome = await store.gatewayCredentials.rotateSecret(
          request.params.id,
          await hashSecret(secret),
          actorOf(request),
          request.body?.reason,
          expected,
        );
        if (!outcome.ok) throw outcomeError(request.params.id, outcome);
        await sessions.recheck();
        reply.header('etag', etag(outcome.credential.version)).header('cache-control', 'no-store');
        return { gateway: view(outcome.credential), secret };
      },
    );

    app.post<{ Params: Static<typeof Params>; Body: Static<typeof ChangeBody> }>(
      '/gateways/:id/revoke',
      changeRoute('Revoke a gateway for good: its live sessions are closed at once and it is refused from now on; audited; optional If-Match'),
      async (request, reply) => {
        const expected = optionalVersion(request);
        const outcome = await store.gatewayCredentials.revoke(request.params.id, actorOf(request), request.body?.reason, expected);
        if (!outcome.ok) throw outcomeError(request.params.id, outcome);
        await sessions.recheck();
        reply.header('etag', etag(outcome.credential.version));
        return { gateway: view(outcome.credential) };
      },
    );
  };
