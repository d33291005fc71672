#!/usr/bin/env node
import { createLogger, MEDTEL_VERSION } from '@medtel/shared';
import { Command, CommanderError } from 'commander';
import { startPumpSimulator } from './pump.js';
import { addPatientFlags, type PatientCliFlags, parsePatientFlags } from './patient-options.js';
import { addOpcuaCommands } from './opcua-commands.js';
import { addSerialCommands } from './serial-commands.js';
import { PUMP_CLI_DEFAULTS, type PumpCliFlags, parsePumpCliFlags, SCENARIOS, UsageError } from './pump-options.js';

/**
 * `medtel-sim`: device simulators for development, tests and demos. Usage mistakes print
 * one line on stderr and exit 2 (no stack trace: the reader is a person at a terminal or a
 * test); runtime failures exit 1; a clean stop on SIGINT/SIGTERM exits 0.
 */

const PROGRAM = 'medtel-sim';
const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function fail(message: string, code: number): never {
  process.stderr.write(`${PROGRAM}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
  process.exit(code);
}

const program = new Command(PROGRAM)
  .description('Medical device simulators speaking the devices’ own protocols')
  .version(MEDTEL_VERSION)
  // Set before .command(): subcommands inherit both. Commander's own errors then take our
  // one-line form ("error: unknown option ..." -> "medtel-sim: unknown option ...").
  .configureOutput({ outputError: () => {} })
  .exitOverride()
  .showSuggestionAfterError(true);

addPatientFlags(program.command('pump'))
  .description('Large-volume infusion pump MT-LVP-100 over Modbus TCP (docs/simulators/infusion-pump.md)')
  .option('--modbus-tcp <host:port>', 'listen for Modbus TCP here (required), e.g. 127.0.0.1:5020')
  .option('--unit-id <n>', 'Modbus unit id, 1..247', PUMP_CLI_DEFAULTS.unitId)
  .option('--serial <s>', 'serial number, up to 16 ASCII characters', PUMP_CLI_DEFAULTS.serial)
  .option('--drug <name>', 'drug name, up to 20 ASCII characters', PUMP_CLI_DEFAULTS.drug)
  .option('--concentration <mg_per_ml>', 'drug concentration, mg/mL (0.001..1000)', PUMP_CLI_DEFAULTS.concentration)
  .option('--rate <ml_per_h>', 'programmed rate, mL/h (0.1..1200)', PUMP_CLI_DEFAULTS.rate)
  .option('--vtbi <ml>', 'volume to be infused, mL (1..9999)', PUMP_CLI_DEFAULTS.vtbi)
  .option('--stopped', 'start stopped instead of running')
  .option('--scenario <name>', `scripted fault: ${SCENARIOS.join(' | ')}`)
  .option('--occlusion-after <duration>', 'occlusion: when the line blocks (default 10s)')
  .option('--occlusion-duration <duration>', 'occlusion: how long it stays blocked (default: for ever)')
  .option('--silent-after <duration>', 'silent: when the device stops answering (default 10s)')
  .option('--silent-for <duration>', 'silent: how long it stays silent (default: for ever)')
  .option('--seed <n>', 'seed for the simulated noise (default: random, logged at start)')
  .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent', PUMP_CLI_DEFAULTS.logLevel)
  .action(async (flags: PumpCliFlags & PatientCliFlags) => {
    let parsed: ReturnType<typeof parsePumpCliFlags>;
    let patient: ReturnType<typeof parsePatientFlags>;
    try {
      parsed = parsePumpCliFlags(flags);
      patient = parsePatientFlags(flags);
    } catch (err) {
      if (err instanceof UsageError) fail(err.message, EXIT_USAGE);
      throw err;
    }
    const { simulator: options, logLevel } = parsed;
    const logger = createLogger({ name: PROGRAM, level: logLevel, base: { device: 'pump', serial: options.serial } });

    let sim: Awaited<ReturnType<typeof startPumpSimulator>>;
    try {
      sim = await startPumpSimulator({ ...options, logger, ...(patient ? { patient } : {}) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      fail(`cannot listen on ${options.host}:${options.port}: ${code ?? (err as Error).message}`, EXIT_FAILURE);
    }
    logger.info(
      {
        host: sim.host,
        port: sim.port,
        unitId: sim.unitId,
        seed: sim.pump.seed,
        scenario: options.scenario ?? null,
        state: sim.pump.snapshot().state,
        version: MEDTEL_VERSION,
      },
      'pump simulator listening',
    );

    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(EXIT_FAILURE); // a second Ctrl-C: give up waiting
      stopping = true;
      logger.info({ signal, stats: sim.stats() }, 'pump simulator stopping');
      sim.close().then(
        () => logger.flush(() => process.exit(0)),
        (err: unknown) => {
          logger.error({ err }, 'pump simulator did not close cleanly');
          logger.flush(() => process.exit(EXIT_FAILURE));
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

addSerialCommands(program, fail);
addOpcuaCommands(program, fail);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version are not errors; everything else commander rejects is usage.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    // No subcommand: commander has already printed the help on stderr.
    if (err.code === 'commander.help') process.exit(EXIT_USAGE);
    fail(err.message.replace(/^error: /, ''), EXIT_USAGE);
  }
  fail(err instanceof Error ? err.message : String(err), EXIT_FAILURE);
}
