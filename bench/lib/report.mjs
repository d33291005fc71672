/**
 * A scenario's outcome on stdout (table, summary lines, checks) and as a JSON
 * file with the machine it ran on. A scenario's outcome is
 * {headers, rows, lines, figures, totals, checks, samples, collectorLog?, notes}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { table } from './format.mjs';

export function printReport(out) {
  const lines = [table(out.headers, out.rows), '', ...out.lines, ...out.checks.map((c) => `check ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`)];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (out.collectorLog?.warnings.length) {
    process.stdout.write(
      `collector warnings/errors (first ${out.collectorLog.warnings.length}):\n${out.collectorLog.warnings.map((w) => `  ${w}`).join('\n')}\n`,
    );
  }
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
    samples: out.samples,
    notes: out.notes,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}
