import type Database from 'better-sqlite3';
import type { AuditLog } from '../../audit/audit-log.js';
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
import { selectPage, where } from './paged.js';

type Row = Record<string, unknown>;

/**
 * Alert rules and alerts in the collector's SQLite file (rules, audit entries
 * and row mapping in ../shared/alerts.ts). Changes people make are audited
 * inside the same transaction.
 */
export class SqliteAlertStore implements AlertStore {
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly now: () => number = Date.now,
  ) {
    this.stmt = {
      rules: db.prepare('SELECT * FROM alert_rules ORDER BY id'),
      rule: db.prepare('SELECT * FROM alert_rules WHERE id = ?'),
      insertRule: db.prepare('INSERT INTO alert_rules (name, body, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
      updateRule: db.prepare('UPDATE alert_rules SET name = ?, body = ?, enabled = ?, updated_at = ?, version = version + 1 WHERE id = ?'),
      deleteRule: db.prepare('DELETE FROM alert_rules WHERE id = ?'),
      open: db.prepare("SELECT * FROM alerts WHERE state != 'resolved' ORDER BY id"),
      alert: db.prepare('SELECT * FROM alerts WHERE id = ?'),
      insertAlert: db.prepare(rules.INSERT_ALERT_SQL),
    };
  }

  async listRules(): Promise<AlertRule[]> {
    return (this.stmt.rules.all() as Row[]).map(rules.toRule);
  }

  async getRule(id: number): Promise<AlertRule | undefined> {
    const row = this.stmt.rule.get(id) as Row | undefined;
    return row ? rules.toRule(row) : undefined;
  }

  async createRule(input: AlertRuleInput, actor: Actor, reason?: string): Promise<AlertRule> {
    return this.db.transaction(() => {
      const at = this.now();
      const id = Number(this.stmt.insertRule.run(input.name, rules.ruleBody(input), input.enabled ? 1 : 0, at, at).lastInsertRowid);
      const rule = rules.toRule(this.stmt.rule.get(id) as Row);
      this.audit.append(rules.ruleAudit('create', id, null, input, actor, reason));
      return rule;
    })();
  }

  async updateRule(id: number, input: AlertRuleInput, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome> {
    return this.db.transaction((): RuleWriteOutcome => {
      const row = this.stmt.rule.get(id) as Row | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const old = rules.toRule(row);
      this.stmt.updateRule.run(input.name, rules.ruleBody(input), input.enabled ? 1 : 0, this.now(), id);
      this.audit.append(rules.ruleAudit('update', id, old, input, actor, reason));
      return { ok: true, rule: rules.toRule(this.stmt.rule.get(id) as Row) };
    })();
  }

  async deleteRule(id: number, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome> {
    return this.db.transaction((): RuleWriteOutcome => {
      const row = this.stmt.rule.get(id) as Row | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const old = rules.toRule(row);
      this.stmt.deleteRule.run(id);
      this.audit.append(rules.ruleAudit('delete', id, old, null, actor, reason));
      return { ok: true, rule: old };
    })();
  }

  async openAlerts(): Promise<AlertRecord[]> {
    return (this.stmt.open.all() as Row[]).map(rules.toAlert);
  }

  async insertAlert(alert: NewAlert): Promise<AlertRecord> {
    const id = Number(this.stmt.insertAlert.run(alert).lastInsertRowid);
    return rules.toAlert(this.stmt.alert.get(id) as Row);
  }

  async updateAlertBySystem(id: number, patch: SystemAlertPatch): Promise<AlertRecord> {
    const { sets, args } = rules.systemPatch(id, patch);
    if (sets.length > 0) this.db.prepare(`UPDATE alerts SET ${sets.join(', ')}, version = version + 1 WHERE id = @id`).run(args);
    return rules.toAlert(this.stmt.alert.get(id) as Row);
  }

  async actOnAlert(
    id: number,
    action: 'acknowledge' | 'resolve',
    expectedVersion: number,
    actor: Actor,
    reason: string,
    at: number,
  ): Promise<AlertActionOutcome> {
    return this.db.transaction((): AlertActionOutcome => {
      const row = this.stmt.alert.get(id) as Row | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const before = rules.toAlert(row);
      const refused = rules.refusedAction(before, action);
      if (refused) return refused;
      const changed = this.db.prepare(rules.actOnAlertSql(action)).run(actor.sub, actor.role, at, reason, id, expectedVersion).changes;
      if (changed === 0) return { ok: false, reason: 'stale', current: (this.stmt.alert.get(id) as Row).version as number };
      const after = rules.toAlert(this.stmt.alert.get(id) as Row);
      this.audit.append(rules.alertActionAudit(action, before, after, actor, reason));
      return { ok: true, alert: after };
    })();
  }

  async listAlerts(q: AlertQuery): Promise<{ items: AlertRecord[]; total: number }> {
    const filter = where(rules.alertFilters(q));
    const { rows, total } = selectPage(this.db, { from: 'alerts', where: filter, orderBy: 'raised_at DESC, id DESC', limit: q.limit, offset: q.offset });
    return { items: rows.map(rules.toAlert), total };
  }

  async getAlert(id: number): Promise<AlertRecord | undefined> {
    const row = this.stmt.alert.get(id) as Row | undefined;
    return row ? rules.toAlert(row) : undefined;
  }
}
