import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SignJWT, createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ROLES, isRole, type Role } from './roles.js';

/** `iss` of the tokens this collector signs itself (`medtel-collector token issue`). */
export const LOCAL_ISSUER = 'medtel-collector';
/** Local tokens cannot be revoked one by one (only by replacing the key), so their lifetime is capped. */
export const MAX_TTL_SECONDS = 30 * 24 * 3600;
const MIN_TTL_SECONDS = 60;
const KEY_BYTES = 32; // 256 bits: the HS256 key should be at least as long as the hash output
const MAX_TOKEN_CHARS = 8192; // a header larger than this is not a token we issued or would accept
// Only asymmetric algorithms for OIDC: an HS* token "from the IdP" would be checked against a public key.
const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Who made a request, as established from a verified token. */
export interface AuthUser {
  sub: string;
  role: Role;
  /** `medtel-collector` for local tokens, else the OIDC issuer URL: the same `sub` from two issuers is two people. */
  issuer: string;
}

/**
 * A token was refused. `reason` is short and safe to show a client
 * (it never contains the token). 401: not authenticated; 403: authenticated
 * but the identity provider gave no medtel role; 503: the identity provider's
 * keys could not be fetched.
 */
export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'AuthError';
  }
}

/** A problem with the signing key file; the message says what to do. */
export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

/**
 * Loads the HS256 signing key from `path`, creating it (random, mode 0600,
 * parent directories 0700) if missing. A key file that group or others can
 * access is refused: anyone who can read it can mint admin tokens.
 */
export async function loadOrCreateSigningKey(path: string): Promise<Uint8Array> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx' fails if the file exists, so two processes starting together cannot overwrite each other's key.
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(`${randomBytes(KEY_BYTES).toString('base64url')}\n`);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyFileError(`cannot create signing key ${path}: ${(err as Error).message}`);
  }
  return readSigningKey(path);
}

/** Reads an existing key file, refusing one with loose permissions. */
export async function readSigningKey(path: string): Promise<Uint8Array> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    throw new KeyFileError(`cannot read signing key ${path}: ${(err as Error).message}`);
  }
  if (!info.isFile()) throw new KeyFileError(`signing key ${path} is not a regular file`);
  // Windows has no POSIX mode bits; there the file's ACL is the administrator's business.
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new KeyFileError(`signing key ${path} is accessible by group or others (mode ${mode}); run: chmod 600 ${path}`);
  }
  const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  if (key.length < KEY_BYTES) {
    throw new KeyFileError(
      `signing key ${path} is not a valid key (needs ${KEY_BYTES} random bytes, base64url); remove it to create a new one (this invalidates every issued token)`,
    );
  }
  return new Uint8Array(key);
}

const UNIT_SECONDS = { '': 1, s: 1, m: 60, h: 3600, d: 86400 } as const;

/** '90s', '30m', '8h', '7d' or a number of seconds -> seconds, within 1 minute .. 30 days. */
export function parseTtl(ttl: string | number): number {
  let seconds = Number.NaN;
  if (typeof ttl === 'number') seconds = ttl;
  else {
    const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(ttl);
    if (match) seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  }
  if (!Number.isInteger(seconds)) throw new RangeError(`ttl "${ttl}" is not a duration; use e.g. 30m, 8h or 7d`);
  if (seconds < MIN_TTL_SECONDS || seconds > MAX_TTL_SECONDS) throw new RangeError(`ttl "${ttl}" must be between 1m and ${MAX_TTL_SECONDS / 86400}d`);
  return seconds;
}

export interface IssueOptions {
  sub: string;
  role: Role;
  /** See parseTtl. */
  ttl: string | number;
  /** Issue time; tests set it, everything else leaves it. */
  now?: Date;
}

/** Signs a local token (HS256, iss `medtel-collector`, with a random jti so audit entries can name it). */
export async function issueToken(key: Uint8Array, options: IssueOptions): Promise<string> {
  const { sub, role } = options;
  if (typeof sub !== 'string' || !/^[^\p{Cc}]{1,128}$/u.test(sub) || sub.trim() !== sub) {
    throw new RangeError('sub must be 1-128 characters, without control characters or surrounding spaces');
  }
  if (!isRole(role)) throw new RangeError(`role "${String(role)}" is not one of ${ROLES.join(', ')}`);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(LOCAL_ISSUER)
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + parseTtl(options.ttl))
    .setJti(randomUUID())
    .sign(key);
}

/** A hospital's single sign-on. */
export interface OidcOptions {
  /** Exactly the `iss` its tokens carry. */
  issuer: string;
  /** Its JSON Web Key Set (https; http only on loopback). */
  jwksUrl: string;
  /** The `aud` this collector is registered as. */
  audience: string | string[];
  /** Claim holding the role (a string or an array), default `role`. Dots walk into objects, e.g. `realm_access.roles`. */
  roleClaim?: string;
  /** IdP group/role names -> medtel roles. Without it, the claim must hold medtel role names. */
  roleMap?: Record<string, Role>;
}

export interface TokenVerifierOptions {
  /** The local HS256 key; without it, local tokens are refused. */
  localKey?: Uint8Array | null;
  oidc?: OidcOptions | null;
  /** Accepted clock skew for exp/nbf/iat, default 30 s. */
  clockToleranceSeconds?: number;
}

