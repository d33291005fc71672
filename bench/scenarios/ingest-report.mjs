/**
 * Figures, checks and output lines of the "ingest" scenario, from what the run
 * measured: the load processes' results, /metrics scrapes at the start and end
 * of the measured phase and after the drain, the /proc samples, the collector's
 * log and exit, and the counts in its SQLite file.
 */
import os from 'node:os';
import { collectorChecks, deliveryChecks } from '../lib/checks.mjs';
import { fmtInt, fmtMs, round } from '../lib/format.mjs';
import { Histogram } from '../lib/histogram.mjs';

const HEADERS = [
  'scenario',
  'gateways',
  'window',
  'readings/msg',
  'msg/s acked',
  'readings/s committed',
  'PUBACK p50 ms',
  'p99 ms',
  'p99.9 ms',
  'collector CPU %',
  'RSS peak MB',
];

const NOTES = [
  'PUBACK latency is publish -> PUBACK at the client: the collector commits to SQLite (synchronous=FULL) before it acknowledges.',
  'Collector CPU % is of one core, from /proc/<pid>/stat over the measured phase; load generators run on the same machine.',
  'fsync is cheap on virtual disks; an eMMC or SSD on a real gateway/collector host will differ (STACK-NOTES).',
];

const sum = (results, pick) => results.reduce((n, r) => n + pick(r), 0);

export function ingestOutcome({ opts, payloadBytes, results, before, after, final, cpuBefore, cpuAfter, samples, rssPeak, hwm, collector, stopped, db }) {
  const latency = new Histogram();
  for (const r of results) latency.merge(Histogram.fromJSON(r.measured.latency));

  const measuredSeconds = results.reduce((m, r) => Math.max(m, r.measured.seconds), 0);
  // Sum of per-connection rates: each counted acks over its own measured window.
  const msgPerSec = sum(results, (r) => (r.measured.seconds > 0 ? r.measured.acked / r.measured.seconds : 0));
  const scrapeSeconds = (after.at - before.at) / 1000;
  const readingsPerSec = (after.readings - before.readings) / scrapeSeconds;
  const committedMsgPerSec = (after.dataStored - before.dataStored) / scrapeSeconds;
  const cpuPct = ((cpuAfter.cpu - cpuBefore.cpu) / ((cpuAfter.at - cpuBefore.at) / 1000)) * 100;
  const loadCpuPct = results.reduce((n, r) => n + r.measured.cpuUserMs + r.measured.cpuSystemMs, 0) / 10 / (measuredSeconds || 1);
  const batches = after.batchCount - before.batchCount;
  const meanBatch = batches > 0 ? (after.batchSum - before.batchSum) / batches : Number.NaN;
  // Share of wall time the collector's (single) thread spent inside store commits.
  const commitBusyPct = ((after.commitSecondsSum - before.commitSecondsSum) / scrapeSeconds) * 100;
  const meanCommitMs =
    after.commitSecondsCount > before.commitSecondsCount
      ? ((after.commitSecondsSum - before.commitSecondsSum) / (after.commitSecondsCount - before.commitSecondsCount)) * 1000
      : Number.NaN;

  const acked = sum(results, (r) => r.acked);
  const published = sum(results, (r) => r.published);
  const publishErrors = sum(results, (r) => r.publishErrors);
  const outOfOrder = sum(results, (r) => r.outOfOrderAcks);
  const inFlightAtEnd = sum(results, (r) => r.inFlightAtEnd);

  const checks = [
    ...deliveryChecks({ published, acked, inFlightAtEnd, publishErrors, outOfOrder, readingsPerMessage: opts.readings, final, db }),
    ...collectorChecks({ log: collector.log, stopped }),
  ];

  const figures = {
    messagesPerSecAcked: round(msgPerSec, 1),
    messagesPerSecCommitted: round(committedMsgPerSec, 1),
    readingsPerSecCommitted: round(readingsPerSec, 1),
    pubackMs: {
      p50: round(latency.percentileMs(50)),
      p90: round(latency.percentileMs(90)),
      p99: round(latency.percentileMs(99)),
      p999: round(latency.percentileMs(99.9)),
      max: round(latency.max / 1000),
      mean: round(latency.meanMs()),
      samples: latency.count,
    },
    collectorCpuPctOfCore: round(cpuPct, 1),
    collectorRssPeakMB: round(rssPeak / 2 ** 20, 1),
    collectorVmHwmMB: round(hwm / 2 ** 20, 1),
    loadGeneratorsCpuPctOfCore: round(loadCpuPct, 1),
    meanBatchMessages: round(meanBatch, 1),
    meanCommitMs: round(meanCommitMs),
    commitBusyPct: round(commitBusyPct, 1),
    eventLoopLagP99Ms: round(after.eventLoopLagP99 * 1000),
    eventLoopLagMaxMs: round(after.eventLoopLagMax * 1000),
    measuredSeconds: round(measuredSeconds),
    payloadBytes,
  };
  const totals = {
    published,
    acked,
    committedMessages: final.dataStored,
    committedReadings: final.readings,
    duplicates: final.dataDuplicate,
    quarantined: final.quarantined,
    commitErrors: final.commitErrors,
    sqlite: db,
  };

  const row = [
    'ingest',
    opts.gateways,
    opts.window,
    opts.readings,
    fmtInt(msgPerSec),
    fmtInt(readingsPerSec),
    fmtMs(figures.pubackMs.p50),
    fmtMs(figures.pubackMs.p99),
    fmtMs(figures.pubackMs.p999),
    Number.isFinite(cpuPct) ? cpuPct.toFixed(0) : 'n/a',
    Number.isFinite(figures.collectorRssPeakMB) ? figures.collectorRssPeakMB.toFixed(0) : 'n/a',
  ];
  const lines = [
    `collector: ${figures.messagesPerSecCommitted.toLocaleString('en-US')} msg/s committed (from /metrics), mean batch ${figures.meanBatchMessages} messages, mean commit ${figures.meanCommitMs} ms, in commits ${figures.commitBusyPct}% of the time, event-loop lag p99 ${fmtMs(figures.eventLoopLagP99Ms)} ms; PUBACK p90 ${fmtMs(figures.pubackMs.p90)} ms, max ${fmtMs(figures.pubackMs.max)} ms`,
    `load: ${opts.gateways} processes used ${figures.loadGeneratorsCpuPctOfCore}% of a core together, on the same ${os.cpus().length}-core machine as the collector; ${figures.payloadBytes} B/message`,
    `totals: ${totals.acked.toLocaleString('en-US')} messages PUBACKed, ${totals.committedMessages.toLocaleString('en-US')} committed (collector /metrics), ${totals.sqlite.messages?.toLocaleString('en-US') ?? 'n/a'} in the SQLite file`,
  ];
  return { figures, totals, checks, headers: HEADERS, rows: [row], lines, samples, collectorLog: collector.log, notes: NOTES };
}
