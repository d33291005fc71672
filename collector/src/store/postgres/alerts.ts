import type pg from 'pg';
import type {
  AlertActionOutcome,
  AlertQuery,
  AlertRecord,
  AlertRule,
  AlertRuleInput,
  AlertStore,
  NewAlert,
  RuleWriteOutcome,
  SystemAlertPatch,
} from '../alert-store.js';
import * as rules from '../shared/alerts.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Row, all, one, run, tx } from './pg-db.js';
import { selectPage, where } from './paged.js';

/** Alert rules and alerts in PostgreSQL (rules in ../shared/alerts.ts); people's changes audited in their transaction. */
export class PgAlertStore implements AlertStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  async listRules(): Promise<AlertRule[]> {
    return (await all(this.pool, 'SELECT * FROM alert_rules ORDER BY id')).map(rules.toRule);
  }

  async getRule(id: number): Promise<AlertRule | undefined> {
    const row = await one(this.pool, 'SELECT * FROM alert_rules WHERE id = ?', [id]);
    return row ? rules.toRule(row) : undefined;
  }

  async createRule(input: AlertRuleInput, actor: Actor, reason?: string): Promise<AlertRule> {
    return tx(this.pool, async (c) => {
      const at = this.now();
      const row = (await one(c, 'INSERT INTO alert_rules (name, body, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *', [
        input.name,
        rules.ruleBody(input),
        input.enabled ? 1 : 0,
        at,
        at,
      ])) as Row;
      const rule = rules.toRule(row);
      await this.audit.append(c, rules.ruleAudit('create', rule.id, null, input, actor, reason));
      return rule;
    });
  }

  async updateRule(id: number, input: AlertRuleInput, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome> {
    return tx(this.pool, async (c): Promise<RuleWriteOutcome> => {
      const row = await one(c, 'SELECT * FROM alert_rules WHERE id = ? FOR UPDATE', [id]);
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const old = rules.toRule(row);
      const updated = (await one(c, 'UPDATE alert_rules SET name = ?, body = ?, enabled = ?, updated_at = ?, version = version + 1 WHERE id = ? RETURNING *', [
        input.name,
        rules.ruleBody(input),
        input.enabled ? 1 : 0,
        this.now(),
        id,
      ])) as Row;
      await this.audit.append(c, rules.ruleAudit('update', id, old, input, actor, reason));
      return { ok: true, rule: rules.toRule(updated) };
    });
  }

  async deleteRule(id: number, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome> {
    return tx(this.pool, async (c): Promise<RuleWriteOutcome> => {
      const row = await one(c, 'SELECT * FROM alert_rules WHERE id = ? FOR UPDATE', [id]);
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const old = rules.toRule(row);
      await run(c, 'DELETE FROM alert_rules WHERE id = ?', [id]);
      await this.audit.append(c, rules.ruleAudit('delete', id, old, null, actor, reason));
      return { ok: true, rule: old };
    });
  }

  async openAlerts(): Promise<AlertRecord[]> {
    return (await all(this.pool, "SELECT * FROM alerts WHERE state <> 'resolved' ORDER BY id")).map(rules.toAlert);
  }

  async insertAlert(alert: NewAlert): Promise<AlertRecord> {
    const row = await one(this.pool, `${rules.INSERT_ALERT_SQL} RETURNING *`, alert as unknown as Record<string, unknown>);
    return rules.toAlert(row as Row);
  }

  async updateAlertBySystem(id: number, patch: SystemAlertPatch): Promise<AlertRecord> {
    const { sets, args } = rules.systemPatch(id, patch);
    if (sets.length > 0) await run(this.pool, `UPDATE alerts SET ${sets.join(', ')}, version = version + 1 WHERE id = @id`, args);
    return rules.toAlert((await one(this.pool, 'SELECT * FROM alerts WHERE id = ?', [id])) as Row);
  }

  async actOnAlert(
    id: number,
    action: 'acknowledge' | 'resolve',
    expectedVersion: number,
    actor: Actor,
    reason: string,
    at: number,
  ): Promise<AlertActionOutcome> {
    return tx(this.pool, async (c): Promise<AlertActionOutcome> => {
      const row = await one(c, 'SELECT * FROM alerts WHERE id = ? FOR UPDATE', [id]);
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const before = rules.toAlert(row);
      const refused = rules.refusedAction(before, action);
      if (refused) return refused;
      // FOR UPDATE above makes a concurrent action on another replica wait and then see the new version;
      // the UPDATE checks version and state again all the same, so exactly one of two can ever win.
      const sql = `${rules.actOnAlertSql(action)} RETURNING *`;
      const updated = await one(c, sql, [actor.sub, actor.role, at, reason, id, expectedVersion]);
      if (!updated) return { ok: false, reason: 'stale', current: before.version };
      const after = rules.toAlert(updated);
      await this.audit.append(c, rules.alertActionAudit(action, before, after, actor, reason));
      return { ok: true, alert: after };
    });
  }

  async listAlerts(q: AlertQuery): Promise<{ items: AlertRecord[]; total: number }> {
    const filter = where(rules.alertFilters(q));
    const { rows, total } = await selectPage(this.pool, {
      from: 'alerts',
      where: filter,
      orderBy: 'raised_at DESC, id DESC',
      limit: q.limit,
      offset: q.offset,
    });
    return { items: rows.map(rules.toAlert), total };
  }

  async getAlert(id: number): Promise<AlertRecord | undefined> {
    const row = await one(this.pool, 'SELECT * FROM alerts WHERE id = ?', [id]);
    return row ? rules.toAlert(row) : undefined;
  }
}
