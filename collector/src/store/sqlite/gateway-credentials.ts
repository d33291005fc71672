import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
import type { CredentialActor, CredentialOutcome, GatewayAuthMode, GatewayCredential, GatewayCredentialStore } from '../gateway-credential-store.js';
import * as rules from '../shared/gateway-credentials.js';

/** Gateway credentials in the collector's SQLite file (rules in ../shared/gateway-credentials.ts). */
export class SqliteGatewayCredentials implements GatewayCredentialStore {
  private readonly byId;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly now: () => number = Date.now,
  ) {
    this.byId = db.prepare<[string], rules.CredentialRow>('SELECT * FROM gateway_credentials WHERE id = ?');
  }

  private row(id: string): GatewayCredential | undefined {
    const r = this.byId.get(id);
    return r ? rules.toCredential(r) : undefined;
  }

  async get(id: string): Promise<GatewayCredential | undefined> {
    return this.row(id);
  }

  async list(): Promise<GatewayCredential[]> {
    return (this.db.prepare('SELECT * FROM gateway_credentials ORDER BY id').all() as rules.CredentialRow[]).map(rules.toCredential);
  }

  /** `actor` null: not audited (the config seed; the config file is its own record). */
  private insert(input: rules.CredentialInput, actor: CredentialActor | null, action: string, reason?: string) {
    this.db.prepare(rules.INSERT_CREDENTIAL_SQL).run(...rules.insertCredentialArgs(input, this.now()));
    const credential = this.row(input.id) as GatewayCredential;
    if (actor) this.audit.append(rules.credentialAudit(action, input.id, null, credential, actor, reason));
    return credential;
  }

  async add(input: rules.CredentialInput, actor: CredentialActor, reason?: string): Promise<CredentialOutcome> {
    return this.db.transaction((): CredentialOutcome => {
      const refused = rules.addRefusal(this.row(input.id));
      if (refused) return refused;
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
      const refused = rules.changeRefusal(before, action, expectedVersion);
      if (refused || !before) return refused as CredentialOutcome;
      const update = rules.credentialUpdate(id, sets, this.now());
      this.db.prepare(update.sql).run(update.args);
      const after = this.row(id) as GatewayCredential;
      this.audit.append(rules.credentialAudit(action, id, before, after, actor, reason));
      return { ok: true, credential: after };
    })();
  }

  async rotateSecret(id: string, secretHash: string, actor: CredentialActor, reason?: string, expectedVersion?: number): Promise<CredentialOutcome> {
    const auth = rules.authWithSecret(this.row(id)?.auth);
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
        const wanted = rules.seedInput(e);
        if (!existing) {
          this.insert(wanted, null, 'gateway:provision');
          added.push(e.id);
        } else if (rules.differsFromSeed(existing, wanted)) {
          differing.push(e.id);
        }
      }
      return { added, differing };
    })();
  }
}
