/**
 * The brokers the `peers` scenario compares, each started fresh in its own
 * process(es) on loopback and stopped after its phases:
 *
 *   aedes-raw      Aedes, no persistence (lib/aedes-relay-child.mjs raw)
 *   mosquitto      Debian's /usr/sbin/mosquitto, temp config, no persistence
 *   bare-durable   Aedes committing each reading to SQLite before its PUBACK
 *   medtel-sqlite  the real collector (`medtel-collector run`) on SQLite
 *   medtel-pg-1/2  the collector on PostgreSQL, 1 or 2 replicas (lib/medtel-pg.mjs)
 *
 * A started broker is {pids, ports, committed() -> {messages, readings} or
 * undefined when it does not persist, log?, stop() -> {code, signal}}.
 */
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { track } from './cleanup.mjs';
import { startCollector } from './collector.mjs';
import { scrape } from './collector-metrics.mjs';
import { freePort, HOST } from './net.mjs';
import { captureLog } from './process-log.mjs';
import { withTimeout } from './timing.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const RELAY_CHILD = join(HERE, 'aedes-relay-child.mjs');
const PARENT_WATCH = join(HERE, 'parent-watch.mjs');
export const MOSQUITTO = '/usr/sbin/mosquitto';

/** SIGTERM, SIGKILL after 10 s; resolves {code, signal, timedOut?}. */
async function stopChild(child) {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve([child.exitCode, child.signalCode]) : once(child, 'exit');
  child.kill('SIGTERM');
  try {
    const [code, signal] = await withTimeout(exited, 10_000, 'waiting for a broker to stop');
    return { code, signal };
  } catch {
    child.kill('SIGKILL');
    const [code, signal] = await exited;
    return { code, signal, timedOut: true };
  }
}

/** Aedes in a child process, raw or durable (SQLite file in `dir`). */
async function startAedesRelay(dir, mode) {
  const port = await freePort();
  const child = track(
    fork(RELAY_CHILD, [mode, String(port), join(dir, `${mode}.db`)], {
      execArgv: ['--import', pathToFileURL(PARENT_WATCH).href],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const [msg] = await withTimeout(once(child, 'message'), 10_000, `waiting for the ${mode} Aedes relay to listen`);
  if (msg?.type !== 'ready') throw new Error(`${mode} Aedes relay: unexpected first message ${JSON.stringify(msg)}`);
  const stats = async () => {
    child.send({ type: 'stats' });
    for (;;) {
      const [m] = await withTimeout(once(child, 'message'), 5000, 'waiting for the relay counts');
      if (m?.type === 'stats') return m;
    }
  };
  return {
    pids: [child.pid],
    ports: [port],
    exited: once(child, 'exit'),
    committed: mode === 'durable' ? stats : async () => undefined,
    stop: () => stopChild(child),
  };
}

/** mosquitto 2 with a temp config: loopback listener, anonymous, no persistence, log to a file. */
async function startMosquitto(dir) {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} ${HOST}`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const child = track(spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = captureLog(child, join(dir, 'mosquitto.log'));
  // mosquitto logs nothing at these levels once listening: wait for the port to accept.
  await withTimeout(waitForPort(port, child), 10_000, 'waiting for mosquitto to listen');
  return { pids: [child.pid], ports: [port], exited: once(child, 'exit'), committed: async () => undefined, stop: () => stopChild(child), log };
}

async function waitForPort(port, child) {
  const { connect } = await import('node:net');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    const ok = await new Promise((r) => {
      const s = connect({ host: HOST, port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The real collector on SQLite; `committed` from its own /metrics. */
async function startMedtelSqlite(dir, gateways, { profileDir } = {}) {
  const collector = await startCollector(dir, gateways, { profileDir });
  return {
    pids: [collector.pid],
    ports: [collector.mqttPort],
    exited: collector.exited,
    committed: async () => {
      const m = await scrape(collector.httpUrl);
      return {
        messages: m.dataStored,
        readings: m.readings,
        duplicates: m.dataDuplicate,
        quarantined: m.quarantined,
        commitErrors: m.commitErrors,
        commits: m.batchCount,
        batchSum: m.batchSum,
        commitSecondsSum: m.commitSecondsSum,
      };
    },
    stop: () => collector.stop(),
    log: collector.log,
    collector,
  };
}

/**
 * The peers in table order. `available()` says why a row cannot run here
 * (undefined: it can); `start(dir, gateways, opts)` starts it.
 */
export const PEERS = [
  { name: 'aedes-raw', label: 'Aedes relay, no persistence', durable: false, available: () => undefined, start: (dir) => startAedesRelay(dir, 'raw') },
  {
    name: 'mosquitto',
    label: 'mosquitto 2, no persistence',
    durable: false,
    available: () => (existsSync(MOSQUITTO) ? undefined : `not available: ${MOSQUITTO} is missing (apt-get install -y mosquitto)`),
    start: (dir) => startMosquitto(dir),
  },
  {
    name: 'bare-durable',
    label: 'bare durable relay (Aedes + SQLite)',
    durable: true,
    available: () => undefined,
    start: (dir) => startAedesRelay(dir, 'durable'),
  },
  { name: 'medtel-sqlite', label: 'medtel collector, SQLite', durable: true, available: () => undefined, start: startMedtelSqlite },
];
