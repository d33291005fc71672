import type { AlertRule } from '../store/alert-store.js';

/** What the rule engine knows about a device, kept in memory from births and the registry. */
export interface DeviceInfo {
  id: string;
  gateway: string;
  type: string | null;
  model: string | null;
  /** Collector clock, ms: when anything last arrived from it. */
  lastSeen: number;
}

/** How a reading names its metric: any of these may be what a rule says. */
export interface MetricNames {
  metric: string;
  refId?: string | undefined;
  code?: number | undefined;
}

const key = (scope: string, value: string, metric: string) => `${scope}\u0000${value}\u0000${metric}`;

function scopeKey(rule: AlertRule): [string, string] {
  const s = rule.scope;
  if ('device' in s) return ['device', s.device];
  if ('model' in s) return ['model', s.model];
  return ['type', s.type];
}

/**
 * Enabled rules indexed by (scope, metric name), so finding the rules for a
 * reading is a fixed number of map lookups (3 scopes x up to 3 names),
 * whatever the number of rules: the cost per reading grows only with the
 * rules that actually match it.
 */
export class RuleIndex {
  private readonly byKey = new Map<string, AlertRule[]>();
  readonly noData: AlertRule[] = [];

  constructor(rules: AlertRule[]) {
    for (const rule of rules) {
      if (!rule.enabled) continue;
      if (rule.condition.kind === 'no-data') this.noData.push(rule);
      const k = key(...scopeKey(rule), rule.metric);
      const list = this.byKey.get(k);
      if (list) list.push(rule);
      else this.byKey.set(k, [rule]);
    }
  }

  /** Rules watching this metric of this device (no-data rules included). */
  match(device: DeviceInfo, names: MetricNames): AlertRule[] {
    const ids = [names.metric];
    if (names.refId && names.refId !== names.metric) ids.push(names.refId);
    if (names.code !== undefined) ids.push(String(names.code));
    let found: AlertRule[] | undefined;
    for (const id of ids) {
      found = this.add(found, key('device', device.id, id));
      if (device.model) found = this.add(found, key('model', device.model, id));
      if (device.type) found = this.add(found, key('type', device.type, id));
    }
    return found ?? [];
  }

  /** Whether `rule` applies to `device` (for no-data rules, which must watch devices that send nothing). */
  static inScope(rule: AlertRule, device: DeviceInfo): boolean {
    const s = rule.scope;
    if ('device' in s) return s.device === device.id;
    if ('model' in s) return s.model === device.model;
    return s.type === device.type;
  }

  private add(found: AlertRule[] | undefined, k: string): AlertRule[] | undefined {
    const rules = this.byKey.get(k);
    if (!rules) return found;
    return found ? [...found, ...rules] : rules;
  }
}
