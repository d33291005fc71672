#!/usr/bin/env node
/**
 * `npm run bench`: measures the collector's durable ingest path end to end.
 *
 * Starts a real collector (`medtel-collector run`, its own process) on loopback
 * with a fresh SQLite store in a temp dir, then N gateway load processes
 * (bench/gateway-load.mjs), each one MQTT connection publishing QoS 1 data
 * messages with a fixed in-flight window. Measures PUBACK latency at the
 * clients, committed readings/s from the collector's own /metrics, and the
 * collector's CPU and RSS from /proc. Prints a table (stdout) and writes all
 * figures as JSON. See bench/README.md.
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { hashSecret } from '@medtel/collector';
import { validateMessage } from '@medtel/shared';
import { makePayloadBuilder } from './gateway-load.mjs';
import { Histogram } from './histogram.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const require = createRequire(import.meta.url);
const COLLECTOR_CLI = join(dirname(require.resolve('@medtel/collector')), 'cli.js');
const GATEWAY_LOAD = join(here, 'gateway-load.mjs');
const PARENT_WATCH = join(here, 'parent-watch.mjs');
const HOST = '127.0.0.1';
const SITE = 'bench';

const USAGE = `Usage: node bench/run.mjs [options]      (or: npm run bench -- [options])

Scenario "ingest": N gateways publish QoS 1 data messages to a real collector
as fast as their in-flight window allows; measures durable ingest throughput,
PUBACK latency, collector CPU and memory.

Options:
  --gateways N              gateway connections, one process each (default 4)
  --devices-per-gateway N   devices each gateway cycles over (default 10)
  --readings N              readings per data message (default 10)
  --seconds S               duration of the measured phase (default 15)
  --window W                unacknowledged QoS 1 messages per connection (default 100)
  --warmup S                publishing before the measured phase (default 2)
  --json FILE               where to write all figures
                            (default bench/results/ingest-<ISO time>.json)
  --quick                   smoke run: 3 s measured, 1 s warm-up, 2 gateways
                            (explicit options still win)
  --keep                    keep the temp dir (collector config, log, SQLite file)
  --profile DIR             write a V8 CPU profile of the collector (.cpuprofile,
                            open in Chrome DevTools) to DIR; adds profiler overhead
  -h, --help                this text

Exit status: 0 if every check passed (no lost, duplicate or quarantined
message, no collector error), 1 otherwise or on any failure.`;

// ---------------------------------------------------------------- options

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      gateways: { type: 'string' },
      'devices-per-gateway': { type: 'string' },
      readings: { type: 'string' },
      seconds: { type: 'string' },
      window: { type: 'string' },
      warmup: { type: 'string' },
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick;
  const num = (name, fallback, { min, max, integer = true }) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      throw new UsageError(`--${name} ${raw}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
    return n;
  };
  return {
    quick,
    keep: values.keep,
    profile: values.profile === undefined ? undefined : resolve(values.profile),
    gateways: num('gateways', quick ? 2 : 4, { min: 1, max: 200 }),
    devicesPerGateway: num('devices-per-gateway', 10, { min: 1, max: 10_000 }),
    readings: num('readings', 10, { min: 1, max: 10_000 }),
    seconds: num('seconds', quick ? 3 : 15, { min: 0.5, max: 3600, integer: false }),
    // mqtt.js hangs once 65,535 packet ids are in use (STACK-NOTES): stay well below.
    window: num('window', 100, { min: 1, max: 60_000 }),
    warmup: num('warmup', quick ? 1 : 2, { min: 0, max: 600, integer: false }),
    json: values.json ?? join(root, 'bench', 'results', `ingest-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  };
}

class UsageError extends Error {}

// ---------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A free loopback port: listen on port 0, read it, close. */
async function freePort() {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** CPU seconds (user+system) of a process, from /proc/<pid>/stat. */
function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may contain spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS and VmHWM (peak) of a process in bytes, from /proc/<pid>/status. */
function procMemory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => {
    const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Prometheus text -> [{name, labels, value}]. */
function parsePrometheus(text) {
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
function metricSum(samples, name, match = {}) {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

async function scrape(httpUrl) {
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

const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fmtMs = (n) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) : 'n/a');
const fmtK = (n) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n)));
const round = (n, digits = 3) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : null);

function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}

// ---------------------------------------------------------------- run state (for cleanup)

const children = new Set();
let tempDir;
let keepTemp = false;

function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}

