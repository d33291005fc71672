import type pg from 'pg';
import type { CredentialActor, CredentialOutcome, GatewayAuthMode, GatewayCredential, GatewayCredentialStore } from '../gateway-credential-store.js';
import { type CredentialRow, audited, toCredential } from '../sqlite/gateway-credentials.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, all, one, run, tx } from './pg-db.js';

/** Gateway credentials in PostgreSQL (as ../sqlite/gateway-credentials.ts). */
export class PgGatewayCredentials implements GatewayCredentialStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  private async row(db: Queryable, id: string, lock = false): Promise<GatewayCredential | undefined> {
    const r = await one<CredentialRow>(db, `SELECT * FROM gateway_credentials WHERE id = ?${lock ? ' FOR UPDATE' : ''}`, [id]);
    return r ? toCredential(r) : undefined;
  }

  async get(id: string): Promise<GatewayCredential | undefined> {
    return this.row(this.pool, id);
  }

  async list(): Promise<GatewayCredential[]> {
    return (await all<CredentialRow>(this.pool, 'SELECT * FROM gateway_credentials ORDER BY id')).map(toCredential);
  }

  /** `actor` null: not audited (the config seed). Returns undefined if the id exists (another replica seeded it first). */
  private async insert(
    c: Queryable,
    input: { id: string; site?: string | null; auth: GatewayAuthMode; secretHash: string | null },
    actor: CredentialActor | null,
    action: string,
    reason?: string,
  ): Promise<GatewayCredential | undefined> {
    const at = this.now();
    const r = await one<CredentialRow>(
      c,
      'INSERT INTO gateway_credentials (id, site, auth, secret_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING *',
      [input.id, input.site ?? null, input.auth, input.secretHash, at, at],
    );
    if (!r) return undefined;
    const credential = toCredential(r);
    if (actor)
      await this.audit.append(c, {
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
    return tx(this.pool, async (c): Promise<CredentialOutcome> => {
      const existing = await this.row(c, input.id);
      if (existing) return existing.revokedAt ? { ok: false, reason: 'revoked' } : { ok: false, reason: 'exists' };
      const credential = await this.insert(c, input, actor, 'gateway:provision', reason);
      return credential ? { ok: true, credential } : { ok: false, reason: 'exists' };
    });
  }

  private async change(
    id: string,
    actor: CredentialActor,
    action: string,
    reason: string | undefined,
    expectedVersion: number | undefined,
    sets: (before: GatewayCredential) => Record<string, unknown>,
  ): Promise<CredentialOutcome> {
    return tx(this.pool, async (c): Promise<CredentialOutcome> => {
      const before = await this.row(c, id, true);
      if (!before) return { ok: false, reason: 'not_found' };
      if (before.revokedAt) return action === 'gateway:revoke' ? { ok: true, credential: before } : { ok: false, reason: 'revoked' };
      if (expectedVersion !== undefined && expectedVersion !== before.version) return { ok: false, reason: 'stale', current: before.version };
      const values = sets(before);
      const columns = Object.keys(values).map((col) => `${col} = @${col}`);
      await run(c, `UPDATE gateway_credentials SET ${columns.join(', ')}, updated_at = @at, version = version + 1 WHERE id = @id`, {
        ...values,
        at: this.now(),
        id,
      });
      const after = (await this.row(c, id)) as GatewayCredential;
      await this.audit.append(c, {
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
    });
  }

  async rotateSecret(id: string, secretHash: string, actor: CredentialActor, reason?: string, expectedVersion?: number): Promise<CredentialOutcome> {
    // A certificate-only gateway given a secret must then present both.
    return this.change(id, actor, 'gateway:rotate-secret', reason, expectedVersion, (current) => ({
      secret_hash: secretHash,
      auth: current.auth === 'certificate' ? 'both' : current.auth,
    }));
  }

  async revoke(id: string, actor: CredentialActor, reason?: string, expectedVersion?: number): Promise<CredentialOutcome> {
    return this.change(id, actor, 'gateway:revoke', reason, expectedVersion, () => ({ revoked_at: this.now() }));
  }

  async seed(entries: Array<{ id: string; site?: string; auth?: GatewayAuthMode; secretHash?: string }>): Promise<{ added: string[]; differing: string[] }> {
    return tx(this.pool, async (c) => {
      const added: string[] = [];
      const differing: string[] = [];
      for (const e of entries) {
        const wanted = { id: e.id, site: e.site ?? null, auth: e.auth ?? 'secret', secretHash: e.secretHash ?? null };
        const existing = await this.row(c, e.id);
        if (!existing) {
          if (await this.insert(c, wanted, null, 'gateway:provision')) added.push(e.id);
        } else if (existing.site !== wanted.site || existing.auth !== wanted.auth || existing.secretHash !== wanted.secretHash || existing.revokedAt) {
          differing.push(e.id);
        }
      }
      return { added, differing };
    });
  }
}
