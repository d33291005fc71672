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

/** Rules of one metric name, by scope. */
interface ScopeMaps {
  device: Map<string, AlertRule[]>;
  model: Map<string, AlertRule[]>;
  type: Map<string, AlertRule[]>;
}

function scopeOf(rule: AlertRule): [keyof ScopeMaps, string] {
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
  private readonly byName = new Map<string, ScopeMaps>();
  /** The same rules again under the numeric code, so a reading's code is looked up without making a string. */
  private readonly byCode = new Map<number, ScopeMaps>();
  readonly noData: AlertRule[] = [];

  constructor(rules: AlertRule[]) {
    for (const rule of rules) {
      if (!rule.enabled) continue;
      if (rule.condition.kind === 'no-data') this.noData.push(rule);
      const [scope, value] = scopeOf(rule);
      add(slot(this.byName, rule.metric)[scope], value, rule);
      if (/^\d+$/.test(rule.metric)) add(slot(this.byCode, Number(rule.metric))[scope], value, rule);
    }
  }

  /** Rules watching this metric of this device (no-data rules included). */
  match(device: DeviceInfo, names: MetricNames): AlertRule[] {
    // Most readings have no rule at all: three map lookups and out.
    const a = this.byName.get(names.metric);
    const b = names.refId !== undefined && names.refId !== names.metric ? this.byName.get(names.refId) : undefined;
    const c = names.code !== undefined ? this.byCode.get(names.code) : undefined;
    if (!a && !b && !c) return NONE;
    let found: AlertRule[] = NONE;
    for (const maps of [a, b, c]) {
      if (!maps) continue;
      found = concat(found, maps.device.get(device.id));
      if (device.model) found = concat(found, maps.model.get(device.model));
      if (device.type) found = concat(found, maps.type.get(device.type));
    }
    return found;
  }

  /** Whether `rule` applies to `device` (for no-data rules, which must watch devices that send nothing). */
  static inScope(rule: AlertRule, device: DeviceInfo): boolean {
    const s = rule.scope;
    if ('device' in s) return s.device === device.id;
    if ('model' in s) return s.model === device.model;
    return s.type === device.type;
  }
}

const NONE: AlertRule[] = [];

function slot<K>(map: Map<K, ScopeMaps>, k: K): ScopeMaps {
  let maps = map.get(k);
  if (!maps) {
    maps = { device: new Map(), model: new Map(), type: new Map() };
    map.set(k, maps);
  }
  return maps;
}

function add(map: Map<string, AlertRule[]>, value: string, rule: AlertRule): void {
  const list = map.get(value);
  if (list) list.push(rule);
  else map.set(value, [rule]);
}

function concat(found: AlertRule[], more: AlertRule[] | undefined): AlertRule[] {
  if (!more) return found;
  return found.length === 0 ? more : [...found, ...more];
}
