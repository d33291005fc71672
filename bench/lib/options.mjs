/**
 * Command line of bench/run.mjs: the options every scenario shares, each
 * scenario's own (declared by the scenario module), the help text and
 * validation. `--scenario NAME` picks one scenario; without it all run, in
 * the order run.mjs lists them.
 *
 * A scenario module (see scenarios/ingest.mjs) exports an object with:
 *   name            what --scenario selects, the JSON file's prefix and the table's first column
 *                   (scenarios may share an option name: without --scenario it applies to each)
 *   help            {summary: paragraph, options: its option lines, quick: what --quick does}
 *   options         its options as node:util parseArgs declarations (all strings)
 *   resolveOptions  ({quick, num, values}) -> its options object; num(name, default, {min, max, integer})
 *                   validates one numeric option; values are the raw parsed options (lists, booleans)
 *   budgetMs        (opts) -> how long the whole run may take before the watchdog ends it
 *   run             (opts) -> outcome for lib/report.mjs
 */
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results');
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
    'Without --scenario every scenario runs, one after the other, each printing its',
    'own table; an option then applies to every scenario that has it.',
    '',
    ...scenarios.flatMap((s) => [s.help.summary, '']),
    'Options:',
    `  --scenario NAME           run only this one: ${scenarios.map((s) => s.name).join(', ')} (default: all)`,
    ...scenarios.flatMap((s) => [`${s.name}:`, s.help.options]),
    'common:',
    '  --json FILE               where to write all figures (default',
    '                            bench/results/<scenario>-<ISO time>.json; with several',
    '                            scenarios, FILE gets -<scenario> before its extension)',
    '  --quick                   smoke run, small sizes (explicit options still win):',
    ...scenarios.map((s) => `                              ${s.name}: ${s.help.quick}`),
    '  --keep                    keep the temp dirs (configs, logs, SQLite files)',
    '  --profile DIR             write a V8 CPU profile of the collector (.cpuprofile,',
    '                            open in Chrome DevTools) to DIR; adds profiler overhead',
    '  -h, --help                this text',
    '',
    'Exit status: 0 if every check of every scenario passed (no lost, duplicate or',
    'quarantined message, no collector or agent error), 1 otherwise or on any failure.',
  ].join('\n');
}

/** The --scenario value before full parsing: which scenarios' options are allowed depends on it. */
function scenarioName(argv) {
  const { values } = parseArgs({ args: argv, options: { scenario: { type: 'string' } }, strict: false, allowPositionals: true });
  return typeof values.scenario === 'string' ? values.scenario : undefined;
}

/** `--json FILE` for one of several scenarios: FILE with -<scenario> before its extension. */
function jsonFor(file, name, several) {
  if (!several) return resolve(file);
  const ext = extname(file);
  return resolve(`${ext ? file.slice(0, -ext.length) : file}-${name}${ext}`);
}

/**
 * {help: true}, or {runs: [{scenario, opts}]}: the scenarios to run in order
 * (the one named by --scenario, or all), each opts with the common options
 * (quick, keep, profile, json) around the scenario's own. Throws on any
 * invalid option.
 */
export function parseOptions(argv, scenarios) {
  const wanted = scenarioName(argv);
  const chosen = wanted === undefined ? scenarios : scenarios.filter((s) => s.name === wanted);
  if (chosen.length === 0) throw new UsageError(`--scenario ${wanted}: expected one of ${scenarios.map((s) => s.name).join(', ')}`);
  const { values } = parseArgs({
    args: argv,
    options: Object.assign({}, ...chosen.map((s) => s.options), COMMON_OPTIONS),
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
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runs = chosen.map((scenario) => ({
    scenario,
    opts: {
      quick,
      keep: values.keep,
      profile: values.profile === undefined ? undefined : resolve(values.profile),
      ...scenario.resolveOptions({ quick, num, values }),
      json: values.json === undefined ? join(RESULTS_DIR, `${scenario.name}-${stamp}.json`) : jsonFor(values.json, scenario.name, chosen.length > 1),
    },
  }));
  return { runs };
}
