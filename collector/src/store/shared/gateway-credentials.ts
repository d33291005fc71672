import type { AuditInput } from '../../audit/types.js';
import type { CredentialActor, CredentialOutcome, GatewayAuthMode, GatewayCredential } from '../gateway-credential-store.js';

/**
 * Gateway credential rules both backends apply apart from their SQL: which
 * changes a credential's state allows, what giving a secret does to its auth
 * mode, when the config seed differs, the audit entries (never the hash) and
 * the row mapping.
 */

export interface CredentialRow {
  id: string;
  site: string | null;
  auth: GatewayAuthMode;
  secret_hash: string | null;
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
  version: number;
}

/** A credential as given when provisioning or seeding. */
export interface CredentialInput {
  id: string;
  site?: string | null;
  auth: GatewayAuthMode;
  secretHash: string | null;
}

export const toCredential = (r: CredentialRow): GatewayCredential => ({
  id: r.id,
  site: r.site,
  auth: r.auth,
  secretHash: r.secret_hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  revokedAt: r.revoked_at,
  version: r.version,
});

/** What the audit trail shows of a credential: never the hash, only whether there is one. */
export const audited = (c: GatewayCredential) => ({ site: c.site, auth: c.auth, hasSecret: c.secretHash !== null, revokedAt: c.revokedAt, version: c.version });

export const INSERT_CREDENTIAL_SQL = 'INSERT INTO gateway_credentials (id, site, auth, secret_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)';

export function insertCredentialArgs(input: CredentialInput, at: number): unknown[] {
  return [input.id, input.site ?? null, input.auth, input.secretHash, at, at];
}

/** Provisioning an id that exists is refused, differently if it was revoked (ids are not reused). */
export function addRefusal(existing: GatewayCredential | undefined): CredentialOutcome | undefined {
  if (!existing) return undefined;
  return existing.revokedAt ? { ok: false, reason: 'revoked' } : { ok: false, reason: 'exists' };
}

/** Why a change to `before` is not made (revoking twice is a no-op success), or undefined to go ahead. */
export function changeRefusal(before: GatewayCredential | undefined, action: string, expectedVersion: number | undefined): CredentialOutcome | undefined {
  if (!before) return { ok: false, reason: 'not_found' };
  if (before.revokedAt) return action === 'gateway:revoke' ? { ok: true, credential: before } : { ok: false, reason: 'revoked' };
  if (expectedVersion !== undefined && expectedVersion !== before.version) return { ok: false, reason: 'stale', current: before.version };
  return undefined;
}

/** The UPDATE of a change and its named arguments. */
export function credentialUpdate(id: string, sets: Record<string, unknown>, at: number): { sql: string; args: Record<string, unknown> } {
  const columns = Object.keys(sets).map((c) => `${c} = @${c}`);
  return {
    sql: `UPDATE gateway_credentials SET ${columns.join(', ')}, updated_at = @at, version = version + 1 WHERE id = @id`,
    args: { ...sets, at, id },
  };
}

/** A certificate-only gateway given a secret must then present both (a secret never weakens it to secret-only). */
export function authWithSecret(current: GatewayAuthMode | undefined): GatewayAuthMode {
  return current === 'certificate' ? 'both' : (current ?? 'secret');
}

export function credentialAudit(
  action: string,
  id: string,
  before: GatewayCredential | null,
  after: GatewayCredential,
  actor: CredentialActor,
  reason?: string,
): AuditInput {
  return {
    actor: actor.sub,
    role: actor.role,
    action,
    objectType: 'gateway',
    objectId: id,
    oldValue: before ? audited(before) : null,
    newValue: audited(after),
    reason: reason ?? null,
  };
}

/** The config seed's entry as a credential input (secret auth unless given). */
export function seedInput(e: { id: string; site?: string; auth?: GatewayAuthMode; secretHash?: string }): CredentialInput & { site: string | null } {
  return { id: e.id, site: e.site ?? null, auth: e.auth ?? 'secret', secretHash: e.secretHash ?? null };
}

/** The stored credential is not what the config says (the config does not overwrite it; the caller warns). */
export function differsFromSeed(existing: GatewayCredential, wanted: ReturnType<typeof seedInput>): boolean {
  return Boolean(existing.site !== wanted.site || existing.auth !== wanted.auth || existing.secretHash !== wanted.secretHash || existing.revokedAt);
}
