import type { Reading } from '@medtel/shared';
import type { AlertRule } from '../store/alert-store.js';
import type { AlertService } from './alert-service.js';
import { createEvaluator, NoDataEvaluator, type Evaluator, type Verdict } from './evaluators.js';
import { RuleIndex, type DeviceInfo } from './rule-index.js';

/** The dedup key of a rule's alert on one device. */
export const ruleAlertKey = (ruleId: number, deviceId: string) => `rule:${ruleId}:${deviceId}`;

/**
 * Evaluates the configured rules on every stored reading, in memory: an
 * index lookup finds the matching rules, each (rule, device) pair has its
 * own evaluator, and only a change of verdict reaches the alert service
 * (and so the database). The scheduler calls tick() for the time-based
 * parts (sustained, no data).
 */
export class RuleEngine {
  private index = new RuleIndex([]);
  private rules = new Map<number, AlertRule>();
  private readonly evaluators = new Map<string, { rule: AlertRule; device: DeviceInfo; evaluator: Evaluator }>();

  constructor(
    private readonly service: AlertService,
    private readonly devices: Map<string, DeviceInfo>,
    private readonly holdOffMs: number,
  ) {}

  /** Replaces the rule set; evaluators of rules that changed or went away start afresh. */
  setRules(rules: AlertRule[]): void {
    const next = new Map(rules.map((r) => [r.id, r]));
    for (const [k, e] of this.evaluators) {
      const now = next.get(e.rule.id);
      if (!now || now.version !== e.rule.version || !now.enabled) this.evaluators.delete(k);
    }
    this.rules = next;
    this.index = new RuleIndex(rules);
    for (const device of this.devices.values()) this.watchSilence(device);
  }

  rule(id: number): AlertRule | undefined {
    return this.rules.get(id);
  }

  /** A device appeared or changed identity: no-data rules of its type or model start watching it. */
  deviceKnown(device: DeviceInfo): void {
    this.watchSilence(device);
  }

  /** The readings of one stored data message. */
  readings(device: DeviceInfo, readings: Reading[], receivedAt: number): void {
    for (const r of readings) {
      const rules = this.index.match(device, r);
      if (rules.length === 0) continue;
      for (const rule of rules) {
        const entry = this.evaluatorFor(rule, device);
        if (entry instanceof NoDataEvaluator) {
          this.apply(rule, device, entry.seen(receivedAt), receivedAt);
          continue;
        }
        // Threshold and rate rules read numbers; text, booleans and bad-quality readings say nothing.
        if (typeof r.value !== 'number' || r.quality === 'bad') continue;
        this.apply(rule, device, entry.reading(r.t, r.value, receivedAt), receivedAt);
      }
    }
  }

  tick(now: number): void {
    for (const { rule, device, evaluator } of this.evaluators.values()) this.apply(rule, device, evaluator.tick(now), now);
  }

  /** How many (rule, device) evaluators are live (for tests and the docs' cost figures). */
  get evaluatorCount(): number {
    return this.evaluators.size;
  }

  private watchSilence(device: DeviceInfo): void {
    for (const rule of this.index.noData) if (RuleIndex.inScope(rule, device)) this.evaluatorFor(rule, device);
  }

  private evaluatorFor(rule: AlertRule, device: DeviceInfo): Evaluator {
    const k = ruleAlertKey(rule.id, device.id);
    let entry = this.evaluators.get(k);
    if (!entry) {
      entry = { rule, device, evaluator: createEvaluator(rule.condition, device.lastSeen) };
      this.evaluators.set(k, entry);
    }
    return entry.evaluator;
  }

  private apply(rule: AlertRule, device: DeviceInfo, verdict: Verdict, at: number): void {
    if (!verdict) return;
    const key = ruleAlertKey(rule.id, device.id);
    if (verdict.kind === 'clear') {
      void this.service.clear(key, at);
      return;
    }
    void this.service.raise({
      key,
      source: 'rule',
      sourceRef: String(rule.id),
      ruleId: rule.id,
      deviceId: device.id,
      gateway: device.gateway,
      metric: rule.metric,
      value: verdict.value,
      priority: rule.priority,
      text: rule.text,
      at,
      holdOffMs: rule.holdOffSeconds !== undefined ? rule.holdOffSeconds * 1000 : this.holdOffMs,
      // Evaluators only speak on a change of verdict; the count then moves only when the condition flaps back.
      repeat: false,
    });
  }
}
