import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Logger } from '@medtel/shared';
import type { CollectorMetrics } from '../metrics.js';
import { RedisGatewayPresence } from './gateway-presence.js';
import { RedisLease, type Lease } from './lease.js';
import { RedisLiveFeed } from './live-feed.js';
import { RedisConnections } from './redis-connection.js';
import { redisUrlForLog, type RedisSettings } from './redis-config.js';

// Both are CommonJS factories without ESM entry points.
const require = createRequire(import.meta.url);
const mqemitterRedis = require('mqemitter-redis') as (opts: object) => { close(cb: () => void): void };
const aedesPersistenceRedis = require('aedes-persistence-redis') as (opts: object) => unknown;

/**
 * Subscriber connections skip ioredis' ready check: it sends INFO, which Redis
 * refuses on a connection already in subscriber mode when the subscribe went
 * out first ("Connection in subscriber mode", ioredis issue 2037), and the
 * refusal counts as a failed connection that retries.
 */
const SUBSCRIBER = { enableReadyCheck: false } as const;

/**
 * Everything one replica shares with the others through Redis
 * (docs/replicas.md): the broker's emitter and session store, gateway
 * presence, the live-stream fan-out and leases. Made only when the config
 * has `redis:`; a single collector never loads any of it.
 */
export class Replica {
  /** Unique per process: a restarted replica is a new broker to aedes (its old wills get published). */
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly redis: RedisConnections;
  readonly mq: { close(cb: () => void): void };
  readonly persistence: unknown;
  readonly feed: RedisLiveFeed;
  private presence: RedisGatewayPresence | undefined;
  private readonly leases: Lease[] = [];

  constructor(
    readonly settings: RedisSettings,
    private readonly metrics: CollectorMetrics,
    private readonly logger: Logger,
  ) {
    this.redis = new RedisConnections(settings, metrics, logger);
    this.mq = mqemitterRedis({ pubConn: this.redis.open('mq-pub'), subConn: this.redis.open('mq-sub', SUBSCRIBER) });
    this.persistence = aedesPersistenceRedis({ conn: this.redis.open('sessions') });
    this.feed = new RedisLiveFeed(this.redis.open('live-pub'), this.redis.open('live-sub', SUBSCRIBER), settings.keyPrefix, metrics, logger, this.id);
    logger.info({ redis: redisUrlForLog(settings.url), replica: this.id }, 'replica mode: sharing Redis with the other collectors');
  }

  /** The aedes options that make brokers on several replicas one broker. */
  brokerShared() {
    return { id: this.id, mq: this.mq, persistence: this.persistence, heartbeatIntervalMs: this.settings.brokerHeartbeatMs };
  }

  /** Gateway presence across replicas; `local` answers for this replica's own connections. */
  async startPresence(local: (gateway: string) => boolean): Promise<RedisGatewayPresence> {
    this.presence = new RedisGatewayPresence(this.redis.open('presence'), this.settings.keyPrefix, this.id, local, this.logger);
    await this.presence.start();
    return this.presence;
  }

  /** A lease named `name`, started; `medtel_lease_held{lease}` follows it. */
  async lease(name: string, ttlMs = this.settings.leaseTtlMs): Promise<Lease> {
    const lease = new RedisLease(
      this.redis.open(`lease-${name}`, { enableOfflineQueue: false }),
      name,
      `${this.settings.keyPrefix}lease:${name}`,
      this.id,
      this.logger,
      ttlMs,
    );
    this.metrics.leaseHeld.set({ lease: name }, 0);
    lease.onChange((held) => this.metrics.leaseHeld.set({ lease: name }, held ? 1 : 0));
    await lease.start();
    this.leases.push(lease);
    return lease;
  }

  async close(): Promise<void> {
    this.feed.stop();
    await Promise.all(this.leases.map((l) => l.stop()));
    await this.presence?.stop();
    await this.redis.close();
  }
}
