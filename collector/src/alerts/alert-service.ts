import type { Logger } from '@medtel/shared';
import type { AlertActionOutcome, AlertPriority, AlertRecord, AlertSource, AlertStore } from '../store/alert-store.js';
import type { Actor } from '../store/store.js';

export interface RaiseInput {
  key: string;
  source: AlertSource;
  sourceRef: string;
  ruleId?: number | null;
  deviceId: string | null;
  gateway: string | null;
  metric?: string | null;
  value?: number | null;
  priority: AlertPriority;
  text: string;
  at: number;
  /** Flap hold-off for this alert; the service's default when omitted. */
  holdOffMs?: number;
  /**
   * A fresh occurrence (device alarm start, condition newly true): bumps the
   * count of an open alert. False when re-stating a known condition (after a
   * restart, an external source listing it again): only last-seen moves.
   */
  repeat?: boolean;
}

export type AlertChange = { kind: 'raised' | 'repeated' | 'clearing' | 'acknowledged' | 'resolved'; alert: AlertRecord };

export interface ExternalAlert {
  deviceId: string;
  key: string;
  priority: AlertPriority;
  text: string;
}

/**
 * The alert lifecycle: active -> acknowledged -> resolved, with
 * de-duplication (one open alert per key) and flap suppression.
 *
 * Flap rule: when a condition clears, its alert stays open, marked
 * `clearedAt`, for the hold-off; the system resolves it only if the
 * condition stays clear that long. If it comes back within the hold-off the
 * same alert continues (count + 1, clearedAt reset) — no new alert.
 *
 * Open alerts live in memory (keyed by dedup key), so ingest-time checks
 * never query the database; every change is written through the store.
 * Mutations run one at a time (a promise chain): two raises of the same key
 * in one turn cannot both insert.
 */
export class AlertService {
  private readonly open = new Map<string, AlertRecord>();
  private chain: Promise<unknown> = Promise.resolve();
  private listeners: Array<(change: AlertChange) => void> = [];

