import { deviceKey, type Logger } from '@medtel/shared';
import type { CollectorMetrics } from '../metrics.js';
import type { IngestItem, Store } from '../store/store.js';
import { AlertService } from './alert-service.js';
import { DeviceSources } from './device-sources.js';
import { RuleEngine } from './rule-engine.js';
import type { DeviceInfo } from './rule-index.js';
import { Scheduler } from './scheduler.js';

export interface AlertingOptions {
  /** Flap hold-off: a cleared condition resolves its alert only after staying clear this long. */
  holdOffMs: number;
  /** A device unreachable/in error, or a gateway offline, raises an alert after this long. */
  connectivityGraceMs: number;
  /** How often time-based conditions are checked. */
  tickMs: number;
  now?: () => number;
  /** Several replicas share the store (docs/replicas.md). */
  shared?: boolean;
  /** Replicas: whether a gateway is connected to any replica (presence), checked before raising it offline. */
  gatewayConnectedSomewhere?: (gateway: string) => Promise<boolean>;
}

/**
 * Wires the alert sources to the collector: rules and device alarms and
 * connectivity see every item once it is durable (Ingestor.onStored), the
 * scheduler drives time-based conditions, and the service keeps the
 * lifecycle. Start it before the broker accepts gateways.
 */
export class Alerting {
  readonly service: AlertService;
  readonly engine: RuleEngine;
  private readonly sources: DeviceSources;
  private readonly devices = new Map<string, DeviceInfo>();
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private readonly shared: boolean;
  private readonly rulesListeners: Array<() => void> = [];

  constructor(
    private readonly store: Store,
    private readonly metrics: CollectorMetrics,
    private readonly logger: Logger,
    options: AlertingOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.shared = options.shared ?? false;
    this.service = new AlertService(store.alerts, logger, {
      holdOffMs: options.holdOffMs,
      now: this.now,
      onRaised: (source) => metrics.alertsRaised.inc({ source }),
      onResolved: (source, by) => metrics.alertsResolved.inc({ source, by }),
      shared: options.shared ?? false,
    });
    this.engine = new RuleEngine(this.service, this.devices, options.holdOffMs);
    this.sources = new DeviceSources(this.service, options.connectivityGraceMs, options.gatewayConnectedSomewhere);
    this.scheduler = new Scheduler((now) => this.tick(now), options.tickMs, this.now);
    this.service.onChange(() => this.countOpen());
  }

  /** Loads open alerts, rules, devices and gateways; resumes grace periods from the registry. */
  async start(): Promise<void> {
    await this.service.start();
    for (let offset = 0; ; offset += 1000) {
      const page = await this.store.listDevices({ limit: 1000, offset });
      for (const d of page.items) {
        this.devices.set(d.id, { id: d.id, gateway: d.gateway, type: d.type, model: d.model, lastSeen: d.lastSeen });
        if (d.status !== null) this.sources.deviceStatus(d.id, d.gateway, d.status, d.statusReason, d.statusAt ?? d.lastSeen, this.now());
      }
      if (page.items.length < 1000) break;
    }
    for (const g of await this.store.listGateways()) this.sources.gatewayState(g.id, g.state, g.stateAt, this.now());
    this.engine.setRules(await this.store.alerts.listRules());
    this.countOpen();
    this.scheduler.start();
  }

  stop(): Promise<void> {
    this.scheduler.stop();
    return this.service.idle();
  }

  /**
   * After a rule was created, changed or deleted through the API; alerts of
   * rules that went away (or were disabled) are resolved. With replicas the
   * open rule alerts are re-read first (others may have raised some), and
   * the other replicas are told once this is done (onRulesChanged).
   */
  async rulesChanged(): Promise<void> {
    const rules = await this.store.alerts.listRules();
    if (this.shared) await this.service.refreshWhere('rule:');
    const live = new Set(rules.filter((r) => r.enabled).map((r) => r.id));
    const gone = new Set(this.service.openAlerts().flatMap((a) => (a.ruleId !== null && !live.has(a.ruleId) ? [a.ruleId] : [])));
    for (const ruleId of gone) await this.service.resolveWhere(`rule:${ruleId}:`, 'rule deleted or disabled');
    this.engine.setRules(rules);
    for (const l of this.rulesListeners) l();
  }

