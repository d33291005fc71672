/**
 * Figures, checks and output lines of the "drain" scenario, from what the run
 * measured: the fill, the agent's and collector's process samples, /metrics
 * of both, and what the collector's SQLite file holds after it stopped
 * (arrival time of every backlog message and of every alarm).
 */
import { collectorChecks } from '../lib/checks.mjs';
import { metricSum } from '../lib/collector-metrics.mjs';
import { fmtInt, fmtMs, round } from '../lib/format.mjs';
import { Histogram } from '../lib/histogram.mjs';

const HEADERS = [
  'scenario',
  'backlog readings',
  'fill s',
  'drain s',
  'readings/s',
  'alarms during drain',
  'alarm p50 ms',
  'p99 ms',
  'max ms',
  'agent CPU %',
  'agent RSS MB',
  'collector CPU %',
  'collector RSS MB',
];

const NOTES = [
  'drain s: from the agent process spawn to the collector receiving the last backlog message (received.received_at, stamped on arrival, before its group commit); includes the agent start-up and MQTT connect.',
  'readings/s = backlog readings / drain s. Live pump data keeps flowing meanwhile and is not counted.',
  'Alarm latency: received.received_at - alarms.t for every alarm phase the agent stamped (t, after reading the pump) between its spawn and the end of the drain; the agent polls every 250 ms, so the pump-to-agent delay (<= 250 ms) is not included.',
  'CPU % is of one core over spawn -> end of the drain (the agent from its own start), from /proc/<pid>/stat; RSS peak is sampled every 250 ms.',
  'fill s: the agent Outbox class writing the backlog (WAL, synchronous=FULL, one transaction per 2,000 pending messages); fsync is cheap on virtual disks.',
];

const check = (name, ok, detail) => ({ name, ok, detail });
const pct = (cpuSeconds, windowS) => (windowS > 0 ? (cpuSeconds / windowS) * 100 : Number.NaN);
const s2 = (ms) => (Number.isFinite(ms) ? round(ms / 1000, 3) : null);

