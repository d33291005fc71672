/**
 * Scenario "peers": medtel side by side with the brokers users would
 * otherwise pick, on the same machine and under the same load (issue #13):
 * raw Aedes, mosquitto, a bare durable relay (the floor cost of committing
 * before the PUBACK), the collector on SQLite, on PostgreSQL with 1 and 2
 * replicas. Each broker runs a saturated phase and a fixed-rate phase; the
 * collector on SQLite also runs the scale curve, and then a profiled
 * saturated run says where its CPU goes. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hashSecret } from '@medtel/collector';
import { createAbort } from '../lib/abort.mjs';
import { createTempDir, killAll } from '../lib/cleanup.mjs';
import { summarizeCpuProfile } from '../lib/cpu-profile.mjs';
import { PG_PEERS } from '../lib/medtel-pg.mjs';
import { checkedPayloadBytes } from '../lib/payload.mjs';
import { PEERS } from '../lib/peer-brokers.mjs';
import { runPhase } from './peers-phase.mjs';
import { durableChecks, HEADERS, NOTES, phaseChecks, phaseFigures, row, shapeLabel, skippedRow } from './peers-report.mjs';

const ALL = [...PEERS, ...PG_PEERS];

const help = {
  summary: `Scenario "peers": raw Aedes, mosquitto, a bare durable relay (Aedes + SQLite
commit before PUBACK), medtel on SQLite and on PostgreSQL (1 and 2 replicas)
under the same lean load, saturated and at a fixed rate; one table. Then the
scale curve of medtel on SQLite and a CPU profile of it at saturation.`,
  options: `  --peers LIST              which rows (default all: ${ALL.map((p) => p.name).join(',')})
  --devices N               devices of the fixed-rate phase (default 10000)
  --devices-per-gateway N   devices per gateway connection (default 50)
  --rate R                  data messages per device per second (default 1)
  --readings N              readings per data message (default 10)
  --sat-gateways N          connections of the saturated phase (default 8)
  --window W                unacknowledged PUBLISHes per connection (default 100)
  --seconds S               measured window of each phase (default 10)
  --warmup S                publishing before each measured window (default 2)
  --load-processes N        lean generator processes (default 2)
  --scale LIST              device counts of medtel-sqlite's scale curve (default
                            100,1000,10000,20000; "none" to skip)
  --skip-profile            no profiled saturated run of medtel-sqlite`,
  quick: '1,000 devices, 4 saturated connections, 3 s measured, 1 s warm-up, no scale curve or profile',
};

const options = {
  peers: { type: 'string' },
  devices: { type: 'string' },
  'devices-per-gateway': { type: 'string' },
  rate: { type: 'string' },
  readings: { type: 'string' },
  'sat-gateways': { type: 'string' },
  window: { type: 'string' },
  seconds: { type: 'string' },
  warmup: { type: 'string' },
  'load-processes': { type: 'string' },
  scale: { type: 'string' },
  'skip-profile': { type: 'boolean', default: false },
};

function listOption(raw, fallback, parse) {
  if (raw === undefined) return fallback;
  if (raw === 'none') return [];
  return raw.split(',').map(parse);
}

const resolveOptions = ({ quick, num, values }) => {
  const peers = listOption(
    values.peers,
    ALL.map((p) => p.name),
    (s) => {
      if (!ALL.some((p) => p.name === s)) throw new Error(`--peers: unknown ${s}; expected some of ${ALL.map((p) => p.name).join(',')}`);
      return s;
    },
  );
  const scale = listOption(values.scale, quick ? [] : [100, 1000, 10_000, 20_000], (s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`--scale: ${s} is not a device count from 1 to 100000`);
    return n;
  });
  return {
    peers,
    devices: num('devices', quick ? 1000 : 10_000, { min: 1, max: 100_000 }),
    devicesPerGateway: num('devices-per-gateway', 50, { min: 1, max: 1000 }),
    rate: num('rate', 1, { min: 0.01, max: 1000, integer: false }),
    readings: num('readings', 10, { min: 1, max: 1000 }),
    satGateways: num('sat-gateways', quick ? 4 : 8, { min: 1, max: 200 }),
    window: num('window', 100, { min: 1, max: 1000 }),
    seconds: num('seconds', quick ? 3 : 10, { min: 0.5, max: 3600, integer: false }),
    warmup: num('warmup', quick ? 1 : 2, { min: 0, max: 600, integer: false }),
    loadProcesses: num('load-processes', 2, { min: 1, max: 16 }),
    scale,
    skipProfile: quick || values['skip-profile'],
  };
};

/** Phases per broker: saturated, the fixed rate, and (medtel-sqlite) the scale curve. */
function phasesFor(peer, opts) {
  const rate = (devices) => ({ shape: 'rate', devices, window: opts.window });
  const list = [{ shape: 'saturated', connections: opts.satGateways, window: opts.window }, rate(opts.devices)];
  if (peer.name === 'medtel-sqlite') for (const d of opts.scale) if (d !== opts.devices) list.push({ ...rate(d), scale: true });
  return list;
}

