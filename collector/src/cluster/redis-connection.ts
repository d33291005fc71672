import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '@medtel/shared';
import type { CollectorMetrics } from '../metrics.js';
import { redisUrlForLog, type RedisSettings } from './redis-config.js';

/**
 * The Redis connections of one replica. Redis pub/sub needs a connection of its
 * own per subscriber, so each user asks for a named one; all of them reconnect
 * by themselves (ioredis) with a capped backoff, and all close together.
 */
export class RedisConnections {
  private readonly all: Redis[] = [];
  private pinger: NodeJS.Timeout | undefined;
  private lastError: string | undefined = 'not checked yet';
  /** Commands fail at once while disconnected (no offline queue): readiness must not hang. */
  private readonly health: Redis;

  constructor(
    readonly settings: RedisSettings,
    private readonly metrics: CollectorMetrics,
    private readonly logger: Logger,
  ) {
    this.health = this.open('health', { enableOfflineQueue: false });
  }

  /** A new connection; `name` shows in logs and in Redis' CLIENT LIST. */
  open(name: string, extra: RedisOptions = {}): Redis {
    const redis = new Redis(this.settings.url, {
      ...(this.settings.password !== undefined ? { password: this.settings.password } : {}),
      connectionName: `medtel-${name}`,
      // Keep trying for ever, at most every 2 s: Redis coming back must need no restart.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      maxRetriesPerRequest: null,
      ...extra,
    });
    let down = false;
    redis.on('error', (err: Error) => {
      if (down) return;
      down = true;
      this.logger.warn({ redis: redisUrlForLog(this.settings.url), connection: name, err: err.message }, 'Redis connection failed; retrying');
    });
    redis.on('ready', () => {
      if (down) this.logger.info({ connection: name }, 'Redis connection back');
      down = false;
    });
    this.all.push(redis);
    return redis;
  }

  /** Pings every `everyMs` for the latency histogram and the up gauge. */
  startHealth(everyMs = 2000): void {
    const tick = () => void this.ping().catch(() => undefined);
    tick();
    this.pinger = setInterval(tick, everyMs);
    this.pinger.unref();
  }

  /** One PING with a deadline; throws a readable reason (readiness check). */
  async ping(timeoutMs = 1000): Promise<void> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.health.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no PING answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      this.metrics.redisPingSeconds.observe((performance.now() - started) / 1000);
      this.metrics.redisUp.set(1);
      this.lastError = undefined;
    } catch (err) {
      this.metrics.redisUp.set(0);
      this.lastError = (err as Error).message;
      throw new Error(`Redis unreachable: ${this.lastError}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    await Promise.all(this.all.map((r) => r.quit().catch(() => r.disconnect())));
  }
}
