import type pg from 'pg';
import type { CredentialActor, CredentialOutcome, GatewayAuthMode, GatewayCredential, GatewayCredentialStore } from '../gateway-credential-store.js';
import * as rules from '../shared/gateway-credentials.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, all, one, run, tx } from './pg-db.js';

/** Gateway credentials in PostgreSQL (rules in ../shared/gateway-credentials.ts). */
export class PgGatewayCredentials implements GatewayCredentialStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  private async row(db: Queryable, id: string, lock = false): Promise<GatewayCredential | undefined> {
    const r = await one<rules.CredentialRow>(db, `SELECT * FROM gateway_credentials WHERE id = ?${lock ? ' FOR UPDATE' : ''}`, [id]);
    return r ? rules.toCredential(r) : undefined;
  }

  async get(id: string): Promise<GatewayCredential | undefined> {
    return this.row(this.pool, id);
  }

  async list(): Promise<GatewayCredential[]> {
    return (await all<rules.CredentialRow>(this.pool, 'SELECT * FROM gateway_credentials ORDER BY id')).map(rules.toCredential);
  }

  /** `actor` null: not audited (the config seed). Returns undefined if the id exists (another replica seeded it first). */
  private async insert(
    c: Queryable,
    input: rules.CredentialInput,
    actor: CredentialActor | null,
    action: string,
    reason?: string,
  ): Promise<GatewayCredential | undefined> {
    const r = await one<rules.CredentialRow>(
      c,
      `${rules.INSERT_CREDENTIAL_SQL} ON CONFLICT (id) DO NOTHING RETURNING *`,
      rules.insertCredentialArgs(input, this.now()),
    );
    if (!r) return undefined;
    const credential = rules.toCredential(r);
    if (actor) await this.audit.append(c, rules.credentialAudit(action, input.id, null, credential, actor, reason));
    return credential;
  }

  async add(input: rules.CredentialInput, actor: CredentialActor, reason?: string): Promise<CredentialOutcome> {
    return tx(this.pool, async (c): Promise<CredentialOutcome> => {
      const refused = rules.addRefusal(await this.row(c, input.id));
      if (refused) return refused;
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
      const refused = rules.changeRefusal(before, action, expectedVersion);
      if (refused || !before) return refused as CredentialOutcome;
      const update = rules.credentialUpdate(id, sets(before), this.now());
      await run(c, update.sql, update.args);
      const after = (await this.row(c, id)) as GatewayCredential;
      await this.audit.append(c, rules.credentialAudit(action, id, before, after, actor, reason));
      return { ok: true, credential: after };
    });
  }

  async rotateSecret(id: string, secretHash: string, actor: CredentialActor, reason?: string, expectedVersion?: number): Promise<CredentialOutcome> {
    // The auth mode is read under the row lock: another replica may change it meanwhile.
    return this.change(id, actor, 'gateway:rotate-secret', reason, expectedVersion, (current) => ({
      secret_hash: secretHash,
      auth: rules.authWithSecret(current.auth),
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
        const wanted = rules.seedInput(e);
        const existing = await this.row(c, e.id);
        if (!existing) {
          if (await this.insert(c, wanted, null, 'gateway:provision')) added.push(e.id);
        } else if (rules.differsFromSeed(existing, wanted)) {
          differing.push(e.id);
        }
      }
      return { added, differing };
    });
  }
}