process.on('exit', () => {
  killAll('SIGKILL');
  if (tempDir && !keepTemp) rmSync(tempDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping\n`);
    killAll('SIGKILL');
    process.exit(130);
  });
}

// ---------------------------------------------------------------- collector

async function startCollector(dir, gateways, { profileDir } = {}) {
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const dbPath = join(dir, 'collector.db');
  const configPath = join(dir, 'collector.yaml');
  const q = JSON.stringify; // YAML accepts JSON-quoted strings
  const yaml = [
    `mqtt: { host: ${q(HOST)}, port: ${mqttPort} }`,
    `http: { host: ${q(HOST)}, port: ${httpPort} }`,
    `store: { path: ${q(dbPath)} }`,
    // info, not warn: the ready line ("collector started") is logged at info. Per-message
    // paths log nothing at info; connects/disconnects log one line each.
    'log: { level: info }',
    'gateways:',
    ...gateways.map((g) => `  - { id: ${q(g.id)}, secretHash: ${q(g.secretHash)} }`),
    '',
  ].join('\n');
  writeFileSync(configPath, yaml, { mode: 0o600 });

  const logPath = join(dir, 'collector.log');
  const logFile = createWriteStream(logPath);
  const nodeArgs = ['--import', pathToFileURL(PARENT_WATCH).href, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const child = spawn(process.execPath, [...nodeArgs, COLLECTOR_CLI, 'run', '-c', configPath], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  children.add(child);
  const log = { path: logPath, warnings: [], counts: { warn: 0, error: 0, fatal: 0 }, stderr: '' };
  let onReady;
  const ready = new Promise((resolveReady, rejectReady) => {
    onReady = resolveReady;
    child.once('exit', (code, signal) =>
      rejectReady(new Error(`collector exited before it was ready (code ${code}, signal ${signal}): ${log.stderr.trim().slice(-2000)}`)),
    );
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    logFile.write(`${line}\n`);
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    if (entry.msg === 'collector started') onReady();
    if (entry.level in log.counts) {
      log.counts[entry.level] += 1;
      if (log.warnings.length < 20) log.warnings.push(line.slice(0, 1000));
    }
  });
  child.stderr.on('data', (chunk) => {
    logFile.write(chunk);
    if (log.stderr.length < 20_000) log.stderr += chunk.toString();
  });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  await withTimeout(ready, 20_000, 'waiting for the collector to start');
  return {
    child,
    pid: child.pid,
    mqttPort,
    httpUrl: `http://${HOST}:${httpPort}`,
    dbPath,
    configPath,
    log,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let result;
      try {
        result = await withTimeout(exited, 10_000, 'waiting for the collector to stop on SIGTERM');
      } catch {
        child.kill('SIGKILL');
        result = { ...(await exited), timedOut: true };
      }
      await new Promise((r) => logFile.end(r));
      return result;
    },
  };
}

// ---------------------------------------------------------------- load processes

