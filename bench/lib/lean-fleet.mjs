/**
 * The lean generator's processes (lib/lean-load.mjs), driven together over
 * IPC: the gateways are dealt round-robin over `processes` children so that
 * the generator is spread over cores; wait until every connection is up,
 * broadcast start/measure/stop, follow the acknowledged counts, collect and
 * merge the results.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.mjs';
import { Histogram } from './histogram.mjs';
import { withTimeout } from './timing.mjs';

const LEAN_LOAD = join(dirname(fileURLToPath(import.meta.url)), 'lean-load.mjs');

/**
 * `base`: {host, ports (gateway i connects to ports[i % ports.length]: replicas), site, devicesPerGateway, readings, window, shape
 * ('saturated' | 'rate'), ratePerDevice, drainTimeoutMs}; `gateways`: [{id, secret}].
 * A child that reports an error or exits before its result goes to `onError`.
 */
export function startLeanFleet(base, gateways, { processes, onError }) {
  const n = Math.max(1, Math.min(processes, gateways.length));
  const parts = Array.from({ length: n }, () => []);
  gateways.forEach((g, i) => {
    parts[i % n].push({ id: g.id, secret: g.secret, port: base.ports[i % base.ports.length] });
  });
  const state = parts.map(() => ({ ready: false, acked: 0, result: undefined }));
  let resolveReady;
  let resolveResults;
  const allReady = new Promise((r) => (resolveReady = r));
  const allResults = new Promise((r) => (resolveResults = r));
  const children = parts.map((part, i) => {
    const child = fork(LEAN_LOAD, [], {
      env: { ...process.env, MEDTEL_BENCH_LEAN: JSON.stringify({ ...base, gateways: part }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    track(child);
    child.on('message', (msg) => {
      const s = state[i];
      if (msg.type === 'ready') {
        s.ready = true;
        if (state.every((x) => x.ready)) resolveReady();
      } else if (msg.type === 'progress') s.acked = msg.acked;
      else if (msg.type === 'result') {
        s.result = msg;
        s.acked = msg.acked;
        if (state.every((x) => x.result)) resolveResults();
      } else if (msg.type === 'error') onError(new Error(`lean load ${i + 1}: ${msg.message}`));
    });
    child.once('exit', (code, signal) => {
      if (!state[i].result) onError(new Error(`lean load process ${i + 1} exited early (code ${code}, signal ${signal})`));
    });
    return child;
  });
  return {
    children,
    allReady,
    allResults,
    broadcast(msg) {
      for (const c of children) if (c.connected) c.send(msg);
    },
    totalAcked: () => state.reduce((t, s) => t + s.acked, 0),
    /** All children's results added up, latency histograms merged. */
    merged() {
      const rs = state.map((s) => s.result);
      const sum = (f) => rs.reduce((t, r) => t + f(r), 0);
      const hist = new Histogram();
      for (const r of rs) hist.merge(Histogram.fromJSON(r.measured.latency));
      return {
        processes: rs.length,
        connections: sum((r) => r.connections),
        published: sum((r) => r.published),
        acked: sum((r) => r.acked),
        inFlightAtEnd: sum((r) => r.inFlightAtEnd),
        queuedAtEnd: sum((r) => r.queuedAtEnd),
        outOfOrderAcks: sum((r) => r.outOfOrderAcks),
        measuredAcked: sum((r) => r.measured.acked),
        measuredDue: sum((r) => r.measured.due),
        // Each child measured over its own window; they start within a few ms of each other.
        measuredSeconds: Math.max(...rs.map((r) => r.measured.seconds)),
        cpuSeconds: sum((r) => (r.measured.cpuUserMs + r.measured.cpuSystemMs) / 1000),
        hist,
      };
    },
    waitExited: () =>
      Promise.all(
        children.map((c) =>
          c.exitCode === null ? withTimeout(once(c, 'exit'), 5000, 'waiting for a lean load process to exit').catch(() => c.kill('SIGKILL')) : null,
        ),
      ),
  };
}
