/**
 * Gateway load processes (lib/gateway-load.mjs), one MQTT connection each,
 * driven together over IPC: wait until all are connected, broadcast
 * start/measure/stop, follow their acknowledged counts, collect their results.
 * See lib/gateway-load.mjs for the messages.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.mjs';
import { withTimeout } from './timing.mjs';

const GATEWAY_LOAD = join(dirname(fileURLToPath(import.meta.url)), 'gateway-load.mjs');

function startGateway(cfg, onMessage) {
  const child = fork(GATEWAY_LOAD, [], {
    env: { ...process.env, MEDTEL_BENCH_GATEWAY: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  track(child);
  child.on('message', (msg) => onMessage(cfg.gateway, msg));
  return child;
}

/**
 * Forks one load process per config (gateway-load.mjs's MEDTEL_BENCH_GATEWAY:
 * {host, port, site, gateway, secret, devices, readings, window, drainTimeoutMs}).
 * A load process that reports an error, or exits before its result, is passed
 * to `onError`.
 */
export function startLoadFleet(configs, { onError }) {
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
      onError(new Error(`${gateway}: ${msg.message}`));
    }
  };
  const children = configs.map((cfg) => {
    state.set(cfg.gateway, { ready: false, acked: 0, result: undefined });
    const child = startGateway(cfg, onMessage);
    child.once('exit', (code, signal) => {
      if (!state.get(cfg.gateway).result) onError(new Error(`load process for ${cfg.gateway} exited early (code ${code}, signal ${signal})`));
    });
    return child;
  });
  return {
    children,
    /** Resolves when every connection got its CONNACK. */
    allReady,
    /** Resolves when every process reported its result (after `stop` and its drain). */
    allResults,
    broadcast(msg) {
      for (const c of children) if (c.connected) c.send(msg);
    },
    /** PUBACKs so far over all connections (from the 250 ms progress reports). */
    totalAcked: () => [...state.values()].reduce((n, s) => n + s.acked, 0),
    /** The `result` messages, in config order. */
    results: () => [...state.values()].map((s) => s.result),
    /** Waits up to 5 s for each process to exit after its result; SIGKILL if not. */
    waitExited: () =>
      Promise.all(
        children.map((c) =>
          c.exitCode === null ? withTimeout(once(c, 'exit'), 5000, 'waiting for a load process to exit').catch(() => c.kill('SIGKILL')) : null,
        ),
      ),
  };
}
