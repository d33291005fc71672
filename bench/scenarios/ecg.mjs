/**
 * Scenario "ecg": streamed waveforms end to end. N simulated ECG monitors
 * (12 leads at 500 Hz by default, in the bench process, each on its own
 * terminal-server TCP port) stream to a real agent, which batches the samples
 * into data messages for a real collector. Measures samples/s stored by the
 * collector against what the monitors sent, and the agent's CPU and RSS: the
 * gateway's cost of a ward of monitors.
 */
import { startEcgSimulator } from '@medtel/simulators';
import Database from 'better-sqlite3';
import { createAbort } from '../lib/abort.mjs';
import { startAgent } from '../lib/agent.mjs';
import { collectorChecks } from '../lib/checks.mjs';
import { createTempDir, killAll } from '../lib/cleanup.mjs';
import { startCollector } from '../lib/collector.mjs';
import { metricSum, scrape } from '../lib/collector-metrics.mjs';
import { fmtInt, fmtK, round } from '../lib/format.mjs';
import { makeGateways } from '../lib/gateways.mjs';
import { freePort, HOST } from '../lib/net.mjs';
import { timedPhase } from '../lib/phases.mjs';
import { startProcSampler } from '../lib/proc-stats.mjs';
import { sleep, withTimeout } from '../lib/timing.mjs';

const SITE = 'bench';

const help = {
  summary: `Scenario "ecg": N simulated ECG monitors stream waveforms (12 leads at 500 Hz
by default) over terminal-server TCP ports to a real agent and on to a real
collector. Measures samples/s stored end to end against samples/s sent, and
the agent's CPU and RSS.`,
  options: `  --monitors N              ECG monitors (default 4)
  --leads 3|12              leads per monitor (default 12)
  --rate 250|500            samples per second per lead (default 500)
  --seconds S               measured phase (default 20)
  --warmup S                before measuring: connect, identify, first batches (default 7)`,
  quick: '1 monitor, 3 leads at 250 Hz, 4 s measured after 7 s warm-up',
};

const options = {
  monitors: { type: 'string' },
  leads: { type: 'string' },
  rate: { type: 'string' },
  seconds: { type: 'string' },
  warmup: { type: 'string' },
};

function resolveOptions({ quick, num }) {
  const leads = num('leads', quick ? 3 : 12, { min: 3, max: 12 });
  const rate = num('rate', quick ? 250 : 500, { min: 250, max: 500 });
  if (leads !== 3 && leads !== 12) throw new Error('--leads: 3 or 12');
  if (rate !== 250 && rate !== 500) throw new Error('--rate: 250 or 500');
  return {
    monitors: num('monitors', quick ? 1 : 4, { min: 1, max: 64 }),
    leads,
    rate,
    seconds: num('seconds', quick ? 4 : 20, { min: 1, max: 3600, integer: false }),
    // Waveforms reach the collector in 1 s batches, after the monitor's first info frame.
    // (the monitor announces its sample rate every 5 s; samples before that cannot be timed).
    warmup: num('warmup', 7, { min: 6, max: 600, integer: false }),
  };
}

/** Longer than the agent's 1 s waveform batches plus a commit. */
const FLUSH_MS = 3000;

const budgetMs = (opts) => (opts.warmup + opts.seconds) * 1000 + FLUSH_MS + 90_000;

/** Waveform samples (metrics ecg_*) stamped in [from, to), read-only after the collector closed the store. */
function waveformSamplesBetween(dbPath, from, to) {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const sql = "SELECT count(*) AS n FROM readings r JOIN series s ON s.id = r.series_id WHERE substr(s.metric, 1, 4) = 'ecg_' AND r.t >= ? AND r.t < ?";
    return db.prepare(sql).get(from, to).n;
  } finally {
    db.close();
  }
}

const HEADERS = [
  'scenario',
  'monitors',
  'leads x Hz',
  'samples/s sent',
  'readings/s stored',
  'window complete',
  'agent CPU %',
  'agent RSS peak MB',
  'collector CPU %',
];

