/** The collector's own counters, scraped from its Prometheus /metrics endpoint. */
import { withTimeout } from './timing.mjs';

/** Prometheus text -> [{name, labels, value}]. */
export function parsePrometheus(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[2]) for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric's samples whose labels include `match`. */
export function metricSum(samples, name, match = {}) {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** One scrape: `at` (performance.now() ms), all samples, and the ingest and broker counters by name. */
export async function scrape(httpUrl) {
  const started = performance.now();
  const res = await withTimeout(fetch(`${httpUrl}/metrics`), 5000, 'scraping /metrics');
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const samples = parsePrometheus(await res.text());
  // The counters were read somewhere during the request: take its midpoint.
  const at = (started + performance.now()) / 2;
  return {
    at,
    samples,
    readings: metricSum(samples, 'medtel_ingest_readings_total'),
    dataStored: metricSum(samples, 'medtel_ingest_messages_total', { kind: 'data', outcome: 'stored' }),
    dataDuplicate: metricSum(samples, 'medtel_ingest_messages_total', { kind: 'data', outcome: 'duplicate' }),
    quarantined: metricSum(samples, 'medtel_ingest_messages_total', { outcome: 'quarantined' }),
    commitErrors: metricSum(samples, 'medtel_ingest_commit_errors_total'),
    batchSum: metricSum(samples, 'medtel_ingest_batch_messages_sum'),
    batchCount: metricSum(samples, 'medtel_ingest_batch_messages_count'),
    commitSecondsSum: metricSum(samples, 'medtel_ingest_commit_seconds_sum'),
    commitSecondsCount: metricSum(samples, 'medtel_ingest_commit_seconds_count'),
    // prom-client resets the event-loop delay histogram on every scrape: these cover the time since the previous scrape.
    eventLoopLagP99: metricSum(samples, 'medtel_nodejs_eventloop_lag_p99_seconds'),
    eventLoopLagMax: metricSum(samples, 'medtel_nodejs_eventloop_lag_max_seconds'),
    aclViolations: metricSum(samples, 'medtel_broker_acl_violations_total'),
    authFailures: metricSum(samples, 'medtel_broker_auth_failures_total'),
  };
}
