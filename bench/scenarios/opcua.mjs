/**
 * Scenario "opcua": one agent subscribed to 2 OPC UA servers x 500 variables
 * sampled at 10 Hz (every variable changes every 100 ms, no deadband): how
 * many notifications per second the agent carries to the collector, and the
 * agent's CPU and RSS meanwhile. Servers and collector are their own
 * processes on loopback. See bench/README.md.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAbort } from '../lib/abort.mjs';
import { startAgent } from '../lib/agent.mjs';
import { createTempDir, killAll } from '../lib/cleanup.mjs';
import { startCollector } from '../lib/collector.mjs';
import { metricSum, scrape } from '../lib/collector-metrics.mjs';
import { fmtInt, fmtK, round } from '../lib/format.mjs';
import { makeGateways } from '../lib/gateways.mjs';
import { freePort } from '../lib/net.mjs';
import { startProcSampler } from '../lib/proc-stats.mjs';
import { sleep } from '../lib/timing.mjs';

const SERVER_CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'opcua-server-child.mjs');

const help = {
  summary: `Scenario "opcua": one agent subscribed to OPC UA servers (2 x 500 variables by
default) sampled every 100 ms, every variable changing each time. Measures the
notifications/s the agent turns into readings and the collector stores, and the
agent's CPU and RSS.`,
  options: `  --servers N               OPC UA servers, each its own process (default 2)
  --variables N             variables per server (default 500)
  --seconds S               measuring window after the subscriptions are up (default 30)`,
  quick: '2 servers x 100 variables, 10 s',
};

const options = { servers: { type: 'string' }, variables: { type: 'string' }, seconds: { type: 'string' } };

const resolveOptions = ({ quick, num }) => ({
  servers: num('servers', 2, { min: 1, max: 20 }),
  variables: num('variables', quick ? 100 : 500, { min: 1, max: 5000 }),
  seconds: num('seconds', quick ? 10 : 30, { min: 2, max: 3600 }),
});

const budgetMs = (opts) => 180_000 + opts.seconds * 1000;

function profileYaml(variables) {
  const lines = [
    'profile: bench-opcua',
    'type: bench',
    'manufacturer: medtel bench',
    'model: BENCH-UA',
    'protocols: [opcua]',
    'driver: { namespace: "urn:medtel:bench", samplingInterval: 100ms }',
    'identity: { serial: { read: { path: Device/Identity/SerialNumber } } }',
    'metrics:',
  ];
  for (let i = 0; i < variables; i++) lines.push(`  - { id: v${String(i).padStart(3, '0')}, read: { path: Device/Bench/V${String(i).padStart(3, '0')} } }`);
  return `${lines.join('\n')}\n`;
}

/** Starts one server process; resolves with {port, pid, child} once it printed "ready". */
async function startServer(dir, i, variables) {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER_CHILD, String(port), String(variables), join(dir, `server-${i}-pki`)], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`OPC UA server ${i} did not start within 30 s: ${out.slice(-500)}`)), 30_000);
    child.stdout.on('data', (c) => {
      out += c;
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    child.once('exit', (code) => reject(new Error(`OPC UA server ${i} exited (${code}): ${out.slice(-500)}`)));
  });
  return { port, pid: child.pid, child };
}

