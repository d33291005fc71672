import type { Redis } from 'ioredis';
import type { Logger } from '@medtel/shared';

/**
 * Work that must run on one replica at a time (scheduled jobs: the
 * calibration-overdue sync, gateway connectivity) asks a Lease whether this
 * replica holds it right now. A single collector holds every lease for ever
 * (LocalLease); replicas share a Redis key per lease (RedisLease).
 */
export interface Lease {
  readonly name: string;
  /** True while this replica holds the lease; check it just before doing the work. */
  held(): boolean;
  /** Called on every change of holder here (true: acquired, false: lost). */
  onChange(listener: (held: boolean) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A single collector: always the holder. */
export class LocalLease implements Lease {
  constructor(readonly name: string) {}
  held(): boolean {
    return true;
  }
  onChange(): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

// Extends the lease only if we still hold it, in one step (a GET then PEXPIRE could extend another's).
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * `SET key replica NX PX ttl`, renewed every ttl/3 by its holder; the others
 * try to take it as often. A holder that cannot renew in time (Redis away, the
 * process stalled) considers itself no longer holding *before* the key can
 * expire in Redis: it stops at ttl/2 after its last successful renewal, so two
 * replicas never both believe they hold it unless a clock runs more than 2x
 * fast. A replica that dies loses the lease when the key expires (at most
 * `ttlMs`), so the work pauses for that long — fine for jobs that run every
 * minute, and said so in docs/replicas.md.
 */
export class RedisLease implements Lease {
  private timer: NodeJS.Timeout | undefined;
  private heldUntil = 0;
  private holding = false;
  private listeners: Array<(held: boolean) => void> = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    readonly name: string,
    private readonly key: string,
    private readonly replicaId: string,
    private readonly logger: Logger,
    private readonly ttlMs = 15_000,
  ) {}

  held(): boolean {
    const now = Date.now() < this.heldUntil;
    if (!now && this.holding) this.set(false);
    return now;
  }

  onChange(listener: (held: boolean) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    await this.attempt();
    this.timer = setInterval(
      () => {
        this.running ??= this.attempt().finally(() => {
          this.running = undefined;
        });
      },
      Math.max(50, Math.floor(this.ttlMs / 3)),
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    if (this.holding) {
      // Hand over at once rather than after the TTL.
      await this.redis.eval(RELEASE, 1, this.key, this.replicaId).catch(() => undefined);
      this.heldUntil = 0;
      this.set(false);
    }
  }

  private async attempt(): Promise<void> {
    const asked = Date.now();
    try {
      const ok = this.holding
        ? (await this.redis.eval(RENEW, 1, this.key, this.replicaId, String(this.ttlMs))) === 1
        : (await this.redis.set(this.key, this.replicaId, 'PX', this.ttlMs, 'NX')) === 'OK';
      if (ok) {
        this.heldUntil = asked + Math.floor(this.ttlMs / 2);
        if (!this.holding) this.set(true);
      } else if (this.holding) {
        this.heldUntil = 0;
        this.set(false);
      }
    } catch (err) {
      // Keep what we had until heldUntil passes: a short Redis blip must not flap the holder.
      this.logger.debug({ lease: this.name, err: (err as Error).message }, 'lease renewal failed');
      this.held();
    }
  }

  private set(held: boolean): void {
    this.holding = held;
    this.logger.info({ lease: this.name, replica: this.replicaId }, held ? 'lease acquired: this replica runs the job' : 'lease lost');
    for (const l of this.listeners) l(held);
  }
}
