/**
 * Scenario "ingest" (the default): the collector's durable ingest path end to end.
 *
 * Starts a real collector (its own process) on loopback with a fresh SQLite
 * store in a temp dir, then N gateway load processes (lib/gateway-load.mjs),
 * each one MQTT connection publishing QoS 1 data messages with a fixed
 * in-flight window. Measures PUBACK latency at the clients, committed
 * readings/s from the collector's own /metrics, and the collector's CPU and
 * RSS from /proc. See bench/README.md.
 */
import { mkdirSync } from 'node:fs';
import { createAbort } from '../lib/abort.mjs';
import { createTempDir, killAll } from '../lib/cleanup.mjs';
import { startCollector } from '../lib/collector.mjs';
import { startTraceSink } from '../lib/trace-sink.mjs';
import { scrape } from '../lib/collector-metrics.mjs';
import { fmtK } from '../lib/format.mjs';
import { makeGateways } from '../lib/gateways.mjs';
import { startLoadFleet } from '../lib/load-fleet.mjs';
import { HOST } from '../lib/net.mjs';
import { checkedPayloadBytes } from '../lib/payload.mjs';
import { timedPhase } from '../lib/phases.mjs';
import { startProcSampler } from '../lib/proc-stats.mjs';
import { countStore } from '../lib/store-count.mjs';
import { withTimeout } from '../lib/timing.mjs';
import { ingestOutcome } from './ingest-report.mjs';

const SITE = 'bench';

const help = {
  summary: `Scenario "ingest": N gateways publish QoS 1 data messages to a real collector
as fast as their in-flight window allows; measures durable ingest throughput,
PUBACK latency, collector CPU and memory.`,
  options: `  --gateways N              gateway connections, one process each (default 4)
  --devices-per-gateway N   devices each gateway cycles over (default 10)
  --readings N              readings per data message (default 10)
  --seconds S               duration of the measured phase (default 15)
  --window W                unacknowledged QoS 1 messages per connection (default 100)
  --warmup S                publishing before the measured phase (default 2)
  --trace-ratio R           tracing on in the collector (OTLP to a sink in the bench) and
                            this share of messages carrying a sampled traceparent, as the
                            agent's default sampler sends them (e.g. 0.01; default 0: off)`,
  quick: '3 s measured, 1 s warm-up, 2 gateways',
};

const options = {
  gateways: { type: 'string' },
  'devices-per-gateway': { type: 'string' },
  readings: { type: 'string' },
  seconds: { type: 'string' },
  window: { type: 'string' },
  warmup: { type: 'string' },
  'trace-ratio': { type: 'string' },
};

const resolveOptions = ({ quick, num }) => ({
  gateways: num('gateways', quick ? 2 : 4, { min: 1, max: 200 }),
  devicesPerGateway: num('devices-per-gateway', 10, { min: 1, max: 10_000 }),
  readings: num('readings', 10, { min: 1, max: 10_000 }),
  seconds: num('seconds', quick ? 3 : 15, { min: 0.5, max: 3600, integer: false }),
  // mqtt.js hangs once 65,535 packet ids are in use (STACK-NOTES): stay well below.
  window: num('window', 100, { min: 1, max: 60_000 }),
  warmup: num('warmup', quick ? 1 : 2, { min: 0, max: 600, integer: false }),
  traceRatio: num('trace-ratio', 0, { min: 0, max: 1, integer: false }),
});

// Start-up + warm-up + measured + drain + stop.
const budgetMs = (opts) => (opts.warmup + opts.seconds) * 1000 + 90_000;

async function run(opts) {
  // 1. The payload we are about to send must be valid, or we would measure quarantine.
  const payloadBytes = checkedPayloadBytes(opts.readings);

  // 2. Collector with N gateways (random secrets) in a temp dir.
  const dir = createTempDir('medtel-bench-', { keep: opts.keep });
  const gateways = await makeGateways(opts.gateways);
  if (opts.profile) mkdirSync(opts.profile, { recursive: true });
  const traceSink = opts.traceRatio > 0 ? await startTraceSink() : undefined;
  const collector = await startCollector(dir, gateways, { profileDir: opts.profile, env: traceSink?.env });
  // Any failure (load process, collector) aborts the waits below.
  const abort = createAbort();
  const { guard } = abort;
  collector.unexpectedExit.then((err) => err && abort.fail(err));

  // 3. Sample the collector's RSS and CPU every 250 ms.
  const sampler = startProcSampler(collector.pid, { intervalMs: 250 });

  // 4. Load processes.
  const fleet = startLoadFleet(
    gateways.map((g) => ({
      host: HOST,
      port: collector.mqttPort,
      site: SITE,
      gateway: g.id,
      secret: g.secret,
      devices: opts.devicesPerGateway,
      readings: opts.readings,
      window: opts.window,
      traceRatio: opts.traceRatio,
      drainTimeoutMs: 10_000,
    })),
    { onError: abort.fail },
  );
  const progress = (text) => process.stderr.write(`bench ingest: ${text}\n`);

  try {
    await guard(withTimeout(fleet.allReady, 20_000, `waiting for ${opts.gateways} gateway connections`));
    progress(`collector pid ${collector.pid}, ${opts.gateways} gateways connected, ${payloadBytes} B/message; warm-up ${opts.warmup} s`);

    // Warm-up: publishing, not measured.
    fleet.broadcast({ type: 'start' });
    let prevAcked = 0;
    let prevAt = performance.now();
    const tick = (label) => {
      const now = performance.now();
      const acked = fleet.totalAcked();
      const rate = ((acked - prevAcked) / (now - prevAt)) * 1000;
      const cpu = sampler.samples.at(-1)?.cpuPct ?? 0;
      progress(`${label}, ${fmtK(rate)} msg/s, collector ${Math.round(cpu)}% CPU`);
      prevAcked = acked;
      prevAt = now;
    };
    await timedPhase(opts.warmup, { guard, onSecond: (i, total) => tick(`warm-up ${i}/${total} s`) });

    // Measured phase.
    fleet.broadcast({ type: 'measure' });
    const before = await guard(scrape(collector.httpUrl));
    const cpuBefore = sampler.cpuNow();
    await timedPhase(opts.seconds, { guard, onSecond: (i, total) => tick(`${i}/${total} s`) });
    fleet.broadcast({ type: 'stop' });
    const after = await guard(scrape(collector.httpUrl));
    const cpuAfter = sampler.cpuNow();

    // Drain: every load process waits for its in-flight PUBACKs, then reports.
    await guard(withTimeout(fleet.allResults, 15_000, 'waiting for the load processes to drain and report'));
    await fleet.waitExited();
    const final = await scrape(collector.httpUrl);
    sampler.stop();
    sampler.sampleNow();

    const stopped = await collector.stop();
    if (collector.exitedEarly) throw abort.fatal;

    // Independent count from the SQLite file itself (read-only, after the collector closed it).
    const db = await countStore(collector.dbPath);

    return ingestOutcome({
      opts,
      payloadBytes,
      results: fleet.results(),
      before,
      after,
      final,
      cpuBefore,
      cpuAfter,
      samples: sampler.samples,
      rssPeak: sampler.rssPeak,
      hwm: sampler.hwm,
      collector,
      stopped,
      db,
    });
  } finally {
    traceSink?.close();
    sampler.stop();
    killAll('SIGKILL');
  }
}

export const ingest = { name: 'ingest', help, options, resolveOptions, budgetMs, run };
