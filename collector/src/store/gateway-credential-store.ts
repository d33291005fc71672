import type { AuditRole } from '../audit/types.js';

/**
 * Which gateways may connect to the broker and how they prove it. Kept apart
 * from the `gateways` registry (what a gateway reported about itself): a
 * credential exists before the gateway ever connects and outlives it when
 * revoked. Secrets are stored only as scrypt hashes.
 */
export type GatewayAuthMode = 'secret' | 'certificate' | 'both';

export interface GatewayCredential {
  id: string;
  /** If set, the gateway may only publish under this site. */
  site: string | null;
  auth: GatewayAuthMode;
  secretHash: string | null;
  createdAt: number;
  updatedAt: number;
  /** Set once revoked; a revoked gateway is refused and cannot be re-enabled under the same id. */
  revokedAt: number | null;
  /** Increases with every change; the broker ends sessions authenticated under an older version. */
  version: number;
}

export interface CredentialActor {
  sub: string;
  role: AuditRole;
}

export type CredentialOutcome =
  | { ok: true; credential: GatewayCredential }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'exists' }
  | { ok: false; reason: 'revoked' }
  | { ok: false; reason: 'stale'; current: number };

export interface GatewayCredentialStore {
  get(id: string): Promise<GatewayCredential | undefined>;
  list(): Promise<GatewayCredential[]>;
  /** Audited (gateway:provision). */
  add(
    input: { id: string; site?: string | null; auth: GatewayAuthMode; secretHash: string | null },
    actor: CredentialActor,
    reason?: string,
  ): Promise<CredentialOutcome>;
  /** Replaces the secret hash (and may change the auth mode); audited (gateway:rotate-secret); `expectedVersion` as If-Match. */
  rotateSecret(id: string, secretHash: string, actor: CredentialActor, reason?: string, expectedVersion?: number): Promise<CredentialOutcome>;
  /** Audited (gateway:revoke). Revoking twice is not an error (the outcome names the first revocation). */
  revoke(id: string, actor: CredentialActor, reason?: string, expectedVersion?: number): Promise<CredentialOutcome>;
  /**
   * The config's `gateways:` list: entries not yet in the store are added
   * (not audited: the audit trail records changes made through the API and
   * CLI; the config file is its own record, and the collector logs what it
   * added); entries already there are left as the store has
   * them. Returns the ids added and the ids whose config entry differs from
   * the store (the store wins).
   */
  seed(entries: Array<{ id: string; site?: string; auth?: GatewayAuthMode; secretHash?: string }>): Promise<{ added: string[]; differing: string[] }>;
}