/** Verifies local tokens and, when configured, OIDC tokens. */
export class TokenVerifier {
  private readonly localKey: Uint8Array | null;
  private readonly oidc: (OidcOptions & { roleClaim: string; keys: JWTVerifyGetKey }) | null;
  private readonly clockTolerance: number;

  constructor(options: TokenVerifierOptions) {
    this.localKey = options.localKey ?? null;
    this.clockTolerance = options.clockToleranceSeconds ?? 30;
    const oidc = options.oidc;
    if (!oidc) {
      this.oidc = null;
      return;
    }
    if (oidc.issuer === LOCAL_ISSUER) throw new RangeError(`oidc.issuer must not be "${LOCAL_ISSUER}", which names this collector's own tokens`);
    let url: URL;
    try {
      url = new URL(oidc.jwksUrl);
    } catch {
      throw new RangeError(`oidc.jwksUrl "${oidc.jwksUrl}" is not a URL`);
    }
    // Keys fetched over plain HTTP could be swapped by anyone on the path, who could then forge admin tokens.
    const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new RangeError(`oidc.jwksUrl must use https (got ${url.protocol})`);
    for (const [name, role] of Object.entries(oidc.roleMap ?? {})) {
      if (!isRole(role)) throw new RangeError(`oidc.roleMap.${name}: "${String(role)}" is not one of ${ROLES.join(', ')}`);
    }
    this.oidc = { ...oidc, roleClaim: oidc.roleClaim ?? 'role', keys: createRemoteJWKSet(url, { timeoutDuration: 5000 }) };
  }

  /** The user a token names, or an AuthError saying why not. */
  async verify(token: string): Promise<AuthUser> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) throw new AuthError(401, 'malformed token');
    let remote = false;
    try {
      // Unverified, only to pick the key: jwtVerify then insists on this same issuer.
      const { iss } = decodeJwt(token);
      if (iss === LOCAL_ISSUER && this.localKey) {
        const { payload } = await jwtVerify(token, this.localKey, {
          issuer: LOCAL_ISSUER,
          algorithms: ['HS256'],
          requiredClaims: ['sub', 'exp', 'iat'],
          clockTolerance: this.clockTolerance,
        });
        if (!isRole(payload['role'])) throw new AuthError(401, 'malformed token');
        return { sub: subject(payload), role: payload['role'], issuer: LOCAL_ISSUER };
      }
      if (this.oidc && iss === this.oidc.issuer) {
        remote = true;
        const { payload } = await jwtVerify(token, this.oidc.keys, {
          issuer: this.oidc.issuer,
          audience: this.oidc.audience,
          algorithms: OIDC_ALGORITHMS,
          requiredClaims: ['sub', 'exp'],
          clockTolerance: this.clockTolerance,
        });
        return { sub: subject(payload), role: this.oidcRole(payload), issuer: this.oidc.issuer };
      }
      throw new AuthError(401, 'wrong issuer');
    } catch (err) {
      throw mapError(err, remote);
    }
  }

  private oidcRole(payload: JWTPayload): Role {
    const { roleClaim, roleMap } = this.oidc!;
    const raw = claimAt(payload, roleClaim);
    const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
    const roles = values.map((v) => (roleMap ? roleMap[v] : isRole(v) ? v : undefined)).filter((r): r is Role => r !== undefined);
    // A person in several groups gets the highest of their roles, as a group-based IdP expects.
    const best = roles.sort((a, b) => ROLES.indexOf(b) - ROLES.indexOf(a))[0];
    if (!best) throw new AuthError(403, `no medtel role in claim "${roleClaim}"`);
    return best;
  }
}

function subject(payload: JWTPayload): string {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new AuthError(401, 'malformed token');
  return payload.sub;
}

/** A claim by name; a name with dots that is not itself a claim walks into nested objects. */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Maps jose's errors to short reasons; jose's own messages are not passed on.
 * Any other error is a fault: while fetching the IdP's keys that means the IdP
 * is unreachable (503), otherwise it is ours and goes up unchanged (500).
 */
function mapError(err: unknown, remote: boolean): Error {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return new AuthError(401, 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const byClaim: Record<string, string> = { iss: 'wrong issuer', aud: 'wrong audience', nbf: 'token not yet valid', iat: 'token issued in the future' };
    return new AuthError(401, byClaim[err.claim] ?? `missing or invalid claim "${err.claim}"`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError(401, 'bad signature');
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return new AuthError(401, 'unknown signing key');
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError(401, 'algorithm not allowed');
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return new AuthError(503, 'identity provider keys unavailable');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported || err instanceof errors.JWKInvalid) {
    return new AuthError(401, 'malformed token');
  }
  // jose reports a JWKS endpoint answering non-200 as a plain JOSEError; fetch failures are not JOSE errors at all.
  if (remote && (!(err instanceof errors.JOSEError) || err.code === 'ERR_JOSE_GENERIC')) return new AuthError(503, 'identity provider keys unavailable');
  return err instanceof errors.JOSEError ? new AuthError(401, 'invalid token') : (err as Error);
}
