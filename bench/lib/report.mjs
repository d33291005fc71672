/**
 * A scenario's outcome on stdout (table, summary lines, checks) and as a JSON
 * file with the machine it ran on. A scenario's outcome is
 * {headers, rows, lines, figures, totals, checks, samples, collectorLog?, logs?, notes};
 * `logs` are other processes' logs as [{name, log}] (log as from lib/process-log.mjs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { table } from './format.mjs';

export function printReport(out) {
  const lines = [table(out.headers, out.rows), '', ...out.lines, ...out.checks.map((c) => `check ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`)];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const { name, log } of processLogs(out)) {
    if (!log.warnings.length) continue;
    process.stdout.write(`${name} warnings/errors (first ${log.warnings.length}):\n${log.warnings.map((w) => `  ${w}`).join('\n')}\n`);
  }
}

/** The logs of the processes a scenario ran: the collector's, then any others ({name, log}). */
function processLogs(out) {
  return [...(out.collectorLog ? [{ name: 'collector', log: out.collectorLog }] : []), ...(out.logs ?? [])];
}

/** CPU model and count, memory, Node version, OS: figures mean little without them. */
function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    totalMemMB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
  };
}

/** Writes everything about the run to `file` (directories created). */
export function writeJsonReport(file, { scenario, startedAt, options, out }) {
  const json = {
    scenario,
    date: startedAt.toISOString(),
    machine: machine(),
    options: { ...options, json: undefined },
    figures: out.figures,
    totals: out.totals,
    checks: out.checks,
    collectorLog: out.collectorLog && { counts: out.collectorLog.counts, firstWarnings: out.collectorLog.warnings },
    ...(out.logs?.length ? { logs: Object.fromEntries(out.logs.map(({ name, log }) => [name, { counts: log.counts, firstWarnings: log.warnings }])) } : {}),
    samples: out.samples,
    notes: out.notes,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}
