/**
 * One measured phase of the `peers` scenario against a started broker: the
 * lean generator's processes connect their gateways, publish through a
 * warm-up, then a measured window (broker CPU and RSS from /proc, committed
 * counts from the broker before and after), then stop and drain their
 * in-flight PUBACKs. Returns the raw figures; peers-report.mjs turns them
 * into a row.
 */
import { startLeanFleet } from '../lib/lean-fleet.mjs';
import { HOST } from '../lib/net.mjs';
import { timedPhase } from '../lib/phases.mjs';
import { startProcSampler } from '../lib/proc-stats.mjs';
import { withTimeout } from '../lib/timing.mjs';

export const SITE = 'bench';

/**
 * `phase`: {shape: 'saturated' | 'rate', gateways: [{id, secret}], devicesPerGateway,
 * window}; `opts`: the scenario's options (readings, rate, warmup, seconds,
 * loadProcesses); `abort` from lib/abort.mjs.
 */
export async function runPhase(broker, phase, opts, { abort, progress }) {
  const { guard } = abort;
  const fleet = startLeanFleet(
    {
      host: HOST,
      ports: broker.ports,
      site: SITE,
      devicesPerGateway: phase.devicesPerGateway,
      readings: opts.readings,
      window: phase.window,
      shape: phase.shape,
      ratePerDevice: opts.rate,
      // Past saturation every connection has its whole window in flight: let it drain at the broker's pace.
      drainTimeoutMs: 30_000 + phase.gateways.length * phase.window,
    },
    phase.gateways,
    { processes: opts.loadProcesses, onError: abort.fail },
  );
  const samplers = broker.pids.map((pid) => startProcSampler(pid, { intervalMs: 250 }));
  try {
    // scrypt verification of every gateway's secret by medtel: 200 connections take a few seconds.
    await guard(withTimeout(fleet.allReady, 90_000, `waiting for ${phase.gateways.length} connections`));
    fleet.broadcast({ type: 'start' });
    let prev = { acked: 0, at: performance.now() };
    const tick = (label) => {
      const now = performance.now();
      const acked = fleet.totalAcked();
      const cpu = samplers.reduce((n, s) => n + (s.samples.at(-1)?.cpuPct ?? 0), 0);
      progress(`${label}: ${Math.round(((acked - prev.acked) / (now - prev.at)) * 1000)} msg/s, broker ${Math.round(cpu)}% CPU`);
      prev = { acked, at: now };
    };
    await timedPhase(opts.warmup, { guard, onSecond: (i, n) => tick(`warm-up ${i}/${n} s`) });

    fleet.broadcast({ type: 'measure' });
    const committedBefore = await guard(broker.committed());
    const cpuBefore = samplers.map((s) => s.cpuNow());
    const rssFrom = samplers.map((s) => s.samples.length);
    await timedPhase(opts.seconds, { guard, onSecond: (i, n) => tick(`${i}/${n} s`) });
    fleet.broadcast({ type: 'stop' });
    const cpuAfter = samplers.map((s) => s.cpuNow());
    const committedAfter = await guard(broker.committed());

    await guard(withTimeout(fleet.allResults, 45_000 + phase.gateways.length * phase.window, 'waiting for the load processes to drain and report'));
    await fleet.waitExited();
    const cpuPct = samplers.reduce((n, _, i) => n + ((cpuAfter[i].cpu - cpuBefore[i].cpu) / ((cpuAfter[i].at - cpuBefore[i].at) / 1000)) * 100, 0);
    // Peak RSS over the measured window, added over the broker's processes (replicas).
    const rssMB = samplers.reduce((n, s, i) => n + Math.max(0, ...s.samples.slice(rssFrom[i]).map((x) => x.rssMB)), 0);
    return { load: fleet.merged(), committedBefore, committedAfter, cpuPct, rssMB, seconds: (cpuAfter[0].at - cpuBefore[0].at) / 1000 };
  } finally {
    for (const s of samplers) s.stop();
  }
}
