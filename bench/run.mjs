#!/usr/bin/env node
/**
 * `npm run bench`: runs one benchmark scenario against real medtel processes on
 * loopback, prints a table (stdout) and writes all figures as JSON. See
 * bench/README.md.
 *
 * This file only parses the options, runs the chosen scenario (scenarios/,
 * `--scenario NAME`, default ingest) under a watchdog and reports; the
 * collector, load processes, /proc sampling, checks and output are in lib/.
 */
import { existsSync } from 'node:fs';
import { installCleanup, keepTempDir, killAll, tempDirPath } from './lib/cleanup.mjs';
import { parseOptions, usage } from './lib/options.mjs';
import { printReport, writeJsonReport } from './lib/report.mjs';
import { ingest } from './scenarios/ingest.mjs';

const SCENARIOS = [ingest];

installCleanup();

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
  const { scenario, opts } = parsed;
  if (process.platform !== 'linux' || !existsSync('/proc/self/stat')) {
    process.stderr.write('bench: needs Linux /proc to measure the collector process\n');
    process.exit(2);
  }
  // Nothing may outlive a bounded budget.
  const budgetMs = scenario.budgetMs(opts);
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${budgetMs / 1000} s: giving up\n`);
    killAll('SIGKILL');
    process.exit(1);
  }, budgetMs);

  const startedAt = new Date();
  let out;
  try {
    out = await scenario.run(opts);
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n`);
    const kept = keepTempDir();
    if (kept) process.stderr.write(`bench: collector config, log and store kept in ${kept}\n`);
    killAll('SIGKILL');
    process.exit(1);
  }
  clearTimeout(watchdog);

  printReport(out);
  writeJsonReport(opts.json, { scenario: scenario.name, startedAt, options: opts, out });
  process.stderr.write(`bench: figures written to ${opts.json}${opts.keep ? `; temp dir kept: ${tempDirPath()}` : ''}\n`);
  process.exit(out.checks.some((c) => !c.ok) ? 1 : 0);
}

main();