  /** Replicas: another replica changed the rules (and resolved what went away); pick them up without writing. */
  async rulesChangedElsewhere(): Promise<void> {
    const rules = await this.store.alerts.listRules();
    await this.service.refreshWhere('rule:');
    this.engine.setRules(rules);
  }

  /**
   * Replicas: a gateway's connection opened on this replica. Its open alerts may have been raised
   * elsewhere (re-read them first); a live connection is proof it is online, so a gateway-offline
   * alert left by the replica it came from is cleared and a pending one dropped.
   */
  async gatewayArrived(gateway: string): Promise<void> {
    await this.service.adoptGateway(gateway);
    const now = this.now();
    this.sources.gatewayState(gateway, 'online', now, now);
  }

  /** Called after rulesChanged() finished here (the replica wiring broadcasts it). */
  onRulesChanged(listener: () => void): void {
    this.rulesListeners.push(listener);
  }

  /** Ingestor.onStored listener: synchronous and database-free (changes of verdict are queued to the service). */
  readonly onStored = (items: IngestItem[]): void => {
    const started = performance.now();
    for (const item of items) {
      try {
        this.consider(item);
      } catch (err) {
        this.logger.error({ err: (err as Error).message, kind: item.kind }, 'alert evaluation failed');
      }
    }
    this.metrics.alertEvaluationSeconds.observe((performance.now() - started) / 1000);
  };

  tick(now: number): void {
    this.engine.tick(now);
    this.sources.tick(now);
    void this.service.tick(now);
  }

  private consider(item: IngestItem): void {
    switch (item.kind) {
      case 'birth': {
        const m = item.message;
        const id = item.registryId ?? deviceKey(item.gateway, m.device);
        // Mutated in place: evaluators hold this object.
        const info = this.devices.get(id) ?? { id, gateway: item.gateway, type: null, model: null, lastSeen: item.receivedAt };
        Object.assign(info, { gateway: item.gateway, type: m.type, model: m.model, lastSeen: item.receivedAt });
        this.devices.set(id, info);
        this.engine.deviceKnown(info);
        return;
      }
      case 'data': {
        const device = this.device(item, item.message.device);
        this.engine.readings(device, item.message.readings, item.receivedAt);
        return;
      }
      case 'alarm': {
        const device = this.device(item, item.message.device);
        this.sources.alarm(device.id, item.gateway, item.message, item.receivedAt);
        return;
      }
      case 'status': {
        const m = item.message;
        const device = this.device(item, m.device);
        this.sources.deviceStatus(device.id, item.gateway, m.status, m.reason ?? null, m.t, item.receivedAt);
        return;
      }
      case 'state':
        this.sources.gatewayState(item.gateway, item.message.state, item.receivedAt, item.receivedAt);
        return;
      default:
        return;
    }
  }

  /** The device as the engine knows it, created on first sight (data may come before a birth). */
  private device(item: IngestItem, device: string): DeviceInfo {
    const { gateway, receivedAt } = item;
    // The registry entry the store filed it under (a device that moved gateways keeps its entry).
    const id = item.registryId ?? deviceKey(gateway, device);
    let info = this.devices.get(id);
    if (!info) {
      info = { id, gateway, type: null, model: null, lastSeen: receivedAt };
      this.devices.set(id, info);
      this.engine.deviceKnown(info);
    }
    info.lastSeen = receivedAt;
    return info;
  }

  private countOpen(): void {
    this.metrics.alertsOpen.reset();
    for (const a of this.service.openAlerts()) this.metrics.alertsOpen.inc({ source: a.source, priority: a.priority });
  }
}
