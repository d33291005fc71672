import { Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per process (tests may create several processes' worth in one
 * Node process, so there is no global). Default process metrics (CPU, RSS,
 * event-loop lag) are included and prefixed `medtel_` as all our metrics are.
 */
export function createMetricsRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry, prefix: 'medtel_' });
  return registry;
}

/** Buckets for latencies from sub-millisecond commits to multi-second reconnect waits. */
export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