async function run(opts) {
  const dir = createTempDir('medtel-bench-ecg-', { keep: opts.keep });
  const [gateway] = await makeGateways(1);
  const collector = await startCollector(dir, [gateway]);
  const abort = createAbort();
  const { guard } = abort;
  collector.unexpectedExit.then((err) => err && abort.fail(err));
  const monitors = [];
  const progress = (text) => process.stderr.write(`bench ecg: ${text}\n`);
  try {
    for (let i = 0; i < opts.monitors; i++) {
      const port = await freePort();
      const sim = await startEcgSimulator({
        link: { tcp: { host: HOST, port } },
        serial: `ECG-BENCH-${i + 1}`,
        leads: opts.leads,
        rateHz: opts.rate,
        heartRate: 72,
        seed: i + 1,
      });
      monitors.push({ id: `ecg-${i + 1}`, port, sim });
    }
    const agent = await startAgent(dir, {
      site: SITE,
      gateway,
      mqttPort: collector.mqttPort,
      stateDir: `${dir}/agent-state`,
      deviceEntries: monitors.map((m) => `{ id: ${m.id}, profile: medtel-mt-ecg-12, connection: { protocol: medtel-ecg, path: "tcp://${HOST}:${m.port}" } }`),
    });
    agent.unexpectedExit.then((err) => err && abort.fail(err));
    const agentSampler = startProcSampler(agent.pid, { intervalMs: 250 });
    const collectorSampler = startProcSampler(collector.pid, { intervalMs: 250 });
    const generated = () => monitors.reduce((n, m) => n + m.sim.samplesGenerated() * opts.leads, 0);

    try {
      await timedPhase(opts.warmup, { guard, onSecond: (i, total) => progress(`warm-up ${i}/${total} s`) });
      const before = await guard(scrape(collector.httpUrl));
      // Samples before the monitor's first info frame are reported lost (no rate, no times): count only the window's.
      const lostBefore = metricSum(await agent.metrics(), 'medtel_agent_serial_lost_samples_total');
      const windowStart = Date.now();
      const sentBefore = { at: performance.now(), n: generated() };
      const agentCpu0 = agentSampler.cpuNow();
      const collectorCpu0 = collectorSampler.cpuNow();
      let last = before;
      await timedPhase(opts.seconds, {
        guard,
        onSecond: async (i, total) => {
          const now = await scrape(collector.httpUrl).catch(() => undefined);
          if (now) progress(`${i}/${total} s, ${fmtK(((now.readings - last.readings) / (now.at - last.at)) * 1000)} readings/s stored`);
          if (now) last = now;
        },
      });
      const after = await guard(scrape(collector.httpUrl));
      const windowEnd = Date.now();
      const sentAfter = { at: performance.now(), n: generated() };
      const agentCpu1 = agentSampler.cpuNow();
      const collectorCpu1 = collectorSampler.cpuNow();
      agentSampler.stop();
      collectorSampler.stop();
      // The window's last samples are still in the agent's 1 s batches: let them arrive.
      progress('letting the last batches arrive');
      await guard(sleep(FLUSH_MS));
      const agentMetrics = await agent.metrics();

      const cpuPct = (a, b) => ((b.cpu - a.cpu) / ((b.at - a.at) / 1000)) * 100;
      const sentPerSec = ((sentAfter.n - sentBefore.n) / (sentAfter.at - sentBefore.at)) * 1000;
      const storedPerSec = ((after.readings - before.readings) / (after.at - before.at)) * 1000;
      const lost = metricSum(agentMetrics, 'medtel_agent_serial_lost_samples_total') - lostBefore;
      const frameErrors = metricSum(agentMetrics, 'medtel_agent_serial_frame_errors_total');
      const agentStopped = await agent.stop();
      const stopped = await collector.stop();
      if (collector.exitedEarly) throw abort.fatal;
      // Completeness by the samples' own times, from the store: what was taken in the window, stored once.
      const inWindow = waveformSamplesBetween(collector.dbPath, windowStart, windowEnd);
      const expectedInWindow = opts.monitors * opts.leads * opts.rate * ((windowEnd - windowStart) / 1000);

      const figures = {
        samplesPerSecSent: round(sentPerSec, 1),
        readingsPerSecStored: round(storedPerSec, 1),
        storedOverSent: round(storedPerSec / sentPerSec, 3),
        windowSamplesStored: inWindow,
        windowSamplesExpected: Math.round(expectedInWindow),
        windowCompleteness: round(inWindow / expectedInWindow, 4),
        agentCpuPctOfCore: round(cpuPct(agentCpu0, agentCpu1), 1),
        agentRssPeakMB: round(agentSampler.rssPeak / 2 ** 20, 1),
        collectorCpuPctOfCore: round(cpuPct(collectorCpu0, collectorCpu1), 1),
        collectorRssPeakMB: round(collectorSampler.rssPeak / 2 ** 20, 1),
        lostSamples: lost,
        frameErrors,
      };
      const checks = [
        // By sample time, not arrival (1 s batches in flight at the window's edges would make an
        // arrival ratio wobble): each lead holds rate x seconds samples, give or take the clock anchor.
        {
          name: 'every sample of the window stored, once',
          ok: figures.windowCompleteness >= 0.99 && figures.windowCompleteness <= 1.01,
          detail: `${fmtInt(inWindow)} of ${fmtInt(expectedInWindow)} samples stamped in the window (${figures.windowCompleteness}); arrival rate stored/sent ${figures.storedOverSent}`,
        },
        { name: 'no samples lost on the lines while measured', ok: lost === 0, detail: `${lost} lost, ${frameErrors} frame errors` },
        { name: 'agent stopped cleanly on SIGTERM', ok: agentStopped.code === 0 && !agentStopped.timedOut, detail: `exit code ${agentStopped.code}` },
        ...collectorChecks({ log: collector.log, stopped }),
      ];
      const row = [
        'ecg',
        opts.monitors,
        `${opts.leads} x ${opts.rate}`,
        fmtInt(sentPerSec),
        fmtInt(storedPerSec),
        figures.windowCompleteness.toFixed(4),
        figures.agentCpuPctOfCore.toFixed(0),
        figures.agentRssPeakMB.toFixed(0),
        figures.collectorCpuPctOfCore.toFixed(0),
      ];
      return {
        figures,
        totals: { readingsStored: after.readings },
        checks,
        headers: HEADERS,
        rows: [row],
        lines: [`measured ${opts.seconds} s after a ${opts.warmup} s warm-up; collector RSS peak ${figures.collectorRssPeakMB} MB`],
        samples: { agent: agentSampler.samples, collector: collectorSampler.samples },
        collectorLog: collector.log,
        logs: [{ name: 'agent', log: agent.log }],
        notes: [
          'Samples travel as one reading each (the contract has no waveform type yet), batched by the agent into 1 s data messages per lead.',
          'The monitors run in the bench process; agent and collector are their own processes on the same machine.',
        ],
      };
    } finally {
      agentSampler.stop();
      collectorSampler.stop();
    }
  } finally {
    await Promise.all(monitors.map((m) => withTimeout(m.sim.close(), 5000, 'closing a monitor').catch(() => undefined)));
    killAll('SIGKILL');
  }
}

export const ecg = { name: 'ecg', help, options, resolveOptions, budgetMs, run };
