/**
 * Scenario "drain": a gateway comes back after an outage with a backlog.
 *
 * The agent's outbox file is filled with the agent's own Outbox class (1M
 * readings by default, lib/backlog.mjs: also measures the outbox's write
 * throughput), a real collector starts, then the agent starts as its own
 * process on that outbox, with live pump simulators (lib/live-pumps.mjs)
 * whose lines occlude while the backlog drains. Measures how long the backlog
 * takes to reach the collector, readings/s, the latency of the live alarms
 * raised meanwhile (collector arrival minus the agent's alarm time), and CPU
 * and RSS of agent and collector. See bench/README.md.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createAbort } from '../lib/abort.mjs';
import { startAgent } from '../lib/agent.mjs';
import { fillBacklog } from '../lib/backlog.mjs';
import { createTempDir, killAll } from '../lib/cleanup.mjs';
import { startCollector } from '../lib/collector.mjs';
import { metricSum, scrape } from '../lib/collector-metrics.mjs';
import { fmtK } from '../lib/format.mjs';
import { makeGateways } from '../lib/gateways.mjs';
import { CLEAR_TO_END_S, OCCLUSION_TO_ALARM_S, startLivePumps } from '../lib/live-pumps.mjs';
import { checkedReadingsBytes } from '../lib/payload.mjs';
import { startProcSampler } from '../lib/proc-stats.mjs';
import { sleep } from '../lib/timing.mjs';
import { drainOutcome } from './drain-report.mjs';

const SITE = 'bench';
const OUTBOX_MAX_BYTES = '4GiB';
const POLL_MS = 100;
/** Fail if the collector receives no backlog message for this long. */
const STALL_MS = 30_000;

const help = {
  summary: `Scenario "drain": a gateway's outbox holds a backlog (1M readings by default,
written with the agent's own Outbox class); a real agent starts on it and
drains it to a real collector while live pump simulators raise occlusion
alarms. Measures fill time, drain time and readings/s, the latency of the
live alarms during the drain, agent and collector CPU and memory.`,
  options: `  --messages N              backlog data messages (default 100,000; x --readings = readings)
  --readings N              readings per message (default 10)
  --backlog-devices N       devices the backlog cycles over (default 10)
  --window W                the agent's in-flight window, collector.inflightWindow (default 100)
  --live-pumps N            live pump simulators polled every 250 ms during the drain (default 8)
  --alarm-first S           first live alarm, seconds after the agent's spawn (default 2)
  --alarm-every S           time between the pumps' alarms (default 1)
  --occlusion S             how long each pump's line stays blocked (default 7: the alarm
                            starts after 6 s and ends ~0.7 s after the line clears)
  --readyz-interval S       also poll the agent's /readyz this often during the drain (default 0:
                            only before and after; it scans the whole outbox, see README)`,
  quick: '10,000 messages, 4 pumps, alarms from 0.3 s every 0.2 s, occlusion 6.3 s',
};

const options = {
  messages: { type: 'string' },
  readings: { type: 'string' },
  'backlog-devices': { type: 'string' },
  window: { type: 'string' },
  'live-pumps': { type: 'string' },
  'alarm-first': { type: 'string' },
  'alarm-every': { type: 'string' },
  occlusion: { type: 'string' },
  'readyz-interval': { type: 'string' },
};

const resolveOptions = ({ quick, num }) => ({
  messages: num('messages', quick ? 10_000 : 100_000, { min: 1, max: 10_000_000 }),
  readings: num('readings', 10, { min: 1, max: 10_000 }),
  backlogDevices: num('backlog-devices', 10, { min: 1, max: 10_000 }),
  window: num('window', 100, { min: 1, max: 1000 }),
  // Full: 8 pumps, alarms at 2..9 s, each ~1.7 s long, inside a ~11 s drain. Quick: the
  // drain lasts ~2 s and the agent polls first at ~0.5 s, so 4 pumps, alarms at 0.3..0.9 s
  // (the first one is seen at the first poll), ~0.9 s long.
  livePumps: num('live-pumps', quick ? 4 : 8, { min: 0, max: 100 }),
  alarmFirst: num('alarm-first', quick ? 0.3 : 2, { min: 0, max: 3600, integer: false }),
  alarmEvery: num('alarm-every', quick ? 0.2 : 1, { min: 0, max: 3600, integer: false }),
  occlusion: num('occlusion', quick ? 6.3 : 7, { min: 0.1, max: 3600, integer: false }),
  readyzInterval: num('readyz-interval', 0, { min: 0, max: 3600, integer: false }),
});

