import type { Redis } from 'ioredis';
import { deviceKey, type Logger, type Reading } from '@medtel/shared';
import type { AlertChange } from '../alerts/alert-service.js';
import type { CollectorMetrics } from '../metrics.js';
import type { IngestItem } from '../store/store.js';

/** Readings of one device as the live stream shows them. */
export interface LiveReadings {
  device: string;
  readings: Reading[];
}

/**
 * What GET /api/v1/stream shows: alert changes and durable readings. A single
 * collector sees only its own (LocalLiveFeed); a replica must also see those
 * of the others, since a gateway's data and alerts live on the replica that
 * holds its connection (RedisLiveFeed).
 */
export interface LiveFeed {
  onAlert(listener: (change: AlertChange) => void): () => void;
  onReadings(listener: (batch: LiveReadings[]) => void): () => void;
}

type Sources = {
  onAlertChange: (listener: (change: AlertChange) => void) => () => void;
  onStored: (listener: (items: IngestItem[]) => void) => () => void;
};

function readingsOf(items: IngestItem[]): LiveReadings[] {
  const out: LiveReadings[] = [];
  for (const item of items) {
    if (item.kind !== 'data') continue;
    out.push({ device: item.registryId ?? deviceKey(item.gateway, item.message.device), readings: item.message.readings });
  }
  return out;
}

/** The in-process path: the alert service's changes and the ingestor's stored batches. */
export class LocalLiveFeed implements LiveFeed {
  constructor(private readonly sources: Sources) {}

  onAlert(listener: (change: AlertChange) => void): () => void {
    return this.sources.onAlertChange(listener);
  }

  onReadings(listener: (batch: LiveReadings[]) => void): () => void {
    return this.sources.onStored((items) => {
      const batch = readingsOf(items);
      if (batch.length) listener(batch);
    });
  }
}

type Listeners<T> = Set<(value: T) => void>;

/** Replica-to-replica notices on `medtel:control` (never shown to stream clients). */
export interface ControlNotice {
  type: 'rules-changed';
  /** The replica that sent it; a replica ignores its own. */
  from: string;
}

/**
 * Fan-out through Redis pub/sub: every replica publishes its own alert changes
 * and readings, and every replica's streams are fed from the subscription
 * only — its own events come back through Redis too, so each event reaches a
 * client exactly once whichever replica made it. Pub/sub is fire-and-forget:
 * while Redis is away events are lost (a client re-reads GET /alerts, as after
 * any reconnect; docs/replicas.md). Readings are published only while some
 * replica has a readings stream open (PUBLISH answers how many listen), so a
 * fleet's telemetry does not cross Redis for nobody.
 */
export class RedisLiveFeed implements LiveFeed {
  private readonly alertListeners: Listeners<AlertChange> = new Set();
  private readonly readingListeners: Listeners<LiveReadings[]> = new Set();
  private readonly controlListeners: Listeners<ControlNotice> = new Set();
  private readonly unhook: Array<() => void> = [];
  private readingsSubscribed = false;
  /** Last PUBLISH of readings reached nobody: skip until this time, then try again. */
  private readingsIdleUntil = 0;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly metrics: CollectorMetrics,
    private readonly logger: Logger,
    private readonly replicaId = '',
  ) {}

  private get controlChannel() {
    return `${this.prefix}control`;
  }
  private get alertsChannel() {
    return `${this.prefix}live:alerts`;
  }
  private get readingsChannel() {
    return `${this.prefix}live:readings`;
  }

  async start(sources: Sources): Promise<void> {
    this.sub.on('message', (channel: string, text: string) => this.received(channel, text));
    await this.sub.subscribe(this.alertsChannel, this.controlChannel);
    this.unhook.push(
      sources.onAlertChange((change) => this.publish(this.alertsChannel, 'alert', change)),
      sources.onStored((items) => {
        if (Date.now() < this.readingsIdleUntil) return;
        const batch = readingsOf(items);
        if (batch.length) this.publish(this.readingsChannel, 'readings', batch);
      }),
    );
  }

  stop(): void {
    for (const u of this.unhook) u();
  }

  onAlert(listener: (change: AlertChange) => void): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  onReadings(listener: (batch: LiveReadings[]) => void): () => void {
    this.readingListeners.add(listener);
    this.subscribeReadings();
    return () => {
      this.readingListeners.delete(listener);
      if (this.readingListeners.size === 0 && this.readingsSubscribed) {
        this.readingsSubscribed = false;
        void this.sub.unsubscribe(this.readingsChannel).catch(() => undefined);
      }
    };
  }

  /** Notices from the other replicas (this replica's own are dropped). */
  onControl(listener: (notice: ControlNotice) => void): () => void {
    this.controlListeners.add(listener);
    return () => this.controlListeners.delete(listener);
  }

  /** Tells the other replicas; fire-and-forget like every pub/sub event (docs/replicas.md says what a lost one costs). */
  announce(type: ControlNotice['type']): void {
    this.publish(this.controlChannel, 'control', { type, from: this.replicaId } satisfies ControlNotice);
  }

  private subscribeReadings(): void {
    if (this.readingsSubscribed) return;
    this.readingsSubscribed = true;
    void this.sub.subscribe(this.readingsChannel).catch((err: Error) => this.logger.warn({ err: err.message }, 'live readings: subscribe failed'));
  }

  private publish(channel: string, type: string, value: unknown): void {
    this.pub
      .publish(channel, JSON.stringify(value))
      .then((listeners) => {
        this.metrics.liveEvents.inc({ direction: 'published', type });
        // A stream opened elsewhere meanwhile waits at most a second for its first readings.
        if (type === 'readings' && listeners === 0) this.readingsIdleUntil = Date.now() + 1000;
      })
      .catch((err: Error) => this.logger.debug({ err: err.message, type }, 'live event not published (Redis unreachable)'));
  }

  private received(channel: string, text: string): void {
    try {
      if (channel === this.alertsChannel) {
        const change = JSON.parse(text) as AlertChange;
        this.metrics.liveEvents.inc({ direction: 'received', type: 'alert' });
        for (const l of this.alertListeners) l(change);
      } else if (channel === this.controlChannel) {
        const notice = JSON.parse(text) as ControlNotice;
        if (notice.from === this.replicaId) return;
        this.metrics.liveEvents.inc({ direction: 'received', type: 'control' });
        for (const l of this.controlListeners) l(notice);
      } else if (channel === this.readingsChannel) {
        const batch = JSON.parse(text) as LiveReadings[];
        this.metrics.liveEvents.inc({ direction: 'received', type: 'readings' });
        for (const l of this.readingListeners) l(batch);
      }
    } catch (err) {
      this.logger.error({ err: (err as Error).message, channel }, 'live event could not be delivered');
    }
  }
}
