/**
 * Command line of bench/run.mjs: the options every scenario shares, each
 * scenario's own (declared by the scenario module), the help text and
 * validation. `--scenario NAME` picks the scenario (default ingest).
 *
 * A scenario module (see scenarios/ingest.mjs) exports an object with:
 *   name            what --scenario selects, the JSON file's prefix and the table's first column
 *   help            {summary: paragraph, options: its option lines, quick: what --quick does}
 *   options         its options as node:util parseArgs declarations (all strings)
 *   resolveOptions  ({quick, num}) -> its options object; num(name, default, {min, max, integer})
 *                   validates one numeric option
 *   budgetMs        (opts) -> how long the whole run may take before the watchdog ends it
 *   run             (opts) -> outcome for lib/report.mjs
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results');
export const DEFAULT_SCENARIO = 'ingest';

export class UsageError extends Error {}

const COMMON_OPTIONS = {
  scenario: { type: 'string' },
  json: { type: 'string' },
  quick: { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};

export function usage(scenarios) {
  return [
    'Usage: node bench/run.mjs [options]      (or: npm run bench -- [options])',
    '',
    ...scenarios.flatMap((s) => [s.help.summary, '']),
    'Options:',
    `  --scenario NAME           what to run: ${scenarios.map((s) => (s.name === DEFAULT_SCENARIO ? `${s.name} (default)` : s.name)).join(', ')}`,
    ...scenarios.map((s) => s.help.options),
    '  --json FILE               where to write all figures',
    '                            (default bench/results/<scenario>-<ISO time>.json)',
    `  --quick                   smoke run: ${scenarios.map((s) => s.help.quick).join('; ')}`,
    '                            (explicit options still win)',
    '  --keep                    keep the temp dir (collector config, log, SQLite file)',
    '  --profile DIR             write a V8 CPU profile of the collector (.cpuprofile,',
    '                            open in Chrome DevTools) to DIR; adds profiler overhead',
    '  -h, --help                this text',
    '',
    'Exit status: 0 if every check passed (no lost, duplicate or quarantined',
    'message, no collector error), 1 otherwise or on any failure.',
  ].join('\n');
}

/** The --scenario value before full parsing: which scenario's options are allowed depends on it. */
function scenarioName(argv) {
  const { values } = parseArgs({ args: argv, options: { scenario: { type: 'string' } }, strict: false, allowPositionals: true });
  return typeof values.scenario === 'string' ? values.scenario : DEFAULT_SCENARIO;
}

/**
 * {help: true}, or {scenario, opts}: opts has the common options (quick, keep,
 * profile, json) around the scenario's own. Throws on any invalid option.
 */
export function parseOptions(argv, scenarios) {
  const wanted = scenarioName(argv);
  const scenario = scenarios.find((s) => s.name === wanted);
  if (!scenario) throw new UsageError(`--scenario ${wanted}: expected one of ${scenarios.map((s) => s.name).join(', ')}`);
  const { values } = parseArgs({
    args: argv,
    options: { ...scenario.options, ...COMMON_OPTIONS },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { help: true };
  const quick = values.quick;
  const num = (name, fallback, { min, max, integer = true }) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      throw new UsageError(`--${name} ${raw}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
    return n;
  };
  const opts = {
    quick,
    keep: values.keep,
    profile: values.profile === undefined ? undefined : resolve(values.profile),
    ...scenario.resolveOptions({ quick, num }),
    json: values.json ?? join(RESULTS_DIR, `${scenario.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  };
  return { scenario, opts };
}
