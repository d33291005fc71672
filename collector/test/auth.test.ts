import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, UnsecuredJWT, decodeJwt, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  PERMISSIONS,
  ROLES,
  TokenVerifier,
  installAuth,
  issueToken,
  loadOrCreateSigningKey,
  permissionsTableMarkdown,
  roleAtLeast,
  type OidcOptions,
  type Permission,
  type Role,
} from '../dist/auth/index.js';
import { tempDir } from '../../test/helpers.js';

const dir = tempDir();
afterAll(() => dir.remove());

let key: Uint8Array;
beforeAll(async () => {
  key = await loadOrCreateSigningKey(join(dir.path, 'keys', 'jwt.key'));
});

/** The reason a verification fails with, or 'ok'. */
async function reasonOf(verifier: TokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).message).not.toContain(token);
    return `${(err as AuthError).status} ${(err as AuthError).reason}`;
  }
}

const routeOf = (p: Permission) => `/p/${p.replace(':', '-')}`;

/** A small app with one route per permission, a public one and one that forgot to declare a permission. */
async function testApp(verifier: TokenVerifier, log?: { text: string }): Promise<FastifyInstance> {
  const stream = new Writable({
    write(chunk, _enc, cb) {
      if (log) log.text += chunk.toString();
      cb();
    },
  });
  const app = Fastify({ logger: { level: 'info', stream } });
  installAuth(app, verifier);
  for (const permission of Object.keys(PERMISSIONS) as Permission[]) {
    app.get(routeOf(permission), { config: { permission } }, async (request) => ({ user: request.user }));
  }
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
  app.get('/forgotten', async () => ({ leaked: true }));
  await app.ready();
  return app;
}

