/**
 * A real collector (`medtel-collector run`, its own process, as in production)
 * on loopback with a fresh SQLite store in `dir`: config, start, readiness,
 * log capture (warn/error lines counted) and a clean SIGTERM stop.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, HOST } from './net.mjs';
import { supervise } from './supervised.mjs';

const require = createRequire(import.meta.url);
const COLLECTOR_CLI = join(dirname(require.resolve('@medtel/collector')), 'cli.js');
const PARENT_WATCH = join(dirname(fileURLToPath(import.meta.url)), 'parent-watch.mjs');

/** collector.yaml for `gateways` ([{id, secretHash}]) on the given ports. */
function collectorYaml({ mqttPort, httpPort, dbPath, store, redis, gateways }) {
  const q = JSON.stringify; // YAML accepts JSON-quoted strings
  return [
    `mqtt: { host: ${q(HOST)}, port: ${mqttPort}, plain: { enabled: true }, limits: { publishRate: 0 } }`,
    `http: { host: ${q(HOST)}, port: ${httpPort} }`,
    store ? `store: ${q(store)}` : `store: { path: ${q(dbPath)} }`,
    ...(redis ? [`redis: ${q(redis)}`] : []),
    // info, not warn: the ready line ("collector started") is logged at info. Per-message
    // paths log nothing at info; connects/disconnects log one line each.
    'log: { level: info }',
    'gateways:',
    ...gateways.map((g) => `  - { id: ${q(g.id)}, secretHash: ${q(g.secretHash)} }`),
    '',
  ].join('\n');
}

/**
 * Starts the collector and resolves once it logged "collector started".
 * `profileDir`: write a V8 CPU profile there; `env`: extra environment (OTEL_* for --trace-ratio);
 * `store`: a store URL (postgres://...) instead of the SQLite file; `redis`: a redis:// URL (replicas). The returned handle has the
 * ports, `log` ({path, warnings (first 20), counts, stderr}), `exited`,
 * `unexpectedExit` (resolves to an Error if it exits before stop() is called),
 * `exitedEarly` and `stop()`.
 */
export async function startCollector(dir, gateways, { profileDir, env, store, redis } = {}) {
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const dbPath = join(dir, 'collector.db');
  const configPath = join(dir, 'collector.yaml');
  writeFileSync(configPath, collectorYaml({ mqttPort, httpPort, dbPath, store, redis, gateways }), { mode: 0o600 });

  const nodeArgs = ['--import', pathToFileURL(PARENT_WATCH).href, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const child = spawn(process.execPath, [...nodeArgs, COLLECTOR_CLI, 'run', '-c', configPath], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, NODE_ENV: 'production' },
  });
  const proc = await supervise(child, { name: 'collector', dir, readyMsg: 'collector started', readyTimeoutMs: 20_000 });
  return Object.assign(proc, { mqttPort, httpUrl: `http://${HOST}:${httpPort}`, dbPath, configPath });
}
