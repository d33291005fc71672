import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, createMetricsRegistry, type Registry } from '@medtel/shared';

/** Everything the collector counts (docs/metrics.md). */
export function createCollectorMetrics(registry: Registry = createMetricsRegistry('collector')) {
  const registers = [registry];
  // Read from the store at scrape time; the collector sets it once the store is open.
  const sources: { awaitingApproval?: () => Promise<number>; pool?: () => { total: number; idle: number; waiting: number } } = {};
  return {
    registry,
    messages: new Counter({
      name: 'medtel_ingest_messages_total',
      help: 'Messages from gateways by kind and outcome (stored, duplicate, quarantined, rejected_device: data of a rejected device, not stored)',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    readings: new Counter({ name: 'medtel_ingest_readings_total', help: 'Readings committed to the store', registers }),
    phiOpens: new Counter({
      name: 'medtel_phi_open_total',
      help: 'Attempts to open PHI envelopes by outcome (opened, auth_failed, unknown_kid, malformed, unsupported_version)',
      labelNames: ['outcome'],
      registers,
    }),
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
    limitRejections: new Counter({
      name: 'medtel_broker_limit_rejections_total',
      help: 'MQTT connections closed or refused by a limit (packet_size, rate, connections_per_gateway)',
      labelNames: ['limit'],
      registers,
    }),
    throttled: new Counter({
      name: 'medtel_broker_throttled_publishes_total',
      help: 'Publishes held back (their PUBACK delayed) because the client was over its publish rate',
      registers,
    }),
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
    alertsRaised: new Counter({
      name: 'medtel_alerts_raised_total',
      help: 'Alerts raised, by source (rule, device-alarm, connectivity, external)',
      labelNames: ['source'],
      registers,
    }),
    alertsResolved: new Counter({
      name: 'medtel_alerts_resolved_total',
      help: 'Alerts resolved, by source and by whom (system when the condition cleared, person)',
      labelNames: ['source', 'by'],
      registers,
    }),
    /** Set from the alert service's open alerts at scrape time (collect), see alerts/alerting.ts. */
    alertsOpen: new Gauge({
      name: 'medtel_alerts_open',
      help: 'Alerts not yet resolved, by source and priority',
      labelNames: ['source', 'priority'],
      registers,
    }),
    alertEvaluationSeconds: new Histogram({
      name: 'medtel_alert_evaluation_seconds',
      help: 'Time to evaluate alert rules and sources for one committed ingest batch',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    devicesAwaitingApproval: new Gauge({
      name: 'medtel_devices_awaiting_approval',
      help: 'Devices the gateways discovered that nobody has approved or rejected yet',
      registers,
      async collect() {
        if (sources.awaitingApproval) this.set(await sources.awaitingApproval());
      },
    }),
    /** Where medtel_devices_awaiting_approval reads its value (Store.discovery.pendingCount). */
    countAwaitingApprovalWith(count: () => Promise<number>): void {
      sources.awaitingApproval = count;
    },
    poolTotal: new Gauge({
      name: 'medtel_store_pool_connections',
      help: 'PostgreSQL store: connections the pool holds (0 on SQLite)',
      registers,
      collect() {
        this.set(sources.pool?.().total ?? 0);
      },
    }),
    poolIdle: new Gauge({
      name: 'medtel_store_pool_idle_connections',
      help: 'PostgreSQL store: pooled connections not in use',
      registers,
      collect() {
        this.set(sources.pool?.().idle ?? 0);
      },
    }),
    poolWaiting: new Gauge({
      name: 'medtel_store_pool_waiting_requests',
      help: 'PostgreSQL store: queries waiting for a free pooled connection (the pool is too small, or the database too slow)',
      registers,
      collect() {
        this.set(sources.pool?.().waiting ?? 0);
      },
    }),
    /** Where the medtel_store_pool_* gauges read the pool (PgStore.poolStats). */
    readPoolWith(stats: () => { total: number; idle: number; waiting: number }): void {
      sources.pool = stats;
    },
    streamClients: new Gauge({ name: 'medtel_stream_clients', help: 'Connected Server-Sent Events clients (GET /api/v1/stream)', registers }),
    streamDropped: new Counter({
      name: 'medtel_stream_dropped_events_total',
      help: 'Stream events not sent to a client that was reading too slowly, by event type',
      labelNames: ['type'],
      registers,
    }),
    // Replicas sharing Redis (docs/replicas.md); never set on a single collector.
    redisPingSeconds: new Histogram({
      name: 'medtel_redis_ping_seconds',
      help: 'Round trip of a PING to Redis, every 2 s (replicas only)',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    redisUp: new Gauge({ name: 'medtel_redis_up', help: '1 while the last PING to Redis was answered (replicas only)', registers }),
    leaseHeld: new Gauge({
      name: 'medtel_lease_held',
      help: 'Work that runs on one replica at a time: 1 on the replica holding its lease (always 1 on a single collector)',
      labelNames: ['lease'],
      registers,
    }),
    liveEvents: new Counter({
      name: 'medtel_live_events_total',
      help: 'Live-stream events exchanged with the other replicas through Redis, by direction (published, received) and type',
      labelNames: ['direction', 'type'],
      registers,
    }),
  };
}

export type CollectorMetrics = ReturnType<typeof createCollectorMetrics>;
