import { rmSync } from 'node:fs';
import { startRedis, type TestRedis } from '../../test/redis-server.js';
import type { CollectorConfig } from '../dist/index.js';
import { startTestCollector } from './collector-fixture.js';

export type Collector = Awaited<ReturnType<typeof startTestCollector>>;

export interface ReplicaPair {
  redis: TestRedis;
  a: Collector;
  b: Collector;
}

/**
 * Two collector replicas in this process sharing a real redis-server and one
 * store (the SQLite file of A, or PostgreSQL with MEDTEL_TEST_STORE=postgres).
 * `configure` gets the Redis URL and adjusts both configs (timings, leases).
 * Without redis-server it fails with the apt-get line, never skips.
 */
export async function startReplicaPair(configure: (redisUrl: string) => (c: CollectorConfig) => void): Promise<ReplicaPair> {
  const redis = await startRedis();
  const a = await startTestCollector({ configure: configure(redis.url) });
  const b = await startTestCollector({ configure: configure(redis.url), dir: a.dir });
  return { redis, a, b };
}

/** Stops whichever replica a test did not stop itself (`stopped`), removes the store, stops Redis. */
export async function stopReplicaPair(pair: Partial<ReplicaPair>, stopped: Set<Collector>): Promise<void> {
  for (const c of [pair.b, pair.a]) if (c && !stopped.has(c)) await c.stop();
  if (pair.a) rmSync(pair.a.dir, { recursive: true, force: true });
  await pair.redis?.close();
}
