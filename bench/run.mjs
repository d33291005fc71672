#!/usr/bin/env node
/**
 * `npm run bench`: runs benchmark scenarios against real medtel processes on
 * loopback, prints a table per scenario (stdout) and writes all figures as
 * JSON, one file per scenario. See bench/README.md.
 *
 * This file only parses the options, runs the chosen scenario (scenarios/,
 * `--scenario NAME`), or all of them one after the other, each under its own
 * watchdog, and reports; the collector, agent, load processes, /proc
 * sampling, checks and output are in lib/.
 */
import { existsSync } from 'node:fs';
import { installCleanup, keepTempDir, killAll, releaseTempDir, tempDirPath } from './lib/cleanup.mjs';
import { parseOptions, usage } from './lib/options.mjs';
import { printReport, writeJsonReport } from './lib/report.mjs';
import { drain } from './scenarios/drain.mjs';
import { ecg } from './scenarios/ecg.mjs';
import { ingest } from './scenarios/ingest.mjs';
import { opcua } from './scenarios/opcua.mjs';
import { peers } from './scenarios/peers.mjs';
import { phi } from './scenarios/phi.mjs';

/** In the order they run without --scenario. */
const SCENARIOS = [ingest, drain, ecg, opcua, phi, peers];

installCleanup();

/** Runs one scenario under a watchdog; prints its table and writes its JSON. Returns true if every check passed. */
async function runScenario(scenario, opts, { several }) {
  if (several) process.stdout.write(`\n## ${scenario.name}\n\n`);
  // Nothing may outlive a bounded budget.
  const budgetMs = scenario.budgetMs(opts);
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: ${scenario.name} still running after ${budgetMs / 1000} s: giving up\n`);
    killAll('SIGKILL');
    process.exit(1);
  }, budgetMs);

  const startedAt = new Date();
  let out;
  try {
    out = await scenario.run(opts);
  } catch (err) {
    clearTimeout(watchdog);
    process.stderr.write(`bench: ${scenario.name}: ${err.message}\n`);
    process.stdout.write(`${scenario.name}: FAILED: ${err.message}\n`);
    const kept = keepTempDir();
    if (kept) process.stderr.write(`bench: configs, logs and stores kept in ${kept}\n`);
    killAll('SIGKILL');
    releaseTempDir();
    return false;
  }
  clearTimeout(watchdog);

  printReport(out);
  writeJsonReport(opts.json, { scenario: scenario.name, startedAt, options: opts, out });
  const ok = out.checks.every((c) => c.ok);
  // A failed check keeps the evidence (logs, configs, SQLite files).
  const kept = opts.keep || !ok ? keepTempDir() : undefined;
  process.stderr.write(`bench: ${scenario.name} figures written to ${opts.json}${kept ? `; temp dir kept: ${tempDirPath()}` : ''}\n`);
  releaseTempDir();
  return ok;
}

async function main() {
  let parsed;
  try {
    parsed = parseOptions(process.argv.slice(2), SCENARIOS);
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n\n${usage(SCENARIOS)}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${usage(SCENARIOS)}\n`);
    process.exit(0);
  }
  if (process.platform !== 'linux' || !existsSync('/proc/self/stat')) {
    process.stderr.write('bench: needs Linux /proc to measure the collector and agent processes\n');
    process.exit(2);
  }
  const several = parsed.runs.length > 1;
  let ok = true;
  for (const { scenario, opts } of parsed.runs) {
    ok = (await runScenario(scenario, opts, { several })) && ok;
  }
  process.exit(ok ? 0 : 1);
}

main();