describe('signing key file', () => {
  it('is created with mode 0600 and read back unchanged', async () => {
    const path = join(dir.path, 'keys', 'jwt.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(await loadOrCreateSigningKey(path))).toEqual(Buffer.from(key));
    expect(key.length).toBeGreaterThanOrEqual(32);
  });

  it('is refused when group or others can read it, saying to chmod 600', async () => {
    const path = join(dir.path, 'loose.key');
    await loadOrCreateSigningKey(path);
    chmodSync(path, 0o644);
    await expect(loadOrCreateSigningKey(path)).rejects.toThrow(`chmod 600 ${path}`);
    chmodSync(path, 0o600);
    await expect(loadOrCreateSigningKey(path)).resolves.toHaveLength(32);
  });

  it('is refused when it does not hold a key', async () => {
    const path = join(dir.path, 'short.key');
    writeFileSync(path, 'abc\n', { mode: 0o600 });
    await expect(loadOrCreateSigningKey(path)).rejects.toThrow(/not a valid key/);
    expect(readFileSync(path, 'utf8')).toBe('abc\n'); // never overwritten: that would invalidate every token
  });
});

describe('local tokens', () => {
  it('round-trip: issue, then verify to the same subject and role', async () => {
    const token = await issueToken(key, { sub: 'alice', role: 'technician', ttl: '8h' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: 'medtel-collector', sub: 'alice', role: 'technician' });
    expect(claims.exp! - claims.iat!).toBe(8 * 3600);
    expect(typeof claims.jti).toBe('string');
    expect(await new TokenVerifier({ localKey: key }).verify(token)).toEqual({ sub: 'alice', role: 'technician', issuer: 'medtel-collector' });
  });

  it('refuses bad issue options with a readable message', async () => {
    await expect(issueToken(key, { sub: 'alice', role: 'root' as Role, ttl: '8h' })).rejects.toThrow('not one of viewer, technician, clinician, admin');
    await expect(issueToken(key, { sub: 'alice', role: 'admin', ttl: '8 hours' })).rejects.toThrow('use e.g. 30m, 8h or 7d');
    await expect(issueToken(key, { sub: 'alice', role: 'admin', ttl: '365d' })).rejects.toThrow('between 1m and 30d');
    await expect(issueToken(key, { sub: '', role: 'admin', ttl: '8h' })).rejects.toThrow('sub must be');
  });

  it('refuses expired, foreign, unsigned, endless and malformed tokens with a short reason', async () => {
    const verifier = new TokenVerifier({ localKey: key });
    const otherKey = await loadOrCreateSigningKey(join(dir.path, 'other.key'));
    const now = Math.floor(Date.now() / 1000);
    const expired = await issueToken(key, { sub: 'alice', role: 'admin', ttl: '1h', now: new Date(Date.now() - 2 * 3600_000) });
    const foreign = await issueToken(otherKey, { sub: 'alice', role: 'admin', ttl: '1h' });
    const unsigned = new UnsecuredJWT({ role: 'admin' }).setIssuer('medtel-collector').setSubject('mallory').setIssuedAt().setExpirationTime('1h').encode();
    const endless = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('medtel-collector')
      .setSubject('x')
      .setIssuedAt(now)
      .sign(key);
    const badRole = await new SignJWT({ role: 'root' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('medtel-collector')
      .setSubject('x')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
    const otherIssuer = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('evil')
      .setSubject('x')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
    expect(await reasonOf(verifier, expired)).toBe('401 token expired');
    expect(await reasonOf(verifier, foreign)).toBe('401 bad signature');
    expect(await reasonOf(verifier, unsigned)).toBe('401 algorithm not allowed');
    expect(await reasonOf(verifier, endless)).toBe('401 missing or invalid claim "exp"');
    expect(await reasonOf(verifier, badRole)).toBe('401 malformed token');
    expect(await reasonOf(verifier, otherIssuer)).toBe('401 wrong issuer');
    expect(await reasonOf(verifier, 'not.a.jwt')).toBe('401 malformed token');
    expect(await reasonOf(verifier, 'x'.repeat(10_000))).toBe('401 malformed token');
    // Without a local key, local tokens are not accepted at all.
    expect(await reasonOf(new TokenVerifier({}), await issueToken(key, { sub: 'a', role: 'admin', ttl: '1h' }))).toBe('401 wrong issuer');
  });
});

describe('route guard', () => {
  let app: FastifyInstance;
  const log = { text: '' };
  const tokens = {} as Record<Role, string>;
  beforeAll(async () => {
    app = await testApp(new TokenVerifier({ localKey: key }), log);
    for (const role of ROLES) tokens[role] = await issueToken(key, { sub: `user-${role}`, role, ttl: '1h' });
  });
  afterAll(() => app.close());
  const get = (url: string, token?: string) => app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('gives every role exactly what the permission table says', async () => {
    const cases = ROLES.flatMap((role) => (Object.keys(PERMISSIONS) as Permission[]).map((permission) => ({ role, permission })));
    expect(cases.length).toBeGreaterThanOrEqual(52);
    for (const { role, permission } of cases) {
      const res = await get(routeOf(permission), tokens[role]);
      const min = PERMISSIONS[permission];
      if (roleAtLeast(role, min)) {
        expect([role, permission, res.statusCode]).toEqual([role, permission, 200]);
        expect(res.json().user).toEqual({ sub: `user-${role}`, role, issuer: 'medtel-collector' });
      } else {
        expect([role, permission, res.statusCode]).toEqual([role, permission, 403]);
        expect(res.json()).toEqual({ error: 'Forbidden', message: `needs role ${min} or higher` });
      }
    }
  });

  it('answers 401 with WWW-Authenticate: Bearer without a valid token, never echoing it', async () => {
    const expired = await issueToken(key, { sub: 'alice', role: 'admin', ttl: '1h', now: new Date(Date.now() - 2 * 3600_000) });
    for (const [headers, message] of [
      [{}, 'missing bearer token'],
      [{ authorization: 'Basic YWxpY2U6c2VjcmV0' }, 'expected "Authorization: Bearer <token>"'],
      [{ authorization: `Bearer ${expired}` }, 'token expired'],
      [{ authorization: 'Bearer abc.def.ghi' }, 'malformed token'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: routeOf('registry:read'), headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="medtel-collector"/);
      expect(res.json()).toEqual({ error: 'Unauthorized', message });
    }
    expect((await get(routeOf('registry:read'), expired)).body).not.toContain(expired);
    expect(log.text).not.toContain(expired);
  });

  it('refuses a route that declares no permission, even to admins, and warns when it is registered', async () => {
    const res = await get('/forgotten', tokens.admin);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'Forbidden', message: 'this route declares no permission, so it is refused' });
    expect((await get('/forgotten')).statusCode).toBe(401);
    expect(log.text).toContain('route GET /forgotten declares no permission; every request to it will be refused');
  });

  it('lets public routes and unknown URLs through without a token', async () => {
    expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get('/nothing-here')).statusCode).toBe(404);
  });

  it('renders the permission table as Markdown from the same data', () => {
    const table = permissionsTableMarkdown();
    expect(table.split('\n')[0]).toBe('| permission | allows | minimum role | viewer | technician | clinician | admin |');
    expect(table).toContain('| `phi:open` | read protected health information (every read is audited) | clinician | - | - | yes | yes |');
    expect(table.trim().split('\n')).toHaveLength(2 + Object.keys(PERMISSIONS).length);
  });
});

