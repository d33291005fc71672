/**
 * The `peers` scenario's table, checks and lines: one row per (broker, load
 * shape), medtel's rows compared with the bare durable relay's, rows that
 * cannot run here printed with the reason.
 */
import { fmtInt, fmtMs, round } from '../lib/format.mjs';

export const HEADERS = [
  'broker',
  'load',
  'generator',
  'msg/s acked',
  'readings/s committed',
  'PUBACK p50 ms',
  'p99 ms',
  'p99.9 ms',
  'broker CPU %',
  'RSS MB',
  'gen CPU %',
  'vs bare durable',
];

const check = (name, ok, detail) => ({ name, ok, detail });

export function shapeLabel(phase, opts) {
  if (phase.shape === 'saturated') return `saturated, ${phase.gateways.length} conn x window ${phase.window}`;
  const devices = phase.gateways.length * phase.devicesPerGateway;
  return `${fmtInt(devices)} dev @ ${opts.rate}/s (${phase.gateways.length} conn)`;
}

/** Figures of one measured phase (JSON and table). */
export function phaseFigures(peer, phase, m) {
  const { load } = m;
  const secs = load.measuredSeconds || 1;
  const committedMsgs = m.committedAfter && m.committedBefore ? m.committedAfter.messages - m.committedBefore.messages : undefined;
  const committedReadings = m.committedAfter && m.committedBefore ? m.committedAfter.readings - m.committedBefore.readings : undefined;
  const delta = (k) => (m.committedAfter?.[k] ?? Number.NaN) - (m.committedBefore?.[k] ?? Number.NaN);
  const commits = delta('commits');
  return {
    peer: peer.name,
    shape: phase.shape,
    connections: phase.gateways.length,
    devices: phase.gateways.length * phase.devicesPerGateway,
    window: phase.window,
    generator: `lean (mqtt-packet over net), ${load.processes} proc`,
    offeredMsgPerSec: phase.shape === 'rate' ? round(load.measuredDue / secs, 1) : null,
    msgPerSec: round(load.measuredAcked / secs, 1),
    committedMsgPerSec: committedMsgs === undefined ? null : round(committedMsgs / m.seconds, 1),
    readingsPerSec: committedReadings === undefined ? null : round(committedReadings / m.seconds, 1),
    pubackMs: {
      p50: round(load.hist.percentileMs(50)),
      p99: round(load.hist.percentileMs(99)),
      p999: round(load.hist.percentileMs(99.9)),
      max: round(load.hist.max / 1000),
      count: load.hist.count,
    },
    // Group commit: messages per transaction and time per commit (fsync included) over the measured window.
    meanBatch: commits > 0 ? round(delta('batchSum') / commits, 1) : null,
    meanCommitMs: commits > 0 ? round((delta('commitSecondsSum') / commits) * 1000, 2) : null,
    commitBusyPct: commits > 0 ? round((delta('commitSecondsSum') / m.seconds) * 100, 1) : null,
    brokerCpuPct: round(m.cpuPct, 1),
    brokerRssMB: round(m.rssMB, 1),
    generatorCpuPct: round((load.cpuSeconds / secs) * 100, 1),
    totals: {
      published: load.published,
      acked: load.acked,
      inFlightAtEnd: load.inFlightAtEnd,
      queuedAtEnd: load.queuedAtEnd,
      outOfOrderAcks: load.outOfOrderAcks,
    },
  };
}

/** medtel compared with the bare durable relay under the same load: throughput saturated, CPU at a fixed rate. */
export function ratio(f, bare) {
  if (!bare || !f.peer.startsWith('medtel')) return '';
  if (f.shape === 'saturated') return bare.msgPerSec ? `${(f.msgPerSec / bare.msgPerSec).toFixed(2)}x msg/s` : '';
  return bare.brokerCpuPct ? `${(f.brokerCpuPct / bare.brokerCpuPct).toFixed(2)}x CPU` : '';
}

export function row(f, label, bare) {
  return [
    label,
    f.label,
    `lean x${f.generator.match(/(\d+) proc/)?.[1] ?? '?'}`,
    fmtInt(f.msgPerSec),
    f.readingsPerSec === null ? 'not durable' : fmtInt(f.readingsPerSec),
    fmtMs(f.pubackMs.p50),
    fmtMs(f.pubackMs.p99),
    fmtMs(f.pubackMs.p999),
    fmtInt(f.brokerCpuPct),
    fmtInt(f.brokerRssMB),
    fmtInt(f.generatorCpuPct),
    ratio(f, bare),
  ];
}

export const skippedRow = (label, load, reason) => [label, load, '-', reason, '', '', '', '', '', '', '', ''];

/** Checks of one phase: everything published was acknowledged, in order, nothing left waiting. */
export function phaseChecks(name, f) {
  const t = f.totals;
  return [
    check(
      `${name}: every published message was PUBACKed, in order`,
      t.published === t.acked && t.inFlightAtEnd === 0 && t.queuedAtEnd === 0 && t.outOfOrderAcks === 0,
      `published ${t.published}, PUBACKed ${t.acked}, in flight ${t.inFlightAtEnd}, queued ${t.queuedAtEnd}, out of order ${t.outOfOrderAcks}`,
    ),
  ];
}

/** Checks of a durable broker over all its phases: what it committed = what the clients got PUBACKs for. */
export function durableChecks(name, { acked, readingsPerMessage, committed, stopped }) {
  const checks = [];
  if (committed) {
    checks.push(
      check(
        `${name}: committed = PUBACKed`,
        committed.messages === acked && committed.readings === acked * readingsPerMessage,
        `committed ${committed.messages} messages / ${committed.readings} readings, PUBACKed ${acked} (x ${readingsPerMessage} readings)`,
      ),
    );
    if ('duplicates' in committed)
      checks.push(
        check(
          `${name}: no duplicate, quarantined message or commit error`,
          committed.duplicates === 0 && committed.quarantined === 0 && committed.commitErrors === 0,
          `duplicates ${committed.duplicates}, quarantined ${committed.quarantined}, commit errors ${committed.commitErrors}`,
        ),
      );
  }
  if (stopped)
    checks.push(check(`${name}: stopped cleanly on SIGTERM`, stopped.code === 0 && !stopped.timedOut, `exit code ${stopped.code}, signal ${stopped.signal}`));
  return checks;
}

export const NOTES = [
  'Every row uses the same lean generator (mqtt-packet over net, QoS 1, fixed in-flight window per connection) in the processes named, on the same 2-core machine as the broker.',
  'saturated: each connection keeps `window` PUBLISHes unacknowledged; its latency is mostly queue length. Fixed rate: each device sends one data message per 1/rate s; latency counts from when the message was due.',
  'readings/s committed: from the broker itself (medtel /metrics, the bare relay its own counts) over the measured window; aedes-raw and mosquitto write nothing.',
  'vs bare durable: saturated, medtel msg/s / bare durable msg/s; at a fixed rate both carry the offered load, so it is broker CPU / bare durable CPU.',
  'The bare durable relay group-commits exactly as the collector (one event-loop turn, at most 5,000 messages a transaction, WAL, synchronous=FULL).',
];
