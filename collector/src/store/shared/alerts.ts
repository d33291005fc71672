import type { AuditInput } from '../../audit/types.js';
import type { AlertActionOutcome, AlertQuery, AlertRecord, AlertRule, AlertRuleInput, SystemAlertPatch } from '../alert-store.js';
import type { Actor } from '../store.js';

/**
 * What both alert store backends share apart from their driver calls: the
 * statements (plain SQL both dialects accept), which people's actions are
 * allowed, the audit entries, and the row mapping. Changes people make
 * (rules, acknowledge, resolve) are audited; changes the system makes
 * (raise, repeat, clear) are not, because nobody acted and they would drown the trail.
 */

type Row = Record<string, unknown>;

export const INSERT_ALERT_SQL = `INSERT INTO alerts (key, source, source_ref, rule_id, device_id, gateway, metric, value, priority, text, state, raised_at, last_seen_at, hold_off_ms)
  VALUES (@key, @source, @sourceRef, @ruleId, @deviceId, @gateway, @metric, @value, @priority, @text, 'active', @raisedAt, @raisedAt, @holdOffMs)`;

/**
 * The UPDATE of a person's acknowledge or resolve, arguments (sub, role, at, note, id, expectedVersion).
 * The version and state are checked again by the UPDATE itself: with replicas another process may have
 * acted between the read and this write, and exactly one of two concurrent actions may win.
 */
export function actOnAlertSql(action: 'acknowledge' | 'resolve'): string {
  return action === 'acknowledge'
    ? "UPDATE alerts SET state = 'acknowledged', ack_by = ?, ack_role = ?, ack_at = ?, ack_note = ?, version = version + 1 WHERE id = ? AND version = ? AND state = 'active'"
    : "UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_role = ?, resolved_at = ?, resolve_note = ?, version = version + 1 WHERE id = ? AND version = ? AND state <> 'resolved'";
}

/** Acknowledging twice or acting on a resolved alert would rewrite who did it: refused. */
export function refusedAction(before: AlertRecord, action: 'acknowledge' | 'resolve'): AlertActionOutcome | undefined {
  if (before.state === 'resolved' || (action === 'acknowledge' && before.state !== 'active')) return { ok: false, reason: 'state', state: before.state };
  return undefined;
}

/** `SET` assignments and `@name` arguments of a change the system makes to an alert; no sets when nothing changes. */
export function systemPatch(id: number, patch: SystemAlertPatch): { sets: string[]; args: Record<string, unknown> } {
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
  return { sets, args };
}

/** `[condition, value]` pairs for `where()` over `alerts`. */
export function alertFilters(q: AlertQuery): Array<[string, unknown]> {
  return [
    // open: active or acknowledged
    ['state <> ?', q.state === 'open' ? 'resolved' : undefined],
    ['state = ?', q.state === 'open' || !q.state ? undefined : q.state],
    ['device_id = ?', q.device],
    ['priority = ?', q.priority],
    ['source = ?', q.source],
  ];
}

/** The audit entry of a rule created, updated or deleted (old and new as rule inputs). */
export function ruleAudit(
  action: 'create' | 'update' | 'delete',
  id: number,
  old: AlertRule | null,
  input: AlertRuleInput | null,
  actor: Actor,
  reason?: string,
): AuditInput {
  return {
    actor: actor.sub,
    role: actor.role,
    action: `alert-rule:${action}`,
    objectType: 'alert-rule',
    objectId: String(id),
    oldValue: old ? inputOf(old) : null,
    newValue: input,
    reason: reason ?? null,
  };
}

export function alertActionAudit(action: 'acknowledge' | 'resolve', before: AlertRecord, after: AlertRecord, actor: Actor, reason: string): AuditInput {
  return {
    actor: actor.sub,
    role: actor.role,
    action: action === 'acknowledge' ? 'alert:ack' : 'alert:resolve',
    objectType: 'alert',
    objectId: String(after.id),
    oldValue: { state: before.state },
    newValue: { state: after.state },
    reason,
  };
}

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
