import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import type { CredentialActor, CredentialOutcome, GatewayAuthMode, GatewayCredential, GatewayCredentialStore } from '../gateway-credential-store.js';

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

export class SqliteGatewayCredentials implements GatewayCredentialStore {
  private readonly byId;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly now: () => number = Date.now,
  ) {
    this.byId = db.prepare<[string], CredentialRow>('SELECT * FROM gateway_credentials WHERE id = ?');
  }

  private row(id: string): GatewayCredential | undefined {
    const r = this.byId.get(id);
    return r ? toCredential(r) : undefined;
  }

  async get(id: string): Promise<GatewayCredential | undefined> {
    return this.row(id);
  }

  async list(): Promise<GatewayCredential[]> {
    return (this.db.prepare('SELECT * FROM gateway_credentials ORDER BY id').all() as CredentialRow[]).map(toCredential);
  }

  /** `actor` null: not audited (the config seed; the config file is its own record). */
  private insert(
    input: { id: string; site?: string | null; auth: GatewayAuthMode; secretHash: string | null },
    actor: CredentialActor | null,
    action: string,
    reason?: string,
  ) {
    const at = this.now();
    this.db
      .prepare('INSERT INTO gateway_credentials (id, site, auth, secret_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(input.id, input.site ?? null, input.auth, input.secretHash, at, at);
    const credential = this.row(input.id) as GatewayCredential;
    if (actor)
      this.audit.append({
        actor: actor.sub,
        role: actor.role,
        action,
        objectType: 'gateway',
        objectId: input.id,
        oldValue: null,
        newValue: audited(credential),
        reason: reason ?? null,
      });
    return credential;
  }

  async add(
    input: { id: string; site?: string | null; auth: GatewayAuthMode; secretHash: string | null },
    actor: CredentialActor,
    reason?: string,
  ): Promise<CredentialOutcome> {
    return this.db.transaction((): CredentialOutcome => {
      const existing = this.row(input.id);
      if (existing) return existing.revokedAt ? { ok: false, reason: 'revoked' } : { ok: false, reason: 'exists' };
      return { ok: true, credential: this.insert(input, actor, 'gateway:provision', reason) };
    })();
  }

  private change(
    id: string,
    actor: CredentialActor,
    action: string,
    reason: string | undefined,
    expectedVersion: number | undefined,
    sets: Record<string, unknown>,
  ): CredentialOutcome {
    return this.db.transaction((): CredentialOutcome => {
      const before = this.row(id);
      if (!before) return { ok: false, reason: 'not_found' };
      if (before.revokedAt) return action === 'gateway:revoke' ? { ok: true, credential: before } : { ok: false, reason: 'revoked' };
      if (expectedVersion !== undefined && expectedVersion !== before.version) return { ok: false, reason: 'stale', current: before.version };
      const columns = Object.keys(sets).map((c) => `${c} = @${c}`);
      this.db
        .prepare(`UPDATE gateway_credentials SET ${columns.join(', ')}, updated_at = @at, version = version + 1 WHERE id = @id`)
        .run({ ...sets, at: this.now(), id });
      const after = this.row(id) as GatewayCredential;
      this.audit.append({
        actor: actor.sub,
        role: actor.role,
        action,
        objectType: 'gateway',
        objectId: id,
        oldValue: audited(before),
        newValue: audited(after),
        reason: reason ?? null,
      });
      return { ok: true, credential: after };
    })();
  }

  async rotateSecret(id: string, secretHash: string, actor: CredentialActor, reason?: string, expectedVersion?: number): Promise<CredentialOutcome> {
    const current = this.row(id);
    // A certificate-only gateway given a secret must then present both (a secret never weakens it to secret-only).
    const auth = current?.auth === 'certificate' ? 'both' : (current?.auth ?? 'secret');
    return this.change(id, actor, 'gateway:rotate-secret', reason, expectedVersion, { secret_hash: secretHash, auth });
  }

  async revoke(id: string, actor: CredentialActor, reason?: string, expectedVersion?: number): Promise<CredentialOutcome> {
    return this.change(id, actor, 'gateway:revoke', reason, expectedVersion, { revoked_at: this.now() });
  }

  async seed(entries: Array<{ id: string; site?: string; auth?: GatewayAuthMode; secretHash?: string }>): Promise<{ added: string[]; differing: string[] }> {
    return this.db.transaction(() => {
      const added: string[] = [];
      const differing: string[] = [];
      for (const e of entries) {
        const existing = this.row(e.id);
        const wanted = { id: e.id, site: e.site ?? null, auth: e.auth ?? 'secret', secretHash: e.secretHash ?? null };
        if (!existing) {
          this.insert(wanted, null, 'gateway:provision');
          added.push(e.id);
        } else if (existing.site !== wanted.site || existing.auth !== wanted.auth || existing.secretHash !== wanted.secretHash || existing.revokedAt) {
          differing.push(e.id);
        }
      }
      return { added, differing };
    })();
  }
}