const phaseCount = (opts) => opts.peers.reduce((n, name) => n + phasesFor({ name }, opts).length, 0);

// Each phase: connect (scrypt per gateway: ~40 ms each) + warm-up + measured + drain; plus starts and the profile run.
const budgetMs = (opts) => phaseCount(opts) * ((opts.warmup + opts.seconds) * 1000 + 120_000) + opts.peers.length * 30_000 + 120_000;

/** Gateway ids per phase (a collector de-duplicates by (gateway, seq), so every phase gets fresh ids), all with one secret. */
function gatewaysFor(phases, opts, secret) {
  return phases.map((p, k) => {
    const n = p.shape === 'saturated' ? p.connections : Math.ceil(p.devices / opts.devicesPerGateway);
    return Array.from({ length: n }, (_, i) => ({ id: `gw-${k + 1}-${i + 1}`, secret }));
  });
}

async function run(opts) {
  checkedPayloadBytes(opts.readings);
  const dir = createTempDir('medtel-bench-peers-', { keep: opts.keep });
  // One secret and one scrypt hash for every gateway: hashing hundreds would only slow the start.
  const secret = randomBytes(24).toString('base64url');
  const secretHash = await hashSecret(secret);
  const progress = (text) => process.stderr.write(`bench peers: ${text}\n`);

  const rows = [];
  const figures = [];
  const checks = [];
  const skipped = [];
  const logs = [];
  const bareByShape = new Map();
  for (const name of opts.peers) {
    const peer = ALL.find((p) => p.name === name);
    const phases = phasesFor(peer, opts);
    const gatewaySets = gatewaysFor(phases, opts, secret);
    const labelOf = (p, k) => shapeLabel({ ...p, gateways: gatewaySets[k], devicesPerGateway: opts.devicesPerGateway }, opts);
    const reason = await peer.available();
    if (reason) {
      progress(`${peer.name}: ${reason}`);
      skipped.push({ peer: peer.name, reason });
      for (const [k, p] of phases.entries()) rows.push(skippedRow(peer.label, labelOf(p, k), reason));
      continue;
    }
    const peerDir = join(dir, peer.name);
    mkdirSync(peerDir);
    const abort = createAbort();
    const broker = await peer.start(
      peerDir,
      gatewaySets.flat().map((g) => ({ id: g.id, secretHash })),
    );
    broker.exited.then(() => abort.fail(new Error(`${peer.name} exited during the run`)));
    let acked = 0;
    try {
      for (const [k, p] of phases.entries()) {
        const phase = { ...p, gateways: gatewaySets[k], devicesPerGateway: p.shape === 'saturated' ? 10 : opts.devicesPerGateway };
        const label = labelOf(p, k);
        progress(`${peer.name}: ${label}`);
        const m = await runPhase(broker, phase, opts, { abort, progress: (t) => progress(`${peer.name} ${p.shape}: ${t}`) });
        const f = { ...phaseFigures(peer, phase, m), label, scale: !!p.scale };
        acked += f.totals.acked;
        figures.push(f);
        checks.push(...phaseChecks(`${peer.name} ${label}`, f));
        if (peer.name === 'bare-durable') bareByShape.set(`${p.shape}/${p.devices ?? ''}`, f);
        rows.push(row(f, peer.label, bareByShape.get(`${p.shape}/${p.devices ?? ''}`)));
      }
      const committed = await broker.committed();
      abort.fail(new Error('stopping')); // the broker's exit is expected from here on
      const stopped = await broker.stop();
      if (peer.durable) checks.push(...durableChecks(peer.name, { acked, readingsPerMessage: opts.readings, committed, stopped }));
      if (broker.log) {
        logs.push({ name: peer.name, log: broker.log });
        checks.push({
          name: `${peer.name}: no warn/error line logged`,
          ok: broker.log.counts.warn + broker.log.counts.error + broker.log.counts.fatal === 0,
          detail: JSON.stringify(broker.log.counts),
        });
      }
    } finally {
      killAll('SIGKILL');
    }
  }

  const profile = opts.skipProfile || !opts.peers.includes('medtel-sqlite') ? undefined : await profiledRun(dir, opts, secret, secretHash, progress);
  return outcome({ opts, rows, figures, checks, skipped, logs, profile });
}