async function run(opts) {
  const progress = (text) => process.stderr.write(`bench opcua: ${text}\n`);
  const dir = createTempDir('medtel-bench-opcua-', { keep: opts.keep });
  const [gateway] = await makeGateways(1);
  writeFileSync(join(dir, 'bench-opcua.yaml'), profileYaml(opts.variables));
  const servers = [];
  const abort = createAbort();
  const { guard } = abort;
  try {
    for (let i = 0; i < opts.servers; i++) servers.push(await startServer(dir, i, opts.variables));
    progress(`${opts.servers} OPC UA servers x ${opts.variables} variables up (pids ${servers.map((s) => s.pid).join(', ')})`);
    const collector = await startCollector(dir, [gateway], { profileDir: opts.profile });
    collector.unexpectedExit.then((err) => err && abort.fail(err));
    const agent = await guard(
      startAgent(dir, {
        site: 'bench',
        gateway,
        mqttPort: collector.mqttPort,
        stateDir: join(dir, 'agent-state'),
        devices: servers.map((s, i) => ({
          yaml: `{ id: ua-${i + 1}, profile: ./bench-opcua.yaml, connection: { protocol: opcua, endpoint: "opc.tcp://127.0.0.1:${s.port}/medtel", publishingInterval: 100ms } }`,
        })),
      }),
    );
    agent.unexpectedExit.then((err) => err && abort.fail(err));
    const agentSampler = startProcSampler(agent.pid, { intervalMs: 500 });
    const collectorSampler = startProcSampler(collector.pid, { intervalMs: 500 });
    // Subscriptions up: every device has sent readings.
    const upBy = Date.now() + 60_000;
    for (;;) {
      const m = await guard(agent.metrics());
      const devices = new Set(m.filter((s) => s.name === 'medtel_agent_readings_total' && s.value > 0).map((s) => s.labels.device));
      if (devices.size === opts.servers) break;
      if (Date.now() > upBy) throw new Error(`only ${devices.size} of ${opts.servers} OPC UA devices delivered readings within 60 s`);
      await guard(sleep(250));
    }
    progress(`subscriptions up ${((Date.now() - agent.spawnedAt) / 1000).toFixed(1)} s after the agent's spawn; measuring ${opts.seconds} s`);
    await guard(sleep(2000)); // settle
    const a0 = metricSum(await guard(agent.metrics()), 'medtel_agent_readings_total');
    const c0 = (await guard(scrape(collector.httpUrl))).readings;
    const cpuA0 = agentSampler.cpuNow();
    const cpuC0 = collectorSampler.cpuNow();
    await guard(sleep(opts.seconds * 1000));
    const a1 = metricSum(await guard(agent.metrics()), 'medtel_agent_readings_total');
    const c1 = (await guard(scrape(collector.httpUrl))).readings;
    const cpuA1 = agentSampler.cpuNow();
    const cpuC1 = collectorSampler.cpuNow();
    agentSampler.stop();
    collectorSampler.stop();
    const secs = (cpuA1.at - cpuA0.at) / 1000;
    const expected = opts.servers * opts.variables * 10;
    const agentRate = (a1 - a0) / secs;
    const collectorRate = (c1 - c0) / secs;
    const agentCpu = ((cpuA1.cpu - cpuA0.cpu) / secs) * 100;
    const collectorCpu = ((cpuC1.cpu - cpuC0.cpu) / ((cpuC1.at - cpuC0.at) / 1000)) * 100;
    const rssMB = agentSampler.samples.at(-1)?.rssMB;
    await agent.stop();
    await collector.stop();
    const figures = {
      servers: opts.servers,
      variables: opts.variables,
      expectedPerSec: expected,
      agentNotificationsPerSec: round(agentRate, 0),
      collectorReadingsPerSec: round(collectorRate, 0),
      agentCpuPct: round(agentCpu, 1),
      agentRssMB: rssMB,
      agentRssPeakMB: round(agentSampler.rssPeak / 2 ** 20, 1),
      collectorCpuPct: round(collectorCpu, 1),
    };
    const ratio = agentRate / expected;
    return {
      headers: ['servers x vars', 'expected/s', 'agent notif/s', 'collector readings/s', 'agent CPU %', 'agent RSS MB', 'collector CPU %'],
      rows: [
        [
          `${opts.servers} x ${opts.variables}`,
          fmtInt(expected),
          fmtK(agentRate),
          fmtK(collectorRate),
          agentCpu.toFixed(0),
          String(rssMB),
          collectorCpu.toFixed(0),
        ],
      ],
      lines: [`agent RSS peak ${figures.agentRssPeakMB} MB; 100 % CPU = one core`],
      figures,
      totals: {},
      checks: [
        { name: 'agent keeps up', ok: ratio > 0.9, detail: `${(ratio * 100).toFixed(0)} % of ${fmtInt(expected)} notifications/s turned into readings` },
        {
          name: 'collector keeps up',
          ok: collectorRate > agentRate * 0.9,
          detail: `${fmtK(collectorRate)} of ${fmtK(agentRate)} readings/s stored`,
        },
      ],
      samples: { agent: agentSampler.samples, collector: collectorSampler.samples },
      notes: 'OPC UA servers run in their own processes on the same machine and compete for its cores.',
    };
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    killAll('SIGKILL');
  }
}

export const opcua = { name: 'opcua', help, options, resolveOptions, budgetMs, run };
