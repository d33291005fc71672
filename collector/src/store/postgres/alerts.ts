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
import { inputOf, ruleBody, toAlert, toRule } from '../sqlite/alerts.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Row, all, one, run, tx } from './pg-db.js';
import { selectPage, where } from './paged.js';

const who = (actor: Actor) => ({ actor: actor.sub, role: actor.role });

/** Alert rules and alerts in PostgreSQL (rules as ../sqlite/alerts.ts); people's changes audited in their transaction. */
export class PgAlertStore implements AlertStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  async listRules(): Promise<AlertRule[]> {
    return (await all(this.pool, 'SELECT * FROM alert_rules ORDER BY id')).map(toRule);
  }

  async getRule(id: number): Promise<AlertRule | undefined> {
    const row = await one(this.pool, 'SELECT * FROM alert_rules WHERE id = ?', [id]);
    return row ? toRule(row) : undefined;
  }

  async createRule(input: AlertRuleInput, actor: Actor, reason?: string): Promise<AlertRule> {
    return tx(this.pool, async (c) => {
      const at = this.now();
      const row = (await one(c, 'INSERT INTO alert_rules (name, body, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *', [
        input.name,
        ruleBody(input),
        input.enabled ? 1 : 0,
        at,
        at,
      ])) as Row;
      const rule = toRule(row);
      await this.audit.append(c, {
        ...who(actor),
        action: 'alert-rule:create',
        objectType: 'alert-rule',
        objectId: String(rule.id),
        oldValue: null,
        newValue: input,
        reason: reason ?? null,
      });
      return rule;
    });
  }

  async updateRule(id: number, input: AlertRuleInput, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome> {
    return tx(this.pool, async (c): Promise<RuleWriteOutcome> => {
      const row = await one(c, 'SELECT * FROM alert_rules WHERE id = ? FOR UPDATE', [id]);
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const old = toRule(row);
      const updated = (await one(c, 'UPDATE alert_rules SET name = ?, body = ?, enabled = ?, updated_at = ?, version = version + 1 WHERE id = ? RETURNING *', [
        input.name,
        ruleBody(input),
        input.enabled ? 1 : 0,
        this.now(),
        id,
      ])) as Row;
      await this.audit.append(c, {
        ...who(actor),
        action: 'alert-rule:update',
        objectType: 'alert-rule',
        objectId: String(id),
        oldValue: inputOf(old),
        newValue: input,
        reason: reason ?? null,
      });
      return { ok: true, rule: toRule(updated) };
    });
  }

  async deleteRule(id: number, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome> {
    return tx(this.pool, async (c): Promise<RuleWriteOutcome> => {
      const row = await one(c, 'SELECT * FROM alert_rules WHERE id = ? FOR UPDATE', [id]);
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.version !== expectedVersion) return { ok: false, reason: 'stale', current: row.version as number };
      const old = toRule(row);
      await run(c, 'DELETE FROM alert_rules WHERE id = ?', [id]);
      await this.audit.append(c, {
        ...who(actor),
        action: 'alert-rule:delete',
        objectType: 'alert-rule',
        objectId: String(id),
        oldValue: inputOf(old),
        newValue: null,
        reason: reason ?? null,
      });
      return { ok: true, rule: old };
    });
  }

  async openAlerts(): Promise<AlertRecord[]> {
    return (await all(this.pool, "SELECT * FROM alerts WHERE state <> 'resolved' ORDER BY id")).map(toAlert);
  }

  async insertAlert(alert: NewAlert): Promise<AlertRecord> {
    const row = await one(
      this.pool,
      `INSERT INTO alerts (key, source, source_ref, rule_id, device_id, gateway, metric, value, priority, text, state, raised_at, last_seen_at, hold_off_ms)
       VALUES (@key, @source, @sourceRef, @ruleId, @deviceId, @gateway, @metric, @value, @priority, @text, 'active', @raisedAt, @raisedAt, @holdOffMs) RETURNING *`,
      alert as unknown as Record<string, unknown>,
    );
    return toAlert(row as Row);
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
    if (sets.length > 0) await run(this.pool, `UPDATE alerts SET ${sets.join(', ')}, version = version + 1 WHERE id = @id`, args);
    return toAlert((await one(this.pool, 'SELECT * FROM alerts WHERE id = ?', [id])) as Row);
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
      const before = toAlert(row);
      if (before.state === 'resolved' || (action === 'acknowledge' && before.state !== 'active')) return { ok: false, reason: 'state', state: before.state };
      // FOR UPDATE above makes a concurrent action on another replica wait and then see the new version;
      // the UPDATE checks version and state again all the same, so exactly one of two can ever win.
      const sql =
        action === 'acknowledge'
          ? "UPDATE alerts SET state = 'acknowledged', ack_by = ?, ack_role = ?, ack_at = ?, ack_note = ?, version = version + 1 WHERE id = ? AND version = ? AND state = 'active' RETURNING *"
          : "UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_role = ?, resolved_at = ?, resolve_note = ?, version = version + 1 WHERE id = ? AND version = ? AND state <> 'resolved' RETURNING *";
      const updated = await one(c, sql, [actor.sub, actor.role, at, reason, id, expectedVersion]);
      if (!updated) return { ok: false, reason: 'stale', current: before.version };
      const after = toAlert(updated);
      await this.audit.append(c, {
        ...who(actor),
        action: action === 'acknowledge' ? 'alert:ack' : 'alert:resolve',
        objectType: 'alert',
        objectId: String(id),
        oldValue: { state: before.state },
        newValue: { state: after.state },
        reason,
      });
      return { ok: true, alert: after };
    });
  }

  async listAlerts(q: AlertQuery): Promise<{ items: AlertRecord[]; total: number }> {
    const filter = where([
      ['state <> ?', q.state === 'open' ? 'resolved' : undefined],
      ['state = ?', q.state === 'open' || !q.state ? undefined : q.state],
      ['device_id = ?', q.device],
      ['priority = ?', q.priority],
      ['source = ?', q.source],
    ]);
    const { rows, total } = await selectPage(this.pool, {
      from: 'alerts',
      where: filter,
      orderBy: 'raised_at DESC, id DESC',
      limit: q.limit,
      offset: q.offset,
    });
    return { items: rows.map(toAlert), total };
  }

  async getAlert(id: number): Promise<AlertRecord | undefined> {
    const row = await one(this.pool, 'SELECT * FROM alerts WHERE id = ?', [id]);
    return row ? toAlert(row) : undefined;
  }
}