describe('OIDC tokens', () => {
  let server: Server;
  let issuer: string;
  let jwksUrl: string;
  let privateKey: CryptoKey;
  let strangerKey: CryptoKey;
  let oidc: OidcOptions;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    strangerKey = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
    // A real HTTP server on loopback standing in for the hospital's identity provider.
    server = createServer((req, res) => {
      if (req.url === '/realms/hospital/certs') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/hospital`;
    issuer = base;
    jwksUrl = `${base}/certs`;
    oidc = { issuer, jwksUrl, audience: 'medtel', roleClaim: 'realm_access.roles' };
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const idpToken = (claims: Record<string, unknown>, options: { aud?: string; kid?: string; signer?: CryptoKey } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'idp-1' })
      .setIssuer(issuer)
      .setAudience(options.aud ?? 'medtel')
      .setSubject('f3a1c2-alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(options.signer ?? privateKey);

  it('accepts a token from the identity provider and maps the role claim (highest role wins)', async () => {
    const verifier = new TokenVerifier({ localKey: key, oidc });
    const token = await idpToken({ realm_access: { roles: ['offline_access', 'viewer', 'technician'] } });
    expect(await verifier.verify(token)).toEqual({ sub: 'f3a1c2-alice', role: 'technician', issuer });
    const app = await testApp(verifier);
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.inject({ method: 'GET', url: routeOf('calibration:write'), headers })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: routeOf('audit:read'), headers })).json()).toEqual({
      error: 'Forbidden',
      message: 'needs role admin or higher',
    });
    // Local tokens keep working next to OIDC.
    const local = await issueToken(key, { sub: 'svc', role: 'viewer', ttl: '1h' });
    expect((await app.inject({ method: 'GET', url: routeOf('registry:read'), headers: { authorization: `Bearer ${local}` } })).statusCode).toBe(200);
    await app.close();
  });

  it('maps IdP group names through roleMap', async () => {
    const verifier = new TokenVerifier({ oidc: { ...oidc, roleClaim: 'groups', roleMap: { 'biomed-staff': 'technician', 'biomed-leads': 'admin' } } });
    expect((await verifier.verify(await idpToken({ groups: ['biomed-leads', 'all-staff'] }))).role).toBe('admin');
    expect(await reasonOf(verifier, await idpToken({ groups: ['admin'] }))).toBe('403 no medtel role in claim "groups"');
  });

  it('refuses a wrong audience, a missing or unknown role, and keys the IdP does not publish', async () => {
    const verifier = new TokenVerifier({ oidc });
    const roles = { realm_access: { roles: ['admin'] } };
    expect(await reasonOf(verifier, await idpToken(roles, { aud: 'another-app' }))).toBe('401 wrong audience');
    expect(await reasonOf(verifier, await idpToken({}))).toBe('403 no medtel role in claim "realm_access.roles"');
    expect(await reasonOf(verifier, await idpToken({ realm_access: { roles: ['superuser'] } }))).toBe('403 no medtel role in claim "realm_access.roles"');
    expect(await reasonOf(verifier, await idpToken(roles, { signer: strangerKey }))).toBe('401 bad signature');
    expect(await reasonOf(verifier, await idpToken(roles, { kid: 'idp-2', signer: strangerKey }))).toBe('401 unknown signing key');
    // An HS256 token claiming to come from the IdP, signed with something public, is not considered.
    const hs = await new SignJWT(roles)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience('medtel')
      .setSubject('m')
      .setExpirationTime('5m')
      .sign(key);
    expect(await reasonOf(verifier, hs)).toBe('401 algorithm not allowed');
  });

  it('answers 503 when the identity provider cannot be reached, and refuses plain-HTTP key URLs', async () => {
    const verifier = new TokenVerifier({ oidc: { ...oidc, jwksUrl: `${jwksUrl}-moved` } });
    expect(await reasonOf(verifier, await idpToken({ realm_access: { roles: ['admin'] } }))).toBe('503 identity provider keys unavailable');
    expect(() => new TokenVerifier({ oidc: { ...oidc, jwksUrl: 'http://idp.hospital.example/certs' } })).toThrow('must use https');
  });
});