  constructor(
    private readonly store: AlertStore,
    private readonly logger: Logger,
    private readonly options: {
      holdOffMs: number;
      now?: () => number;
      onRaised?: (source: AlertSource) => void;
      onResolved?: (source: AlertSource, by: 'system' | 'person') => void;
      /** Several replicas share the store: check it before inserting a key not open here. */
      shared?: boolean;
    },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Loads the open alerts (after a restart they continue, not duplicate). */
  async start(): Promise<void> {
    for (const a of await this.store.openAlerts()) this.open.set(a.key, a);
  }

  /**
   * Replicas (docs/replicas.md): a gateway just connected here, possibly after
   * another replica held it and raised or resolved its alerts. Its open alerts
   * are re-read from the store before any of its messages is evaluated (this
   * joins the same chain as every raise and clear), so they continue rather
   * than duplicate.
   */
  adoptGateway(gateway: string): Promise<void> {
    return this.serial(async () => {
      const current = (await this.store.openAlerts()).filter((a) => a.gateway === gateway);
      for (const [key, a] of this.open) if (a.gateway === gateway) this.open.delete(key);
      for (const a of current) this.open.set(a.key, a);
    });
  }

  /** Replicas: re-reads the open alerts whose key starts with `prefix` (a job taken over from another replica). */
  refreshWhere(prefix: string): Promise<void> {
    return this.serial(async () => {
      const current = (await this.store.openAlerts()).filter((a) => a.key.startsWith(prefix));
      for (const key of [...this.open.keys()]) if (key.startsWith(prefix)) this.open.delete(key);
      for (const a of current) this.open.set(a.key, a);
    });
  }

  /** New, changed and resolved alerts, after they are stored. */
  onChange(listener: (change: AlertChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  openAlerts(): AlertRecord[] {
    return [...this.open.values()];
  }

  isOpen(key: string): boolean {
    return this.open.has(key);
  }

  /** Resolves when every change asked for so far is stored. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  raise(input: RaiseInput): Promise<AlertRecord> {
    return this.serial(async () => {
      const existing = this.open.get(input.key) ?? (await this.openElsewhere(input.key));
      if (!existing) {
        const alert = await this.store.insertAlert({
          key: input.key,
          source: input.source,
          sourceRef: input.sourceRef,
          ruleId: input.ruleId ?? null,
          deviceId: input.deviceId,
          gateway: input.gateway,
          metric: input.metric ?? null,
          value: input.value ?? null,
          priority: input.priority,
          text: input.text,
          raisedAt: input.at,
          holdOffMs: input.holdOffMs ?? this.options.holdOffMs,
        });
        this.open.set(alert.key, alert);
        this.options.onRaised?.(alert.source);
        this.emit('raised', alert);
        return alert;
      }
      const flapped = existing.clearedAt !== null;
      const bump = flapped || input.repeat !== false;
      const updated = await this.store.updateAlertBySystem(existing.id, {
        lastSeenAt: Math.max(existing.lastSeenAt, input.at),
        ...(bump ? { count: existing.count + 1 } : {}),
        ...(flapped ? { clearedAt: null } : {}),
        ...(input.value !== undefined && input.value !== null ? { value: input.value } : {}),
        ...(input.priority !== existing.priority ? { priority: input.priority } : {}),
        ...(input.text !== existing.text ? { text: input.text } : {}),
      });
      this.open.set(updated.key, updated);
      if (bump) this.emit('repeated', updated);
      return updated;
    });
  }

  /**
   * The condition behind `key` has cleared. Resolved at once when
   * `immediate` (an authoritative source such as an external sync), else
   * after the alert's hold-off (see tick). A no-op when nothing is open:
   * evaluators call this freely, and it costs one map lookup.
   */
  clear(key: string, at: number, options: { immediate?: boolean; note?: string } = {}): Promise<void> {
    if (!this.open.has(key)) return Promise.resolve();
    return this.serial(async () => {
      const existing = this.open.get(key);
      if (!existing) return;
      if (options.immediate || existing.holdOffMs === 0) {
        await this.resolveBySystem(existing, at, options.note ?? 'condition cleared');
        return;
      }
      if (existing.clearedAt !== null) return;
      const updated = await this.store.updateAlertBySystem(existing.id, { clearedAt: at });
      this.open.set(key, updated);
      this.emit('clearing', updated);
    });
  }

  /** Resolves alerts whose condition has stayed clear for their hold-off. */
  tick(now = this.now()): Promise<void> {
    const due = [...this.open.values()].filter((a) => a.clearedAt !== null && now - a.clearedAt >= a.holdOffMs);
    if (due.length === 0) return Promise.resolve();
    return this.serial(async () => {
      for (const a of due) {
        const current = this.open.get(a.key);
        if (current && current.clearedAt !== null && now - current.clearedAt >= current.holdOffMs)
          await this.resolveBySystem(current, now, `condition clear for ${Math.round(current.holdOffMs / 1000)} s`);
      }
    });
  }

  /** Resolves every open alert whose key starts with `prefix` (a deleted or disabled rule). */
  resolveWhere(prefix: string, note: string): Promise<void> {
    return this.serial(async () => {
      for (const a of [...this.open.values()]) if (a.key.startsWith(prefix)) await this.resolveBySystem(a, this.now(), note);
    });
  }

  /**
   * For sources that know the whole current set (overdue calibrations):
   * raises what is listed and not open, resolves at once what is open for
   * this source and no longer listed. Call it with the full list each time.
   */
  syncExternal(source: string, active: ExternalAlert[]): Promise<{ raised: number; resolved: number }> {
    const prefix = `ext:${source}:`;
    const at = this.now();
    const wanted = new Map(active.map((a) => [`${prefix}${a.deviceId}:${a.key}`, a]));
    const gone = [...this.open.values()].filter((a) => a.key.startsWith(prefix) && !wanted.has(a.key));
    let raised = 0;
    for (const [key, a] of wanted) {
      const open = this.open.get(key);
      // Listed again, unchanged: nothing to write. Touching it would bump its
      // version every check and turn a person's If-Match into a 409.
      if (open && open.clearedAt === null && open.priority === a.priority && open.text === a.text) continue;
      if (!open) raised++;
      void this.raise({
        key,
        source: 'external',
        sourceRef: source,
        deviceId: a.deviceId,
        gateway: a.deviceId.split('.')[0] ?? null,
        priority: a.priority,
        text: a.text,
        at,
        repeat: false,
      });
    }
    for (const a of gone) void this.clear(a.key, at, { immediate: true, note: `no longer reported by ${source}` });
    return this.idle().then(() => ({ raised, resolved: gone.length }));
  }

  acknowledge(id: number, expectedVersion: number, actor: Actor, reason: string): Promise<AlertActionOutcome> {
    return this.act(id, 'acknowledge', expectedVersion, actor, reason);
  }

  resolve(id: number, expectedVersion: number, actor: Actor, reason: string): Promise<AlertActionOutcome> {
    return this.act(id, 'resolve', expectedVersion, actor, reason);
  }

  private act(id: number, action: 'acknowledge' | 'resolve', expectedVersion: number, actor: Actor, reason: string): Promise<AlertActionOutcome> {
    return this.serial(async () => {
      const outcome = await this.store.actOnAlert(id, action, expectedVersion, actor, reason, this.now());
      if (!outcome.ok) return outcome;
      const alert = outcome.alert;
      if (alert.state === 'resolved') {
        this.open.delete(alert.key);
        this.options.onResolved?.(alert.source, 'person');
        this.emit('resolved', alert);
      } else {
        this.open.set(alert.key, alert);
        this.emit('acknowledged', alert);
      }
      return outcome;
    });
  }

  /**
   * Only with replicas: another replica may have raised this key since we read
   * the open alerts (the store keeps one open alert per key). Costs one read
   * per first raise of a key here, never on a single collector.
   */
  private async openElsewhere(key: string): Promise<AlertRecord | undefined> {
    if (!this.options.shared) return undefined;
    const found = (await this.store.openAlerts()).find((a) => a.key === key);
    if (found) this.open.set(key, found);
    return found;
  }

  private async resolveBySystem(alert: AlertRecord, at: number, note: string): Promise<void> {
    const resolved = await this.store.updateAlertBySystem(alert.id, { resolve: { at, note } });
    this.open.delete(alert.key);
    this.options.onResolved?.(alert.source, 'system');
    this.emit('resolved', resolved);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    // The chain itself never rejects, so one failed write does not stop the next.
    this.chain = run.catch((err) => this.logger.error({ err: (err as Error).message }, 'alert change failed'));
    return run;
  }

  private emit(kind: AlertChange['kind'], alert: AlertRecord): void {
    for (const listener of this.listeners) {
      try {
        listener({ kind, alert });
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'alert listener failed');
      }
    }
  }
}
