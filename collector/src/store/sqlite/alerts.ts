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
import type { Actor } from '../store.js';
import { selectPage, where } from './paged.js';

type Row = Record<string, unknown>;

/**
 * Alert rules and alerts in the collector's SQLite file. Changes people make
 * (rules, acknowledge, resolve) are audited inside the same transaction;
 * changes the system makes (raise, repeat, clear) are not, because nobody
 * acted and they would drown the trail.
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
      insertAlert: db.prepare(
        `INSERT INTO alerts (key, source, source_ref, rule_id, device_id, gateway, metric, value, priority, text, state, raised_at, last_seen_at, hold_off_ms)
         VALUES (@key, @source, @sourceRef, @ruleId, @deviceId, @gateway, @metric, @value, @priority, @text, 'active', @raisedAt, @raisedAt, @holdOffMs)`,
      ),
    };
  }

  async listRules(): Promise<AlertRule[]> {
    return (this.stmt.rules.all() as Row[]).map(toRule);
  }

  async getRule(id: number): Promise<AlertRule | undefined> {
    const row = this.stmt.rule.get(id) as Row | undefined;
    return row ? toRule(row) : undefined;
  }

  async createRule(input: AlertRuleInput, actor: Actor, reason?: string): Promise<AlertRule> {
    return this.db.transaction(() => {
      const at = this.now();
      const id = Number(this.stmt.insertRule.run(input.name, ruleBody(input), input.enabled ? 1 : 0, at, at).lastInsertRowid);
      const rule = toRule(this.stmt.rule.get(id) as Row);
      this.audit.append({
        ...who(actor),
        action: 'alert-rule:create',
        objectType: 'alert-rule',
        objectId: String(id),
        oldValue: null,
        newValue: input,
        reason: reason ?? null,
      });
      return rule;
    })();
  }

  async updateRule(id: number, input: AlertRuleInput, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome> {
    return this.db.transaction((): RuleWriteOutcome => {
      const row = this.stmt.rule.get(id) as Row | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const old = toRule(row);
      this.stmt.updateRule.run(input.name, ruleBody(input), input.enabled ? 1 : 0, this.now(), id);
      this.audit.append({
        ...who(actor),
        action: 'alert-rule:update',
        objectType: 'alert-rule',
        objectId: String(id),
        oldValue: inputOf(old),
        newValue: input,
        reason: reason ?? null,
      });
      return { ok: true, rule: toRule(this.stmt.rule.get(id) as Row) };
    })();
  }

  async deleteRule(id: number, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome> {
    return this.db.transaction((): RuleWriteOutcome => {
      const row = this.stmt.rule.get(id) as Row | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const old = toRule(row);
      this.stmt.deleteRule.run(id);
      this.audit.append({
        ...who(actor),
        action: 'alert-rule:delete',
        objectType: 'alert-rule',
        objectId: String(id),
        oldValue: inputOf(old),
        newValue: null,
        reason: reason ?? null,
      });
      return { ok: true, rule: old };
    })();
  }

  async openAlerts(): Promise<AlertRecord[]> {
    return (this.stmt.open.all() as Row[]).map(toAlert);
  }

  async insertAlert(alert: NewAlert): Promise<AlertRecord> {
    const id = Number(this.stmt.insertAlert.run(alert).lastInsertRowid);
    return toAlert(this.stmt.alert.get(id) as Row);
  }

  async updateAlertBySystem(id: number, patch: SystemAlertPatch): Promise<AlertRecord> {
    const columns: Record<string, string> = {
      lastSeenAt: 'last_seen_at',
      count: 'count',
      clearedAt: 'cleared_at',
      priority: 'priority',
      text: 'text',
      value: 'value',
    };
    const sets: string[] = [];
    const args: Record<string, unknown> = { id };
    for (const [field, column] of Object.entries(columns)) {
      const value = (patch as Record<string, unknown>)[field];
      if (value === undefined) continue;
      sets.push(`${column} = @${field}`);
      args[field] = value;
    }
    if (patch.resolve) {
      sets.push("state = 'resolved'", 'resolved_at = @resolvedAt', "resolved_by = 'system'", "resolved_role = 'system'", 'resolve_note = @resolveNote');
      args.resolvedAt = patch.resolve.at;
      args.resolveNote = patch.resolve.note;
    }
    if (sets.length > 0) this.db.prepare(`UPDATE alerts SET ${sets.join(', ')}, version = version + 1 WHERE id = @id`).run(args);
    return toAlert(this.stmt.alert.get(id) as Row);
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
      const before = toAlert(row);
      // Acknowledging twice or acting on a resolved alert would rewrite who did it: refused.
      if (before.state === 'resolved' || (action === 'acknowledge' && before.state !== 'active')) return { ok: false, reason: 'state', state: before.state };
      // The version and state are checked again by the UPDATE itself: with replicas another process may have
      // acted between the read above and this write, and exactly one of two concurrent actions may win.
      const changed =
        action === 'acknowledge'
          ? this.db
              .prepare(
                "UPDATE alerts SET state = 'acknowledged', ack_by = ?, ack_role = ?, ack_at = ?, ack_note = ?, version = version + 1 WHERE id = ? AND version = ? AND state = 'active'",
              )
              .run(actor.sub, actor.role, at, reason, id, expectedVersion).changes
          : this.db
              .prepare(
                "UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_role = ?, resolved_at = ?, resolve_note = ?, version = version + 1 WHERE id = ? AND version = ? AND state <> 'resolved'",
              )
              .run(actor.sub, actor.role, at, reason, id, expectedVersion).changes;
      if (changed === 0) return { ok: false, reason: 'stale', current: (this.stmt.alert.get(id) as Row).version as number };
      const after = toAlert(this.stmt.alert.get(id) as Row);
      this.audit.append({
        ...who(actor),
        action: action === 'acknowledge' ? 'alert:ack' : 'alert:resolve',
        objectType: 'alert',
        objectId: String(id),
        oldValue: { state: before.state },
        newValue: { state: after.state },
        reason,
      });
      return { ok: true, alert: after };
    })();
  }

  async listAlerts(q: AlertQuery): Promise<{ items: AlertRecord[]; total: number }> {
    const filter = where([
      // open: active or acknowledged
      ['state != ?', q.state === 'open' ? 'resolved' : undefined],
      ['state = ?', q.state === 'open' || !q.state ? undefined : q.state],
      ['device_id = ?', q.device],
      ['priority = ?', q.priority],
      ['source = ?', q.source],
    ]);
    const { rows, total } = selectPage(this.db, { from: 'alerts', where: filter, orderBy: 'raised_at DESC, id DESC', limit: q.limit, offset: q.offset });
    return { items: rows.map(toAlert), total };
  }

  async getAlert(id: number): Promise<AlertRecord | undefined> {
    const row = this.stmt.alert.get(id) as Row | undefined;
    return row ? toAlert(row) : undefined;
  }
}

const who = (actor: Actor) => ({ actor: actor.sub, role: actor.role });

export function ruleBody(input: AlertRuleInput): string {
  const { name: _name, enabled: _enabled, ...body } = input;
  return JSON.stringify(body);
}

export function inputOf(rule: AlertRule): AlertRuleInput {
  const { id: _id, version: _version, createdAt: _c, updatedAt: _u, ...input } = rule;
  return input;
}

export function toRule(r: Row): AlertRule {
  const body = JSON.parse(r.body as string) as Omit<AlertRuleInput, 'name' | 'enabled'>;
  return {
    id: r.id as number,
    name: r.name as string,
    enabled: r.enabled === 1,
    ...body,
    version: r.version as number,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

export function toAlert(r: Row): AlertRecord {
  return {
    id: r.id as number,
    key: r.key as string,
    source: r.source as AlertRecord['source'],
    sourceRef: r.source_ref as string,
    ruleId: r.rule_id as number | null,
    deviceId: r.device_id as string | null,
    gateway: r.gateway as string | null,
    metric: r.metric as string | null,
    value: r.value as number | null,
    priority: r.priority as AlertRecord['priority'],
    text: r.text as string,
    state: r.state as AlertRecord['state'],
    raisedAt: r.raised_at as number,
    lastSeenAt: r.last_seen_at as number,
    count: r.count as number,
    clearedAt: r.cleared_at as number | null,
    holdOffMs: r.hold_off_ms as number,
    ackBy: r.ack_by as string | null,
    ackRole: r.ack_role as string | null,
    ackAt: r.ack_at as number | null,
    ackNote: r.ack_note as string | null,
    resolvedAt: r.resolved_at as number | null,
    resolvedBy: r.resolved_by as string | null,
    resolvedRole: r.resolved_role as string | null,
    resolveNote: r.resolve_note as string | null,
    version: r.version as number,
  };
}
