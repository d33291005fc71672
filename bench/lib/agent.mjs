/**
 * A real gateway agent (`medtel-agent run`, its own process, as in production)
 * on loopback: config, start, log capture (warn/error lines counted), its
 * /readyz and /metrics, and a clean SIGTERM stop.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parsePrometheus } from './collector-metrics.mjs';
import { freePort, HOST } from './net.mjs';
import { supervise } from './supervised.mjs';
import { withTimeout } from './timing.mjs';

const require = createRequire(import.meta.url);
const AGENT_CLI = join(dirname(require.resolve('@medtel/agent')), 'cli.js');
const PARENT_WATCH = join(dirname(fileURLToPath(import.meta.url)), 'parent-watch.mjs');

/**
 * agent.yaml: gateway `gateway` ({id, secret}) of `site`, the outbox in
 * `stateDir`, the collector at `mqttUrl`, and `devices` ([{id, port}]):
 * medtel-mt-lvp-100 pumps over Modbus TCP on loopback, polled every `pollInterval`
 * (or [{yaml}]: a device entry written out as given, e.g. an OPC UA device);
 * or any devices as `deviceEntries`, each one YAML flow mapping.
 */
function agentYaml({ site, gateway, mqttUrl, secretFile, stateDir, httpPort, window, maxBytes, pollInterval, devices, deviceEntries }) {
  const entries =
    deviceEntries ??
    devices.map(
      (d) =>
        // `yaml`: a complete device entry (other protocols); else a pump on `port`.
        d.yaml ??
        `{ id: ${JSON.stringify(d.id)}, profile: medtel-mt-lvp-100, connection: { protocol: modbus-tcp, host: ${JSON.stringify(HOST)}, port: ${d.port}, unitId: 1 }, pollInterval: ${pollInterval} }`,
    );
  const q = JSON.stringify; // YAML accepts JSON-quoted strings
  return [
    `gateway: { id: ${q(gateway.id)}, site: ${q(site)} }`,
    `collector: { url: ${q(mqttUrl)}, secretFile: ${q(secretFile)}, inflightWindow: ${window} }`,
    `stateDir: ${q(stateDir)}`,
    `outbox: { maxBytes: ${q(maxBytes)} }`,
    `http: { host: ${q(HOST)}, port: ${httpPort} }`,
    // info: the ready line ("agent started") and connects are logged at info; nothing per message is.
    'log: { level: info }',
    entries.length ? 'devices:' : 'devices: []',
    ...entries.map((e) => `  - ${e}`),
    '',
  ].join('\n');
}

/**
 * Writes agent.yaml and the secret file into `dir`, starts the agent and
 * resolves once it logged "agent started". The handle has `pid`, `httpUrl`,
 * `spawnedAt` (Date.now() just before the spawn), `connectedAt` (Date.now()
 * when its "connected to collector" line arrived, once it did), `log`
 * ({path, warnings (first 20), counts, stderr}), `exited`, `unexpectedExit`,
 * `exitedEarly`, `readyz()`, `metrics()` and `stop()`.
 */
export async function startAgent(
  dir,
  { site, gateway, mqttPort, stateDir, window = 100, maxBytes = '4GiB', pollInterval = '250ms', devices = [], deviceEntries },
) {
  const httpPort = await freePort();
  const secretFile = join(dir, 'gateway.secret');
  writeFileSync(secretFile, `${gateway.secret}\n`, { mode: 0o600 });
  const configPath = join(dir, 'agent.yaml');
  writeFileSync(
    configPath,
    agentYaml({ site, gateway, mqttUrl: `mqtt://${HOST}:${mqttPort}`, secretFile, stateDir, httpPort, window, maxBytes, pollInterval, devices, deviceEntries }),
    { mode: 0o600 },
  );

  const spawnedAt = Date.now();
  const child = spawn(process.execPath, ['--import', pathToFileURL(PARENT_WATCH).href, AGENT_CLI, 'run', '-c', configPath], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let connectedAt;
  let startedAt;
  const proc = await supervise(child, {
    name: 'agent',
    dir,
    readyMsg: 'agent started',
    readyTimeoutMs: 30_000,
    onEntry: (entry) => {
      if (entry.msg === 'agent started') startedAt ??= Date.now();
      if (entry.msg === 'connected to collector') connectedAt ??= Date.now();
    },
  });
  const httpUrl = `http://${HOST}:${httpPort}`;
  /** GET /readyz: {status, outbox: {rows, bytes, oldestCreatedAt}, uplink}. */
  const readyz = async () => (await withTimeout(fetch(`${httpUrl}/readyz`), 5000, 'GET agent /readyz')).json();
  /** GET /metrics, parsed: [{name, labels, value}]. */
  const metrics = async () => {
    const res = await withTimeout(fetch(`${httpUrl}/metrics`), 5000, 'GET agent /metrics');
    if (!res.ok) throw new Error(`GET agent /metrics: HTTP ${res.status}`);
    return parsePrometheus(await res.text());
  };
  return Object.defineProperties(proc, {
    httpUrl: { value: httpUrl, enumerable: true },
    configPath: { value: configPath, enumerable: true },
    spawnedAt: { value: spawnedAt, enumerable: true },
    startedAt: { get: () => startedAt, enumerable: true },
    connectedAt: { get: () => connectedAt, enumerable: true },
    readyz: { value: readyz, enumerable: true },
    metrics: { value: metrics, enumerable: true },
  });
}