export function drainOutcome(r) {
  const { opts, fill, agent, collector, db, agentAlarms, metrics } = r;
  const spawnedAt = agent.spawnedAt;
  if (db.error) {
    return failedStore(r);
  }
  const drainEndAt = db.backlog.lastAt;
  const drainSeconds = (drainEndAt - spawnedAt) / 1000;
  const readingsPerSec = fill.readings / drainSeconds;
  const transferSeconds = (db.backlog.lastAt - db.backlog.firstAt) / 1000;

  // Alarm phases the agent raised during the drain, and how long each took to arrive.
  const during = db.alarms.filter((a) => a.t >= spawnedAt && a.t <= drainEndAt);
  const latency = new Histogram();
  for (const a of during) latency.recordMs(a.receivedAt - a.t);
  const simDuring = r.live.transitions.filter((x) => x.t >= spawnedAt && x.t <= drainEndAt);
  // Live telemetry is the same class as the backlog, so it queues behind it (by design).
  const liveWait = new Histogram();
  for (const d of db.liveData) if (d.t >= spawnedAt && d.t <= drainEndAt) liveWait.recordMs(d.receivedAt - d.t);

  const agentCpuPct = pct(r.cpu.agentSeconds, r.cpu.agentWindowS);
  const collectorCpuPct = pct(r.cpu.collectorSeconds, r.cpu.collectorWindowS);
  const { before, after, final } = metrics;
  const batches = after.batchCount - before.batchCount;
  const meanBatch = batches > 0 ? (after.batchSum - before.batchSum) / batches : Number.NaN;
  const commitWallS = (after.at - before.at) / 1000;
  const commitBusyPct = ((after.commitSecondsSum - before.commitSecondsSum) / commitWallS) * 100;
  const commits = after.commitSecondsCount - before.commitSecondsCount;
  const meanCommitMs = commits > 0 ? ((after.commitSecondsSum - before.commitSecondsSum) / commits) * 1000 : Number.NaN;
  const duplicates = metricSum(final.samples, 'medtel_ingest_messages_total', { outcome: 'duplicate' });
  const outboxFileMB = round(fill.fileBytes / 2 ** 20, 1);

  const figures = {
    backlogMessages: fill.messages,
    backlogReadings: fill.readings,
    payloadBytes: r.payloadBytes,
    backlogSpanHours: round(fill.spanSeconds / 3600, 2),
    outboxPayloadMB: round(fill.bytes / 2 ** 20, 1),
    outboxFileMB,
    fillSeconds: round(fill.seconds),
    fillMessagesPerSec: round(fill.messages / fill.seconds, 1),
    fillReadingsPerSec: round(fill.readings / fill.seconds, 1),
    fillCommits: fill.commits,
    drainSeconds: round(drainSeconds),
    readingsPerSec: round(readingsPerSec, 1),
    messagesPerSec: round(fill.messages / drainSeconds, 1),
    agentStartedAfterS: s2(agent.startedAt - spawnedAt),
    agentConnectedAfterS: s2(agent.connectedAt - spawnedAt),
    firstBacklogReceivedAfterS: s2(db.backlog.firstAt - spawnedAt),
    transferSeconds: round(transferSeconds),
    transferMessagesPerSec: round(transferSeconds > 0 ? fill.messages / transferSeconds : Number.NaN, 1),
    drainSeenByPollingAfterS: s2(r.detectedAt - spawnedAt),
    alarmsDuringDrain: {
      count: during.length,
      starts: during.filter((a) => a.phase === 'start').length,
      ends: during.filter((a) => a.phase === 'end').length,
      p50Ms: round(latency.percentileMs(50)),
      p90Ms: round(latency.percentileMs(90)),
      p99Ms: round(latency.percentileMs(99)),
      maxMs: round(latency.count ? latency.max / 1000 : Number.NaN),
      meanMs: round(latency.meanMs()),
      each: during.map((a) => ({ device: a.device, alarm: a.alarm, phase: a.phase, atS: s2(a.t - spawnedAt), latencyMs: a.receivedAt - a.t })),
    },
    pumpAlarmFlagChangesDuringDrain: simDuring.length,
    liveDataDuringDrain: {
      messages: liveWait.count,
      p50Ms: round(liveWait.percentileMs(50)),
      maxMs: round(liveWait.count ? liveWait.max / 1000 : Number.NaN),
    },
    agentCpuPctOfCore: round(agentCpuPct, 1),
    agentRssPeakMB: round(r.rss.agentPeak / 2 ** 20, 1),
    agentVmHwmMB: round(r.rss.agentHwm / 2 ** 20, 1),
    collectorCpuPctOfCore: round(collectorCpuPct, 1),
    collectorRssPeakMB: round(r.rss.collectorPeak / 2 ** 20, 1),
    collectorVmHwmMB: round(r.rss.collectorHwm / 2 ** 20, 1),
    collectorMeanBatchMessages: round(meanBatch, 1),
    collectorMeanCommitMs: round(meanCommitMs),
    collectorCommitBusyPct: round(commitBusyPct, 1),
    collectorEventLoopLagP99Ms: round(after.eventLoopLagP99 * 1000),
    collectorEventLoopLagMaxMs: round(after.eventLoopLagMax * 1000),
    outboxRowsAtStart: r.readyz.atStart?.outbox?.rows ?? null,
    outboxRowsAfterDrain: r.readyz.atEnd?.outbox?.rows ?? null,
    schedule: {
      pumpsStartedBeforeAgentS: round(r.pumpsOffsetS),
      occlusionAfterS: r.schedule.occlusionAfterS.map((x) => round(x)),
      plannedAlarmsAfterSpawnS: r.schedule.alarms.map((a) => ({
        start: round(a.start + r.schedule.lead - r.pumpsOffsetS),
        end: a.end === undefined ? null : round(a.end + r.schedule.lead - r.pumpsOffsetS),
      })),
    },
  };
  const totals = {
    received: db.received,
    receivedByKind: db.byKind,
    backlog: db.backlog,
    alarmRows: db.alarmRows,
    agentAlarms,
    duplicates,
    quarantined: { metrics: final.quarantined, sqlite: db.quarantined },
    commitErrors: final.commitErrors,
    gaps: db.gaps,
    outboxLeftAfterStop: r.outboxLeft,
    pumpErrors: r.live.errors,
    pumpAlarmFlagChanges: r.live.transitions.map((x) => ({ ...x, t: undefined, atS: s2(x.t - spawnedAt) })),
  };

  const checks = [
    check(
      'every backlog message stored exactly once',
      db.backlog.messages === fill.messages && db.backlog.data === fill.messages && db.backlog.readings === fill.readings,
      `received rows with seq ${fill.firstSeq}..${fill.lastSeq}: ${db.backlog.messages} (data ${db.backlog.data}), expected ${fill.messages}; their readings ${db.backlog.readings}, expected ${fill.readings}`,
    ),
    check(
      'no re-delivery, quarantine, commit error, ACL or auth failure',
      duplicates === 0 && final.quarantined === 0 && db.quarantined === 0 && final.commitErrors === 0 && final.aclViolations === 0 && final.authFailures === 0,
      `duplicates ${duplicates}, quarantined ${final.quarantined} (SQLite ${db.quarantined}), commit errors ${final.commitErrors}, ACL ${final.aclViolations}, auth ${final.authFailures}`,
    ),
    check('nothing evicted from the outbox', db.gaps === 0 && agentAlarms.dropped === 0, `gap messages stored ${db.gaps}, agent drops ${agentAlarms.dropped}`),
    check(
      'the agent connected once and stayed connected',
      agentAlarms.uplinkConnects === 1 && agentAlarms.uplinkFailures === 0,
      `connects ${agentAlarms.uplinkConnects}, lost or failed ${agentAlarms.uplinkFailures}`,
    ),
  ];
  if (opts.livePumps > 0) {
    checks.push(
      check(
        'live alarms were raised during the drain',
        during.length > 0,
        `${during.length} alarm phases stamped between the agent's spawn and the end of the drain (pumps changed alarm flags ${simDuring.length} times meanwhile)`,
      ),
      check(
        'every alarm phase the agent raised was acknowledged and stored',
        agentAlarms.acked === agentAlarms.raised && db.alarmRows >= agentAlarms.acked,
        `agent raised ${agentAlarms.raised}, PUBACKed ${agentAlarms.acked} (its /metrics after the drain); collector stored ${db.alarmRows}`,
      ),
      check(
        'pump simulators served without error',
        r.live.errors.length === 0,
        `${r.live.errors.length} errors${r.live.errors.length ? `: ${JSON.stringify(r.live.errors.slice(0, 3))}` : ''}`,
      ),
    );
  }
  checks.push(
    check(
      'agent logged no error',
      agent.log.counts.error + agent.log.counts.fatal === 0,
      `error ${agent.log.counts.error}, fatal ${agent.log.counts.fatal} (warn ${agent.log.counts.warn})`,
    ),
    check(
      'agent stopped cleanly on SIGTERM',
      r.agentStopped.code === 0 && !r.agentStopped.timedOut,
      `exit code ${r.agentStopped.code}, signal ${r.agentStopped.signal}${r.agentStopped.timedOut ? ', needed SIGKILL after 10 s' : ''}`,
    ),
    ...collectorChecks({ log: collector.log, stopped: r.collectorStopped }),
  );

  const a = figures.alarmsDuringDrain;
  const row = [
    'drain',
    fmtInt(fill.readings),
    fill.seconds.toFixed(1),
    drainSeconds.toFixed(1),
    fmtInt(readingsPerSec),
    opts.livePumps > 0 ? `${a.count} (${a.starts} start, ${a.ends} end)` : 'no pumps',
    fmtMs(a.p50Ms ?? Number.NaN),
    fmtMs(a.p99Ms ?? Number.NaN),
    fmtMs(a.maxMs ?? Number.NaN),
    Number.isFinite(agentCpuPct) ? agentCpuPct.toFixed(0) : 'n/a',
    Number.isFinite(figures.agentRssPeakMB) ? figures.agentRssPeakMB.toFixed(0) : 'n/a',
    Number.isFinite(collectorCpuPct) ? collectorCpuPct.toFixed(0) : 'n/a',
    Number.isFinite(figures.collectorRssPeakMB) ? figures.collectorRssPeakMB.toFixed(0) : 'n/a',
  ];
  const f = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const lines = [
    `backlog: ${fmtInt(fill.messages)} messages x ${opts.readings} readings (${r.payloadBytes} B each on the wire) from ${opts.backlogDevices} devices, ${figures.backlogSpanHours} h of 1 s polls; outbox.db ${outboxFileMB ?? 'n/a'} MB; written in ${f(fill.seconds)} s = ${fmtInt(figures.fillMessagesPerSec)} msg/s, ${fmtInt(figures.fillReadingsPerSec)} readings/s, ${fill.commits} commits`,
    `drain: agent started ${f(figures.agentStartedAfterS)} s after its spawn, connected at ${f(figures.agentConnectedAfterS)} s; first backlog message at the collector at ${f(figures.firstBacklogReceivedAfterS)} s, last at ${f(drainSeconds)} s (${fmtInt(figures.transferMessagesPerSec)} msg/s in between, window ${opts.window}); outbox rows at start ${figures.outboxRowsAtStart ?? 'n/a'}, after the drain ${figures.outboxRowsAfterDrain ?? 'n/a'}`,
    opts.livePumps > 0
      ? `alarms: ${opts.livePumps} live pumps polled every 250 ms; during the drain the agent raised ${a.count} phases (${a.starts} start, ${a.ends} end; the pumps changed alarm flags ${simDuring.length} times), arrival - t p50 ${fmtMs(a.p50Ms ?? Number.NaN)} / p90 ${fmtMs(a.p90Ms ?? Number.NaN)} / p99 ${fmtMs(a.p99Ms ?? Number.NaN)} / max ${fmtMs(a.maxMs ?? Number.NaN)} ms; whole run: agent raised ${agentAlarms.raised}, collector stored ${db.alarmRows}`
      : 'alarms: no live pumps (--live-pumps 0)',
    ...(liveWait.count
      ? [
          `live data: ${liveWait.count} data messages polled from the live pumps during the drain waited behind the backlog (same class, oldest first): arrival - poll p50 ${f(liveWait.percentileMs(50) / 1000)} s, max ${f(liveWait.max / 1e6)} s`,
        ]
      : []),
    `collector: mean batch ${figures.collectorMeanBatchMessages} messages, mean commit ${fmtMs(meanCommitMs)} ms (an alarm is durable one commit after its arrival), in commits ${figures.collectorCommitBusyPct}% of the time, event-loop lag p99 ${fmtMs(figures.collectorEventLoopLagP99Ms)} ms (spawn -> end of drain); VmHWM ${figures.collectorVmHwmMB} MB`,
    `agent: VmHWM ${figures.agentVmHwmMB} MB; log: ${agent.log.counts.warn} warn, ${agent.log.counts.error} error lines`,
  ];
  if (r.readyz.samples.length) {
    const ms = r.readyz.samples.map((x) => x.ms);
    lines.push(
      `readyz: polled ${ms.length} times during the drain, ${fmtMs(Math.max(...ms))} ms at most, ${fmtMs(ms.reduce((x, y) => x + y, 0) / ms.length)} ms mean`,
    );
  }
  return {
    figures,
    totals,
    checks,
    headers: HEADERS,
    rows: [row],
    lines,
    samples: { ...r.samples, backlogTimeline: r.timeline, readyz: r.readyz.samples },
    collectorLog: collector.log,
    logs: [{ name: 'agent', log: agent.log }],
    notes: NOTES,
  };
}

/** The store could not be read: no figures, one failed check. */
function failedStore(r) {
  return {
    figures: {},
    totals: {},
    checks: [check('collector SQLite file readable after stop', false, r.db.error)],
    headers: HEADERS,
    rows: [['drain', ...HEADERS.slice(1).map(() => 'n/a')]],
    lines: [],
    samples: r.samples,
    collectorLog: r.collector.log,
    logs: [{ name: 'agent', log: r.agent.log }],
    notes: NOTES,
  };
}
