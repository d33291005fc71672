import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, createMetricsRegistry, type Registry } from '@medtel/shared';

/** Everything the collector counts (docs/metrics.md). */
export function createCollectorMetrics(registry: Registry = createMetricsRegistry('collector')) {
  const registers = [registry];
  return {
    registry,
    messages: new Counter({
      name: 'medtel_ingest_messages_total',
      help: 'Messages from gateways by kind and outcome (stored, duplicate, quarantined)',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    readings: new Counter({ name: 'medtel_ingest_readings_total', help: 'Readings committed to the store', registers }),
    quarantined: new Counter({
      name: 'medtel_ingest_quarantined_total',
      help: 'Payloads that failed validation, by topic kind',
      labelNames: ['kind'],
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'medtel_ingest_commit_seconds',
      help: 'Time to commit one ingest batch',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    batchSize: new Histogram({
      name: 'medtel_ingest_batch_messages',
      help: 'Messages per committed batch',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
      registers,
    }),
    commitErrors: new Counter({
      name: 'medtel_ingest_commit_errors_total',
      help: 'Batches the store failed to commit (their messages are not acknowledged)',
      registers,
    }),
    queueDepth: new Gauge({ name: 'medtel_ingest_queue_messages', help: 'Messages waiting for the next commit', registers }),
    clients: new Gauge({ name: 'medtel_broker_clients', help: 'Connected MQTT clients', registers }),
    authFailures: new Counter({ name: 'medtel_broker_auth_failures_total', help: 'Refused MQTT connections by reason', labelNames: ['reason'], registers }),
    aclViolations: new Counter({
      name: 'medtel_broker_acl_violations_total',
      help: "Publishes or subscriptions outside a gateway's own topics (connection closed)",
      labelNames: ['action'],
      registers,
    }),
    httpRequests: new Counter({
      name: 'medtel_http_requests_total',
      help: 'API requests by route and status code',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
  };
}

export type CollectorMetrics = ReturnType<typeof createCollectorMetrics>;