// Fill (~50 us/message) + start-up + drain (well under 1 ms/message) + stop, with room.
const budgetMs = (opts) => 120_000 + opts.messages * 2;

/** Occlusion start of each pump, in seconds after the pumps are created, and how early to create them. */
export function alarmSchedule(opts) {
  // Alarm i starts at alarmFirst + i * alarmEvery after the agent's spawn; its occlusion
  // started OCCLUSION_TO_ALARM_S earlier, so the pumps are created that much before the
  // spawn (at least 0.5 s into their run, so that the pressure is settled).
  const lead = opts.livePumps > 0 ? Math.max(0, OCCLUSION_TO_ALARM_S + 0.5 - opts.alarmFirst) : 0;
  const occlusionAfterS = Array.from({ length: opts.livePumps }, (_, i) => lead + opts.alarmFirst + i * opts.alarmEvery - OCCLUSION_TO_ALARM_S);
  const alarms = occlusionAfterS.map((after) => ({
    start: after + OCCLUSION_TO_ALARM_S - lead,
    end: opts.occlusion > OCCLUSION_TO_ALARM_S ? after + opts.occlusion + CLEAR_TO_END_S - lead : undefined,
  }));
  return { lead, occlusionAfterS, alarms };
}

async function run(opts) {
  const progress = (text) => process.stderr.write(`bench drain: ${text}\n`);
  // 1. The backlog's messages must be valid, or we would measure quarantine.
  const payloadBytes = checkedReadingsBytes(opts.readings);

  // 2. The backlog: the agent's outbox file, written by its own Outbox class.
  const dir = createTempDir('medtel-bench-drain-', { keep: opts.keep });
  const [gateway] = await makeGateways(1);
  const stateDir = join(dir, 'agent-state');
  progress(`writing ${opts.messages.toLocaleString('en-US')} messages x ${opts.readings} readings into ${join(stateDir, 'outbox.db')}`);
  const fill = fillBacklog({
    file: join(stateDir, 'outbox.db'),
    site: SITE,
    gateway: gateway.id,
    maxBytes: 4 * 2 ** 30,
    messages: opts.messages,
    readings: opts.readings,
    devices: opts.backlogDevices,
  });
  if (fill.messages !== opts.messages || fill.readings !== opts.messages * opts.readings) {
    throw new Error(
      `the outbox holds ${fill.messages} messages / ${fill.readings} readings after the fill, expected ${opts.messages} / ${opts.messages * opts.readings}`,
    );
  }
  progress(
    `outbox filled in ${fill.seconds.toFixed(2)} s (${fmtK(fill.messages / fill.seconds)} msg/s, ${fill.commits} commits), seq ${fill.firstSeq}..${fill.lastSeq}`,
  );

  // 3. Live pumps, created `lead` s before the agent so their alarms fall into the drain.
  const schedule = alarmSchedule(opts);
  const live = await startLivePumps({ count: opts.livePumps, occlusionAfterS: schedule.occlusionAfterS, occlusionS: opts.occlusion });
  const abort = createAbort();
  const { guard } = abort;
  let collector;
  let agent;
  const samplers = [];
  try {
    // 4. The collector (its own process), fresh store, this one gateway.
    collector = await startCollector(dir, [gateway], { profileDir: opts.profile });
    collector.unexpectedExit.then((err) => err && abort.fail(err));
    const collectorSampler = startProcSampler(collector.pid, { intervalMs: 250 });
    samplers.push(collectorSampler);
    const waitMs = live.createdAt + schedule.lead * 1000 - Date.now();
    if (waitMs > 0) await guard(sleep(waitMs));

    // 5. The agent on the backlog: a real process; the drain starts with its spawn.
    const before = await guard(scrape(collector.httpUrl));
    const collectorCpuAtSpawn = collectorSampler.cpuNow();
    agent = await guard(
      startAgent(dir, {
        site: SITE,
        gateway,
        mqttPort: collector.mqttPort,
        stateDir,
        window: opts.window,
        maxBytes: OUTBOX_MAX_BYTES,
        pollInterval: '250ms',
        devices: live.pumps.map((p) => ({ id: p.device, port: p.port })),
      }),
    );
    agent.unexpectedExit.then((err) => err && abort.fail(err));
    const agentSampler = startProcSampler(agent.pid, { intervalMs: 250 });
    samplers.push(agentSampler);
    const pumpsOffsetS = (agent.spawnedAt - live.createdAt) / 1000;
    progress(
      `collector pid ${collector.pid}, agent pid ${agent.pid} up ${((agent.startedAt - agent.spawnedAt) / 1000).toFixed(2)} s after its spawn; ${opts.livePumps} live pumps started ${pumpsOffsetS.toFixed(2)} s before it`,
    );
    const readyzAtStart = await guard(agent.readyz());

    // 6. Until every backlog message is in the collector's store: its SQLite file,
    // read-only, every 100 ms (the outbox itself never empties: the pumps keep producing).
    const store = new Database(collector.dbPath, { readonly: true, fileMustExist: true });
    const countBacklog = store.prepare('SELECT count(*) AS n FROM received WHERE gateway = ? AND seq BETWEEN ? AND ?');
    const timeline = [];
    const readyzSamples = [];
    let received = 0;
    let lastChangeAt = performance.now();
    let lastTickAt = performance.now();
    let lastTickReceived = 0;
    let nextReadyzAt = opts.readyzInterval > 0 ? performance.now() : Number.POSITIVE_INFINITY;
    try {
      for (;;) {
        const now = performance.now();
        const n = countBacklog.get(gateway.id, fill.firstSeq, fill.lastSeq).n;
        if (n !== received) lastChangeAt = now;
        received = n;
        if (now >= nextReadyzAt) {
          nextReadyzAt = now + opts.readyzInterval * 1000;
          const t0 = performance.now();
          const r = await guard(agent.readyz());
          readyzSamples.push({ t: (Date.now() - agent.spawnedAt) / 1000, rows: r.outbox?.rows, ms: performance.now() - t0 });
        }
        if (received >= fill.messages) break;
        if (now - lastChangeAt > STALL_MS)
          throw new Error(`no backlog message reached the collector for ${STALL_MS / 1000} s (${received} of ${fill.messages} stored)`);
        if (now - lastTickAt >= 1000) {
          const rate = ((received - lastTickReceived) / (now - lastTickAt)) * 1000;
          timeline.push({ t: (Date.now() - agent.spawnedAt) / 1000, received, msgPerSec: Math.round(rate) });
          progress(
            `${((Date.now() - agent.spawnedAt) / 1000).toFixed(0)} s: ${received.toLocaleString('en-US')} of ${fill.messages.toLocaleString('en-US')} backlog messages stored, ${fmtK(rate)} msg/s, agent ${Math.round(agentSampler.samples.at(-1)?.cpuPct ?? 0)}% / collector ${Math.round(collectorSampler.samples.at(-1)?.cpuPct ?? 0)}% CPU`,
          );
          lastTickAt = now;
          lastTickReceived = received;
        }
        await guard(sleep(POLL_MS));
      }
    } finally {
      store.close();
    }
    const detectedAt = Date.now();
    const agentCpuAtEnd = agentSampler.cpuNow();
    const collectorCpuAtEnd = collectorSampler.cpuNow();
    const after = await guard(scrape(collector.httpUrl));
    progress(`backlog stored ${((detectedAt - agent.spawnedAt) / 1000).toFixed(2)} s after the agent's spawn (seen by polling)`);

    // 7. After the drain: outbox rows left, and every alarm phase the agent has raised
    // so far acknowledged (they go before telemetry; give them up to 3 s).
    const readyzAtEnd = await guard(agent.readyz());
    let agentAlarms;
    const alarmWaitUntil = performance.now() + 3000;
    for (;;) {
      const m = await guard(agent.metrics());
      agentAlarms = {
        raised: metricSum(m, 'medtel_agent_alarms_total'),
        starts: metricSum(m, 'medtel_agent_alarms_total', { phase: 'start' }),
        ends: metricSum(m, 'medtel_agent_alarms_total', { phase: 'end' }),
        acked: metricSum(m, 'medtel_agent_published_total', { kind: 'alarm' }),
        uplinkConnects: metricSum(m, 'medtel_agent_uplink_connects_total', { result: 'ok' }),
        uplinkFailures: metricSum(m, 'medtel_agent_uplink_connects_total', { result: 'failed' }),
        dropped: metricSum(m, 'medtel_agent_outbox_dropped_total'),
        at: Date.now(),
      };
      if (agentAlarms.acked >= agentAlarms.raised || performance.now() > alarmWaitUntil) break;
      await guard(sleep(100));
    }

    // 8. Stop: agent (SIGTERM, must exit 0), pumps, collector; then read the store.
    agentSampler.stop();
    collectorSampler.stop();
    const agentStopped = await agent.stop();
    await live.close();
    const final = await scrape(collector.httpUrl);
    const collectorStopped = await collector.stop();
    if (collector.exitedEarly || agent.exitedEarly) throw abort.fatal;

    const db = readStore(collector.dbPath, gateway.id, fill);
    const outboxLeft = readOutbox(join(stateDir, 'outbox.db'));

    return drainOutcome({
      opts,
      payloadBytes,
      fill,
      schedule,
      live,
      pumpsOffsetS,
      agent,
      collector,
      detectedAt,
      cpu: {
        // The agent's CPU time is counted from its start (it is a fresh process).
        agentSeconds: agentCpuAtEnd.cpu,
        agentWindowS: (detectedAt - agent.spawnedAt) / 1000,
        collectorSeconds: collectorCpuAtEnd.cpu - collectorCpuAtSpawn.cpu,
        collectorWindowS: (collectorCpuAtEnd.at - collectorCpuAtSpawn.at) / 1000,
      },
      samples: { agent: agentSampler.samples, collector: collectorSampler.samples },
      rss: {
        agentPeak: agentSampler.rssPeak,
        agentHwm: agentSampler.hwm,
        collectorPeak: collectorSampler.rssPeak,
        collectorHwm: collectorSampler.hwm,
      },
      metrics: { before, after, final },
      readyz: { atStart: readyzAtStart, atEnd: readyzAtEnd, samples: readyzSamples },
      agentAlarms,
      timeline,
      agentStopped,
      collectorStopped,
      db,
      outboxLeft,
    });
  } finally {
    for (const s of samplers) s.stop();
    await live.close().catch(() => undefined);
    killAll('SIGKILL');
  }
}

