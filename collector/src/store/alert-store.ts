import type { Actor } from './store.js';

/**
 * Storage for alert rules and alerts, behind its own interface so a
 * PostgreSQL backend can implement it. The alert service keeps the open
 * alerts in memory and writes through this; the API reads lists from it.
 */

export type AlertPriority = 'high' | 'medium' | 'low';
export type AlertState = 'active' | 'acknowledged' | 'resolved';
/** Where an alert came from (also the `source` label of the alert metrics). */
export type AlertSource = 'rule' | 'device-alarm' | 'connectivity' | 'external';

/** Which devices a rule watches: all of a type, all of a model, or one device. */
export type RuleScope = { type: string } | { model: string } | { device: string };

export type RuleCondition =
  | { kind: 'above' | 'below'; limit: number; sustainedSeconds?: number }
  | {
      kind: 'rate';
      direction: 'rising' | 'falling';
      /** Change per `per`, e.g. 0.5 with per "h" = 0.5 units per hour. */
      limit: number;
      /** Default "h". */
      per?: 's' | 'min' | 'h';
      windowSeconds: number;
      sustainedSeconds?: number;
    }
  | { kind: 'no-data'; seconds: number };

/** What a person writes to create or replace a rule. */
export interface AlertRuleInput {
  name: string;
  scope: RuleScope;
  /** Profile metric id ("line_pressure"), IEEE 11073 reference id or its numeric code as text. */
  metric: string;
  condition: RuleCondition;
  priority: AlertPriority;
  text: string;
  enabled: boolean;
  /** Overrides the collector's flap hold-off for this rule. */
  holdOffSeconds?: number;
}

export interface AlertRule extends AlertRuleInput {
  id: number;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface AlertRecord {
  id: number;
  /** One open alert per key: `rule:{ruleId}:{device}`, `alarm:{device}:{alarm}`, `conn:device:{device}`, `ext:{source}:{device}:{key}`. */
  key: string;
  source: AlertSource;
  /** Rule id, device alarm id, "device"/"gateway", or the external source's name. */
  sourceRef: string;
  ruleId: number | null;
  deviceId: string | null;
  gateway: string | null;
  metric: string | null;
  /** The value that raised it (rules), if any. */
  value: number | null;
  priority: AlertPriority;
  text: string;
  state: AlertState;
  raisedAt: number;
  lastSeenAt: number;
  /** Raises of the same key while open (repeats and flaps), starting at 1. */
  count: number;
  /** When the condition last cleared; null while it holds. Resolved by the system after the hold-off. */
  clearedAt: number | null;
  holdOffMs: number;
  ackBy: string | null;
  ackRole: string | null;
  ackAt: number | null;
  ackNote: string | null;
  resolvedAt: number | null;
  /** A person's sub, or "system" when the condition cleared. */
  resolvedBy: string | null;
  resolvedRole: string | null;
  resolveNote: string | null;
  version: number;
}

export type NewAlert = Pick<
  AlertRecord,
  'key' | 'source' | 'sourceRef' | 'ruleId' | 'deviceId' | 'gateway' | 'metric' | 'value' | 'priority' | 'text' | 'raisedAt' | 'holdOffMs'
>;

/** What the system changes on an open alert (no audit entry: nobody acted). */
export type SystemAlertPatch = Partial<Pick<AlertRecord, 'lastSeenAt' | 'count' | 'clearedAt' | 'priority' | 'text' | 'value'>> & {
  /** Resolve it as the system, at this time, with this note. */
  resolve?: { at: number; note: string };
};

export interface AlertQuery {
  /** "open" = active or acknowledged. */
  state?: AlertState | 'open';
  device?: string;
  priority?: AlertPriority;
  source?: AlertSource;
  limit: number;
  offset: number;
}

export type AlertActionOutcome =
  | { ok: true; alert: AlertRecord }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'stale'; current: number }
  | { ok: false; reason: 'state'; state: AlertState };

export type RuleWriteOutcome = { ok: true; rule: AlertRule } | { ok: false; reason: 'not_found' } | { ok: false; reason: 'stale'; current: number };

export interface AlertStore {
  listRules(): Promise<AlertRule[]>;
  getRule(id: number): Promise<AlertRule | undefined>;
  /** Creates a rule and its audit entry in one transaction. */
  createRule(input: AlertRuleInput, actor: Actor, reason?: string): Promise<AlertRule>;
  /** Replaces a rule still at `expectedVersion`, audited with old and new values. */
  updateRule(id: number, input: AlertRuleInput, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome>;
  deleteRule(id: number, expectedVersion: number, actor: Actor, reason?: string): Promise<RuleWriteOutcome>;

  /** Every alert not yet resolved (the service loads them at start). */
  openAlerts(): Promise<AlertRecord[]>;
  insertAlert(alert: NewAlert): Promise<AlertRecord>;
  updateAlertBySystem(id: number, patch: SystemAlertPatch): Promise<AlertRecord>;
  /**
   * A person acknowledges or resolves an alert still at `expectedVersion`;
   * the audit entry (actor, role, old and new state, reason) is written in the
   * same transaction.
   */
  actOnAlert(id: number, action: 'acknowledge' | 'resolve', expectedVersion: number, actor: Actor, reason: string, at: number): Promise<AlertActionOutcome>;
  listAlerts(query: AlertQuery): Promise<{ items: AlertRecord[]; total: number }>;
  getAlert(id: number): Promise<AlertRecord | undefined>;
}
