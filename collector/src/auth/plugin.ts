import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PERMISSIONS, can, isPermission, type Permission } from './roles.js';
import { AuthError, type AuthUser } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by installAuth for every route that is not public; null on public routes and 404s. */
    user: AuthUser | null;
  }
  interface FastifyContextConfig {
    /** The permission a caller needs (see PERMISSIONS). A route with neither this nor `public` is refused. */
    permission?: Permission;
    /** Reachable without a token: health, readiness, metrics, the OpenAPI document. */
    public?: boolean;
  }
}

/** One registered route and who may call it, as the guard sees it (for tests and docs). */
export interface GuardedRoute {
  method: string;
  url: string;
  /** The permission it needs; undefined for public routes and for misdeclared ones (refused to all). */
  permission?: Permission;
  public: boolean;
}

/** What installAuth needs from a verifier (TokenVerifier, or a stand-in in tests). */
export interface Verifier {
  verify(token: string): Promise<AuthUser>;
}

const REALM = 'Bearer realm="medtel-collector"';

/**
 * Authentication and the route guard, as hooks on `app` itself rather than in
 * an encapsulated plugin, so they cover every route registered afterwards
 * (call it right after creating the instance, before registering routes).
 *
 * Fail closed: a route must declare `config: { permission }` or
 * `config: { public: true }`; one that declares neither (or an unknown
 * permission) is refused for everyone, admins included, and logged at
 * registration so the mistake is found before anyone depends on the route.
 */
export function installAuth(app: FastifyInstance, verifier: Verifier, options: { publicPrefixes?: string[] } = {}): GuardedRoute[] {
  app.decorateRequest('user', null);
  const table: GuardedRoute[] = [];

  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    // Routes a third-party plugin registers (the API docs page) cannot declare
    // our config; they are made public here, by an explicit list of prefixes.
    if (options.publicPrefixes?.some((prefix) => route.url === prefix || route.url.startsWith(`${prefix}/`))) {
      route.config = { ...(route.config as object), public: true };
    }
    const config = route.config as { permission?: unknown; public?: unknown } | undefined;
    const permission = isPermission(config?.permission) ? config.permission : undefined;
    for (const method of methods) table.push({ method, url: route.url, permission, public: config?.public === true });
    if (config?.public === true || permission !== undefined) return;
    const what = config?.permission === undefined ? 'declares no permission' : `declares unknown permission "${String(config.permission)}"`;
    app.log.warn({ route: route.url, method: route.method }, `route ${String(route.method)} ${route.url} ${what}; every request to it will be refused`);
  });

  // onRequest: refused before the body is read or parsed.
  app.addHook('onRequest', async (request, reply) => {
    // Unknown URLs reach only the 404 handler; answering 401 there would just hide the typo.
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.public === true) return;

    const header = request.headers.authorization;
    if (header === undefined) return unauthorized(reply, 'missing bearer token', false);
    const token = bearerToken(header);
    if (token === null) return unauthorized(reply, 'expected "Authorization: Bearer <token>"', false);
    try {
      request.user = await verifier.verify(token);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      request.log.info({ reason: err.reason, status: err.status, route: request.routeOptions.url }, 'request refused: token');
      if (err.status === 401) return unauthorized(reply, err.reason, true);
      if (err.status === 403) return forbidden(reply, err.reason);
      return reply.code(503).header('Retry-After', '30').send({ error: 'Service Unavailable', message: err.reason });
    }

    const permission = config.permission;
    if (!isPermission(permission)) {
      request.log.error({ route: request.routeOptions.url }, 'request refused: the route declares no valid permission');
      return forbidden(reply, 'this route declares no permission, so it is refused');
    }
    if (!can(request.user.role, permission)) {
      request.log.info({ sub: request.user.sub, role: request.user.role, permission }, 'request refused: role');
      return forbidden(reply, `needs role ${PERMISSIONS[permission]} or higher`);
    }
  });
  return table;
}

/** The caller of a guarded route; throws on a public route, where there is none. */
export function requireUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw new Error(`no authenticated user on ${request.method} ${request.routeOptions.url ?? request.url}: is the route public?`);
  return request.user;
}

/** Who to name in the audit trail for a request: the caller's sub and role. */
export function actorOf(request: FastifyRequest): Pick<AuthUser, 'sub' | 'role'> {
  const { sub, role } = requireUser(request);
  return { sub, role };
}

/** The token from `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750), or null. */
function bearerToken(header: string): string | null {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match ? match[1]! : null;
}

function unauthorized(reply: FastifyReply, message: string, invalidToken: boolean): FastifyReply {
  // RFC 6750 3.1: name the error only when a token was presented.
  const challenge = invalidToken ? `${REALM}, error="invalid_token"` : REALM;
  return reply.code(401).header('WWW-Authenticate', challenge).send({ error: 'Unauthorized', message });
}

function forbidden(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(403).send({ error: 'Forbidden', message });
}