function startGateway(cfg, onMessage) {
  const child = fork(GATEWAY_LOAD, [], {
    env: { ...process.env, MEDTEL_BENCH_GATEWAY: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.on('message', (msg) => onMessage(cfg.gateway, msg));
  return child;
}

// ---------------------------------------------------------------- the scenario

async function runIngest(opts) {
  // 1. The payload we are about to send must be valid, or we would measure quarantine.
  const build = makePayloadBuilder(opts.readings);
  const sample = build(1, Date.now(), 'pump-1');
  const checked = validateMessage('data', JSON.parse(sample));
  if (!checked.ok) throw new Error(`bench: the generated data payload is not valid against the contract: ${checked.reason}\n${sample}`);
  const payloadBytes = Buffer.byteLength(sample);

  // 2. Collector with N gateways (random secrets) in a temp dir.
  tempDir = mkdtempSync(join(os.tmpdir(), 'medtel-bench-'));
  keepTemp = opts.keep;
  const gateways = await Promise.all(
    Array.from({ length: opts.gateways }, async (_, i) => {
      const secret = randomBytes(24).toString('base64url');
      return { id: `gw-${i + 1}`, secret, secretHash: await hashSecret(secret) };
    }),
  );
  if (opts.profile) mkdirSync(opts.profile, { recursive: true });
  const collector = await startCollector(tempDir, gateways, { profileDir: opts.profile });
  let collectorExitedEarly = false;
  let stoppingCollector = false;
  let fatal;
  const failRun = (err) => {
    fatal ??= err;
  };
  collector.exited.then(({ code, signal }) => {
    if (!stoppingCollector) {
      collectorExitedEarly = true;
      failRun(new Error(`collector exited during the run (code ${code}, signal ${signal}): ${collector.log.stderr.trim().slice(-2000)}`));
    }
  });

  // 3. Sample the collector's RSS and CPU every 250 ms.
  const samples = [];
  const runStart = performance.now();
  let lastCpu = procCpuSeconds(collector.pid);
  let lastAt = runStart;
  let rssPeak = 0;
  let hwm = 0;
  const sampleNow = () => {
    try {
      const at = performance.now();
      const cpu = procCpuSeconds(collector.pid);
      const mem = procMemory(collector.pid);
      rssPeak = Math.max(rssPeak, mem.rss);
      hwm = Math.max(hwm, mem.hwm);
      samples.push({
        t: round((at - runStart) / 1000),
        rssMB: round(mem.rss / 2 ** 20, 1),
        cpuPct: round(at > lastAt ? ((cpu - lastCpu) / ((at - lastAt) / 1000)) * 100 : 0, 1),
      });
      lastCpu = cpu;
      lastAt = at;
      return { at, cpu };
    } catch {
      return undefined; // the process is gone; the exit handler reports it
    }
  };
  sampleNow();
  const sampler = setInterval(sampleNow, 250);

  // 4. Load processes.
  const state = new Map(); // gateway -> { ready, acked, result }
  let resolveAllReady;
  let resolveAllResults;
  const allReady = new Promise((r) => (resolveAllReady = r));
  const allResults = new Promise((r) => (resolveAllResults = r));
  const onMessage = (gateway, msg) => {
    const s = state.get(gateway);
    if (msg.type === 'ready') {
      s.ready = true;
      if ([...state.values()].every((x) => x.ready)) resolveAllReady();
    } else if (msg.type === 'progress') {
      s.acked = msg.acked;
    } else if (msg.type === 'result') {
      s.result = msg;
      s.acked = msg.acked;
      if ([...state.values()].every((x) => x.result)) resolveAllResults();
    } else if (msg.type === 'error') {
      failRun(new Error(`${gateway}: ${msg.message}`));
    }
  };
  const loads = gateways.map((g) => {
    state.set(g.id, { ready: false, acked: 0, result: undefined });
    const child = startGateway(
      {
        host: HOST,
        port: collector.mqttPort,
        site: SITE,
        gateway: g.id,
        secret: g.secret,
        devices: opts.devicesPerGateway,
        readings: opts.readings,
        window: opts.window,
        drainTimeoutMs: 10_000,
      },
      onMessage,
    );
    child.once('exit', (code, signal) => {
      if (!state.get(g.id).result) failRun(new Error(`load process for ${g.id} exited early (code ${code}, signal ${signal})`));
    });
    return child;
  });
  const broadcast = (msg) => {
    for (const c of loads) if (c.connected) c.send(msg);
  };
  // Any failure (load process, collector) aborts the waits below.
  const aborted = new Promise((_, reject) => {
    const timer = setInterval(() => {
      if (fatal) {
        clearInterval(timer);
        reject(fatal);
      }
    }, 50);
    allResults.then(() => clearInterval(timer));
  });
  aborted.catch(() => undefined);
  const guard = (p) => Promise.race([p, aborted]);

  const totalAcked = () => [...state.values()].reduce((n, s) => n + s.acked, 0);
  const progress = (text) => process.stderr.write(`bench ingest: ${text}\n`);

  try {
    await guard(withTimeout(allReady, 20_000, `waiting for ${opts.gateways} gateway connections`));
    progress(`collector pid ${collector.pid}, ${opts.gateways} gateways connected, ${payloadBytes} B/message; warm-up ${opts.warmup} s`);

    // Warm-up: publishing, not measured.
    broadcast({ type: 'start' });
    let prevAcked = 0;
    let prevAt = performance.now();
    const tick = (label) => {
      const now = performance.now();
      const acked = totalAcked();
      const rate = ((acked - prevAcked) / (now - prevAt)) * 1000;
      const cpu = samples.at(-1)?.cpuPct ?? 0;
      progress(`${label}, ${fmtK(rate)} msg/s, collector ${Math.round(cpu)}% CPU`);
      prevAcked = acked;
      prevAt = now;
    };
    const warmupEnd = performance.now() + opts.warmup * 1000;
    for (let i = 1; performance.now() < warmupEnd - 5; i++) {
      await guard(sleep(Math.min(1000, warmupEnd - performance.now())));
      tick(`warm-up ${Math.min(i, Math.ceil(opts.warmup))}/${Math.ceil(opts.warmup)} s`);
    }

    // Measured phase.
    broadcast({ type: 'measure' });
    const before = await guard(scrape(collector.httpUrl));
    const cpuBefore = sampleNow() ?? { at: performance.now(), cpu: procCpuSeconds(collector.pid) };
    const measureEnd = performance.now() + opts.seconds * 1000;
    for (let i = 1; performance.now() < measureEnd - 5; i++) {
      await guard(sleep(Math.min(1000, measureEnd - performance.now())));
      tick(`${Math.min(i, Math.ceil(opts.seconds))}/${Math.ceil(opts.seconds)} s`);
    }
    broadcast({ type: 'stop' });
    const after = await guard(scrape(collector.httpUrl));
    const cpuAfter = sampleNow() ?? { at: performance.now(), cpu: procCpuSeconds(collector.pid) };

    // Drain: every load process waits for its in-flight PUBACKs, then reports.
    await guard(withTimeout(allResults, 15_000, 'waiting for the load processes to drain and report'));
    await Promise.all(
      loads.map((c) => (c.exitCode === null ? withTimeout(once(c, 'exit'), 5000, 'waiting for a load process to exit').catch(() => c.kill('SIGKILL')) : null)),
    );
    const final = await scrape(collector.httpUrl);
    clearInterval(sampler);
    sampleNow();

    stoppingCollector = true;
    const stopped = await collector.stop();
    if (collectorExitedEarly) throw fatal;

    // Independent count from the SQLite file itself (read-only, after the collector closed it).
    let db;
    try {
      const { default: Database } = await import('better-sqlite3');
      const conn = new Database(collector.dbPath, { readonly: true, fileMustExist: true });
      db = {
        messages: conn.prepare('SELECT count(*) AS n FROM received').get().n,
        readings: conn.prepare('SELECT count(*) AS n FROM readings').get().n,
        quarantined: conn.prepare('SELECT count(*) AS n FROM quarantine').get().n,
      };
      conn.close();
    } catch (err) {
      db = { error: err.message };
    }

    return report({ opts, payloadBytes, state, before, after, final, cpuBefore, cpuAfter, samples, rssPeak, hwm, collector, stopped, db });
  } finally {
    clearInterval(sampler);
    killAll('SIGKILL');
  }
}

// ---------------------------------------------------------------- figures, checks, output

function report({ opts, payloadBytes, state, before, after, final, cpuBefore, cpuAfter, samples, rssPeak, hwm, collector, stopped, db }) {
  const results = [...state.values()].map((s) => s.result);
  const latency = new Histogram();
  for (const r of results) latency.merge(Histogram.fromJSON(r.measured.latency));

  const measuredSeconds = results.reduce((m, r) => Math.max(m, r.measured.seconds), 0);
  // Sum of per-connection rates: each counted acks over its own measured window.
  const msgPerSec = results.reduce((n, r) => n + (r.measured.seconds > 0 ? r.measured.acked / r.measured.seconds : 0), 0);
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

  const acked = results.reduce((n, r) => n + r.acked, 0);
  const published = results.reduce((n, r) => n + r.published, 0);
  const publishErrors = results.reduce((n, r) => n + r.publishErrors, 0);
  const outOfOrder = results.reduce((n, r) => n + r.outOfOrderAcks, 0);
  const inFlightAtEnd = results.reduce((n, r) => n + r.inFlightAtEnd, 0);

  const checks = [];
  const check = (name, ok, detail) => checks.push({ name, ok, detail });
  check(
    'every published message was acknowledged',
    published === acked && inFlightAtEnd === 0 && publishErrors === 0,
    `published ${published}, PUBACKed ${acked}, still in flight ${inFlightAtEnd}, publish errors ${publishErrors}`,
  );
  check(
    'committed (collector /metrics) = PUBACKed (clients)',
    final.dataStored === acked,
    `collector counted ${final.dataStored} data messages stored, clients got ${acked} PUBACKs`,
  );
  check(
    'committed readings = PUBACKed messages x readings',
    final.readings === acked * opts.readings,
    `collector counted ${final.readings} readings, expected ${acked * opts.readings}`,
  );
  if (db.error) check('SQLite file readable after stop', false, db.error);
  else
    check(
      'rows in the SQLite file = PUBACKed',
      db.messages === acked && db.readings === acked * opts.readings,
      `received rows ${db.messages} (expected ${acked}), readings rows ${db.readings} (expected ${acked * opts.readings})`,
    );
  check(
    'no duplicates, quarantine, commit errors, ACL or auth failures',
    final.dataDuplicate === 0 && final.quarantined === 0 && final.commitErrors === 0 && final.aclViolations === 0 && final.authFailures === 0,
    `duplicates ${final.dataDuplicate}, quarantined ${final.quarantined}, commit errors ${final.commitErrors}, ACL ${final.aclViolations}, auth ${final.authFailures}`,
  );
  check('PUBACKs in PUBLISH order per connection (MQTT-4.6.0-2)', outOfOrder === 0, `out-of-order PUBACKs ${outOfOrder}`);
  check(
    'collector logged no warning or error',
    collector.log.counts.warn + collector.log.counts.error + collector.log.counts.fatal === 0,
    `warn ${collector.log.counts.warn}, error ${collector.log.counts.error}, fatal ${collector.log.counts.fatal}`,
  );
  check(
    'collector stopped cleanly on SIGTERM',
    stopped.code === 0 && !stopped.timedOut,
    `exit code ${stopped.code}, signal ${stopped.signal}${stopped.timedOut ? ', needed SIGKILL after 10 s' : ''}`,
  );

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
  const headers = [
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
  return { figures, totals, checks, row, headers, samples, collectorLog: collector.log };
}

// ---------------------------------------------------------------- main

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (process.platform !== 'linux' || !existsSync('/proc/self/stat')) {
    process.stderr.write('bench: needs Linux /proc to measure the collector process\n');
    process.exit(2);
  }
  // Nothing may outlive a bounded budget: start-up + warm-up + measured + drain + stop.
  const budgetMs = (opts.warmup + opts.seconds) * 1000 + 90_000;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${budgetMs / 1000} s: giving up\n`);
    killAll('SIGKILL');
    process.exit(1);
  }, budgetMs);

  const startedAt = new Date();
  let out;
  try {
    out = await runIngest(opts);
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n`);
    if (tempDir) {
      keepTemp = true;
      process.stderr.write(`bench: collector config, log and store kept in ${tempDir}\n`);
    }
    killAll('SIGKILL');
    process.exit(1);
  }
  clearTimeout(watchdog);

  const failed = out.checks.filter((c) => !c.ok);
  const cpus = os.cpus();
  const lines = [
    table(out.headers, [out.row]),
    '',
    `collector: ${out.figures.messagesPerSecCommitted.toLocaleString('en-US')} msg/s committed (from /metrics), mean batch ${out.figures.meanBatchMessages} messages, mean commit ${out.figures.meanCommitMs} ms, in commits ${out.figures.commitBusyPct}% of the time, event-loop lag p99 ${fmtMs(out.figures.eventLoopLagP99Ms)} ms; PUBACK p90 ${fmtMs(out.figures.pubackMs.p90)} ms, max ${fmtMs(out.figures.pubackMs.max)} ms`,
    `load: ${opts.gateways} processes used ${out.figures.loadGeneratorsCpuPctOfCore}% of a core together, on the same ${cpus.length}-core machine as the collector; ${out.figures.payloadBytes} B/message`,
    `totals: ${out.totals.acked.toLocaleString('en-US')} messages PUBACKed, ${out.totals.committedMessages.toLocaleString('en-US')} committed (collector /metrics), ${out.totals.sqlite.messages?.toLocaleString('en-US') ?? 'n/a'} in the SQLite file`,
    ...out.checks.map((c) => `check ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (out.collectorLog.warnings.length) {
    process.stdout.write(
      `collector warnings/errors (first ${out.collectorLog.warnings.length}):\n${out.collectorLog.warnings.map((w) => `  ${w}`).join('\n')}\n`,
    );
  }

  const json = {
    scenario: 'ingest',
    date: startedAt.toISOString(),
    machine: {
      cpuModel: cpus[0]?.model ?? 'unknown',
      cpus: cpus.length,
      totalMemMB: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
    },
    options: { ...opts, json: undefined },
    figures: out.figures,
    totals: out.totals,
    checks: out.checks,
    collectorLog: { counts: out.collectorLog.counts, firstWarnings: out.collectorLog.warnings },
    samples: out.samples,
    notes: [
      'PUBACK latency is publish -> PUBACK at the client: the collector commits to SQLite (synchronous=FULL) before it acknowledges.',
      'Collector CPU % is of one core, from /proc/<pid>/stat over the measured phase; load generators run on the same machine.',
      'fsync is cheap on virtual disks; an eMMC or SSD on a real gateway/collector host will differ (STACK-NOTES).',
    ],
  };
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(opts.json, `${JSON.stringify(json, null, 2)}\n`);
  process.stderr.write(`bench: figures written to ${opts.json}${opts.keep ? `; temp dir kept: ${tempDir}` : ''}\n`);
  process.exit(failed.length ? 1 : 0);
}

main();