/** What the collector stored, read-only after it stopped: the backlog's rows, alarms and live data with arrival times, quarantine, gaps. */
function readStore(dbPath, gateway, fill) {
  let conn;
  try {
    conn = new Database(dbPath, { readonly: true, fileMustExist: true });
    const one = (sql, ...args) => conn.prepare(sql).get(...args);
    const backlog = one(
      "SELECT count(*) AS n, sum(kind = 'data') AS data, min(received_at) AS firstAt, max(received_at) AS lastAt FROM received WHERE gateway = ? AND seq BETWEEN ? AND ?",
      gateway,
      fill.firstSeq,
      fill.lastSeq,
    );
    // readings has no gateway column; this store holds one gateway only.
    const backlogReadings = one('SELECT count(*) AS n FROM readings WHERE seq BETWEEN ? AND ?', fill.firstSeq, fill.lastSeq).n;
    const alarms = conn
      .prepare(
        `SELECT a.device_id AS device, a.alarm, a.phase, a.t, a.seq, r.received_at AS receivedAt
           FROM alarms a JOIN received r ON r.gateway = ? AND r.seq = a.seq
          WHERE a.device_id LIKE ? ORDER BY a.t`,
      )
      .all(gateway, `${gateway}.%`);
    const alarmRows = one('SELECT count(*) AS n FROM alarms WHERE device_id LIKE ?', `${gateway}.%`).n;
    // The live pumps' data (seq after the backlog): arrival and poll time (its newest reading).
    const polledAt = new Map(conn.prepare('SELECT seq, max(t) AS t FROM readings WHERE seq > ? GROUP BY seq').raw().all(fill.lastSeq));
    const liveData = conn
      .prepare("SELECT seq, received_at AS receivedAt FROM received WHERE gateway = ? AND kind = 'data' AND seq > ?")
      .all(gateway, fill.lastSeq)
      .map((row) => ({ ...row, t: polledAt.get(row.seq) }));
    return {
      received: one('SELECT count(*) AS n FROM received WHERE gateway = ?', gateway).n,
      byKind: Object.fromEntries(
        conn
          .prepare('SELECT kind, count(*) AS n FROM received WHERE gateway = ? GROUP BY kind')
          .all(gateway)
          .map((r) => [r.kind, r.n]),
      ),
      backlog: { messages: backlog.n, data: backlog.data ?? 0, readings: backlogReadings, firstAt: backlog.firstAt, lastAt: backlog.lastAt },
      alarms,
      alarmRows,
      liveData,
      quarantined: one('SELECT count(*) AS n FROM quarantine').n,
      gaps: one('SELECT count(*) AS n FROM gaps').n,
    };
  } catch (err) {
    return { error: err.message };
  } finally {
    conn?.close();
  }
}

/** Rows left in the agent's outbox after it stopped (the live pumps' last messages, if any), by kind. */
function readOutbox(file) {
  try {
    const conn = new Database(file, { readonly: true, fileMustExist: true });
    const rows = conn.prepare('SELECT kind, count(*) AS n FROM outbox GROUP BY kind').all();
    conn.close();
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  } catch (err) {
    return { error: err.message };
  }
}

export const drain = { name: 'drain', help, options, resolveOptions, budgetMs, run };
