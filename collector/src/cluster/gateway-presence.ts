import type { Redis } from 'ioredis';
import type { Logger } from '@medtel/shared';

/**
 * Which gateways have a live MQTT connection somewhere. Diagnostics send a
 * command only to a connected gateway; with replicas, "connected" means to any
 * of them, not only to the one serving the API request.
 */
export interface GatewayPresence {
  isConnected(gateway: string): Promise<boolean>;
}

/**
 * Redis layout: a set per gateway of the replicas holding a connection of it
 * (`presence:gw:{id}`), and per replica a key that lives while the replica
 * renews it (`presence:replica:{id}`, TTL 15 s, renewed every 5 s). A replica
 * that dies leaves its set entries behind, but its key expires, so its
 * gateways stop counting as connected within 15 s — by then they have
 * reconnected to another replica, which adds itself.
 */
export class RedisGatewayPresence implements GatewayPresence {
  private timer: NodeJS.Timeout | undefined;
  private readonly ttlMs = 15_000;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly replicaId: string,
    private readonly local: (gateway: string) => boolean,
    private readonly logger: Logger,
  ) {}

  private gwKey(gateway: string) {
    return `${this.prefix}presence:gw:${gateway}`;
  }
  private replicaKey(replica: string) {
    return `${this.prefix}presence:replica:${replica}`;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.ttlMs / 3);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.del(this.replicaKey(this.replicaId)).catch(() => undefined);
  }

  connected(gateway: string): void {
    this.redis.sadd(this.gwKey(gateway), this.replicaId).catch((err: Error) => this.logger.warn({ gateway, err: err.message }, 'presence not recorded'));
  }

  disconnected(gateway: string): void {
    this.redis.srem(this.gwKey(gateway), this.replicaId).catch(() => undefined);
  }

  async isConnected(gateway: string): Promise<boolean> {
    if (this.local(gateway)) return true;
    const replicas = (await this.redis.smembers(this.gwKey(gateway))).filter((r) => r !== this.replicaId);
    if (replicas.length === 0) return false;
    const alive = await this.redis.mget(...replicas.map((r) => this.replicaKey(r)));
    return alive.some((v) => v !== null);
  }

  private async beat(): Promise<void> {
    await this.redis
      .set(this.replicaKey(this.replicaId), '1', 'PX', this.ttlMs)
      .catch((err: Error) => this.logger.debug({ err: err.message }, 'presence heartbeat failed'));
  }
}