/** medtel-sqlite at saturation under `node --cpu-prof`: top self-time functions and categories. */
async function profiledRun(dir, opts, secret, secretHash, progress) {
  const peer = PEERS.find((p) => p.name === 'medtel-sqlite');
  const profileDir = opts.profile ?? join(dir, 'profile');
  const peerDir = join(dir, 'medtel-sqlite-profiled');
  mkdirSync(peerDir);
  mkdirSync(profileDir, { recursive: true });
  const before = new Set(readdirSync(profileDir));
  const gateways = Array.from({ length: opts.satGateways }, (_, i) => ({ id: `gw-p-${i + 1}`, secret }));
  const broker = await peer.start(
    peerDir,
    gateways.map((g) => ({ id: g.id, secretHash })),
    { profileDir },
  );
  const abort = createAbort();
  try {
    progress('medtel-sqlite: profiled saturated run (node --cpu-prof)');
    const m = await runPhase(broker, { shape: 'saturated', gateways, devicesPerGateway: 10, window: opts.window }, opts, { abort, progress });
    await broker.stop();
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
    if (!file) return { error: 'no .cpuprofile written' };
    return {
      file: join(profileDir, file),
      msgPerSecUnderProfiler: Math.round(m.load.measuredAcked / m.load.measuredSeconds),
      ...summarizeCpuProfile(join(profileDir, file)),
    };
  } finally {
    killAll('SIGKILL');
  }
}

function outcome({ opts, rows, figures, checks, skipped, logs, profile }) {
  const lines = [];
  const gen = figures.map((f) => f.generatorCpuPct).filter(Number.isFinite);
  if (gen.length) lines.push(`generator: lean, ${opts.loadProcesses} processes; its CPU peaked at ${Math.max(...gen)}% (of one core) in a phase`);
  for (const s of skipped) lines.push(`skipped ${s.peer}: ${s.reason}`);
  for (const f of figures.filter((x) => x.meanBatch !== null && !x.scale))
    lines.push(`commits ${f.peer} ${f.label}: ${f.meanBatch} msg/commit, ${f.meanCommitMs} ms/commit, ${f.commitBusyPct}% of the time committing`);
  const scale = figures.filter((f) => f.peer === 'medtel-sqlite' && f.shape === 'rate').sort((a, b) => a.devices - b.devices);
  if (scale.length > 1) {
    lines.push('scale curve (medtel-sqlite, fixed rate):');
    for (const f of scale)
      lines.push(
        `  ${f.devices} devices: offered ${Math.round(f.offeredMsgPerSec)} msg/s, acked ${Math.round(f.msgPerSec)}, p99 ${f.pubackMs.p99} ms, collector ${f.brokerCpuPct}% CPU, ${f.meanBatch} msg/commit, ${f.meanCommitMs} ms/commit`,
      );
  }
  if (profile && !profile.error) {
    lines.push(`profile (medtel-sqlite saturated, ${profile.msgPerSecUnderProfiler} msg/s under the profiler): self time by category`);
    for (const c of profile.categories.slice(0, 8)) lines.push(`  ${c.category}: ${c.pct}%`);
    lines.push(
      `  top functions: ${profile.top
        .slice(0, 6)
        .map((t) => `${t.name} (${t.where}) ${t.pct}%`)
        .join('; ')}`,
    );
  } else if (profile?.error) lines.push(`profile: ${profile.error}`);
  return { headers: HEADERS, rows, lines, figures: { rows: figures, profile, skipped }, totals: {}, checks, samples: [], logs, notes: NOTES };
}

export const peers = { name: 'peers', help, options, resolveOptions, budgetMs, run };
