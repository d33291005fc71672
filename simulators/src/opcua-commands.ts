import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, LOG_LEVELS } from '@medtel/shared';
import type { Command } from 'commander';
import { CT_SCENARIOS, type CtScenario } from './devices/ct-scanner.js';
import { MRI_SCENARIOS, type MriScenario } from './devices/mri-scanner.js';
import { UsageError } from './pump-options.js';
import { parseSeconds } from './serial-options.js';

/**
 * `medtel-sim mri|ct --opcua-port N`: imaging systems as OPC UA servers
 * (docs/simulators/mri.md, ct.md). node-opcua is imported only when one of
 * these commands runs, so the other simulators do not pay for it.
 */

type Fail = (message: string, code: number) => never;

interface OpcuaFlags {
  opcuaPort?: string;
  host: string;
  serial?: string;
  pki?: string;
  strictClientTrust?: boolean;
  user?: string[];
  noAnonymous?: boolean;
  anonymous?: boolean;
  scenario?: string;
  scenarioAfter?: string;
  seed?: string;
  logLevel: string;
}

function common(flags: OpcuaFlags, device: string) {
  const port = Number(flags.opcuaPort);
  if (flags.opcuaPort === undefined) throw new UsageError('--opcua-port', undefined, 'give the port to listen on, e.g. --opcua-port 4840');
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new UsageError('--opcua-port', flags.opcuaPort, 'a port 1..65535');
  if (!(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) throw new UsageError('--log-level', flags.logLevel, LOG_LEVELS.join(', '));
  if (flags.seed !== undefined && !/^\d{1,10}$/.test(flags.seed)) throw new UsageError('--seed', flags.seed, 'an integer between 0 and 4294967295');
  const users = Object.fromEntries(
    (flags.user ?? []).map((u) => {
      const i = u.indexOf(':');
      if (i < 1) throw new UsageError('--user', u, 'name:password');
      return [u.slice(0, i), u.slice(i + 1)];
    }),
  );
  const after = parseSeconds('--scenario-after', flags.scenarioAfter);
  return {
    port,
    host: flags.host,
    pkiDir: flags.pki ?? join(tmpdir(), `medtel-sim-${device}-pki-${port}`),
    acceptAnyClient: !flags.strictClientTrust,
    ...(Object.keys(users).length > 0 ? { users } : {}),
    anonymous: flags.anonymous !== false,
    ...(flags.seed !== undefined ? { seed: Number(flags.seed) } : {}),
    ...(flags.serial ? { serial: flags.serial } : {}),
    ...(after !== undefined ? { scenarioAfterS: after } : {}),
  };
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(flag, value, allowed.join(' | '));
  return value as T;
}

function withCommonFlags(cmd: Command, defaultSerial: string, scenarios: readonly string[]): Command {
  return cmd
    .option('--opcua-port <n>', 'listen for OPC UA here (required); endpoint opc.tcp://HOST:N/medtel')
    .option('--host <h>', 'address to bind and advertise', '127.0.0.1')
    .option('--serial <s>', 'serial number', defaultSerial)
    .option('--pki <dir>', "the server's PKI folder (its certificate, trusted/rejected clients); default: a folder in the temp dir")
    .option('--strict-client-trust', 'accept only client certificates in <pki>/trusted/certs (default: accept any, as a bench device)')
    .option('--user <name:password>', 'a user for user/password identity (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--no-anonymous', 'refuse anonymous sessions')
    .option('--scenario <name>', scenarios.join(' | '))
    .option('--scenario-after <duration>', 'when the scenario starts (default 5s)')
    .option('--seed <n>', 'seed for the simulated noise (default: random, logged at start)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent', 'info');
}

async function serve(name: string, fail: Fail, flags: OpcuaFlags, start: () => Promise<{ endpoint: string; seed: number; close(): Promise<void> }>) {
  const logger = createLogger({ name: 'medtel-sim', level: flags.logLevel, base: { device: name } });
  let sim: Awaited<ReturnType<typeof start>>;
  try {
    sim = await start();
  } catch (err) {
    fail(`cannot start the OPC UA server on port ${flags.opcuaPort}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1);
  }
  logger.info({ endpoint: sim.endpoint, seed: sim.seed, scenario: flags.scenario ?? null }, `${name} simulator listening`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, `${name} simulator stopping`);
    sim.close().then(
      () => logger.flush(() => process.exit(0)),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export function addOpcuaCommands(program: Command, fail: Fail): void {
  const parse = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof UsageError) fail(err.message, 2);
      throw err;
    }
  };

  withCommonFlags(
    program.command('mri').description('MRI MT-MR-15: magnet, helium and cooling plant over OPC UA (docs/simulators/mri.md)'),
    'MR-000001',
    MRI_SCENARIOS,
  )
    .option('--leak-rate <pct_per_h>', 'helium-leak: level loss, % per hour (default 2)')
    .action(async (flags: OpcuaFlags & { leakRate?: string }) => {
      const options = parse(() => {
        const leak = flags.leakRate === undefined ? undefined : Number(flags.leakRate);
        if (leak !== undefined && !(leak > 0 && leak <= 10_000)) throw new UsageError('--leak-rate', flags.leakRate, 'a number of % per hour, > 0');
        return {
          ...common(flags, 'mri'),
          ...(flags.scenario ? { scenario: oneOf<MriScenario>('--scenario', flags.scenario, MRI_SCENARIOS) as MriScenario } : {}),
          ...(leak !== undefined ? { leakPercentPerHour: leak } : {}),
        };
      });
      const { startMriSimulator } = await import('./opcua/imaging.js');
      await serve('mri', fail, flags, () => startMriSimulator(options));
    });

  withCommonFlags(
    program.command('ct').description('CT MT-CT-64: tube heat, gantry and detector over OPC UA (docs/simulators/ct.md)'),
    'CT-000001',
    CT_SCENARIOS,
  )
    .option('--scan-every <duration>', 'time between routine scans (default 20s)')
    .action(async (flags: OpcuaFlags & { scanEvery?: string }) => {
      const options = parse(() => {
        const every = parseSeconds('--scan-every', flags.scanEvery);
        return {
          ...common(flags, 'ct'),
          ...(flags.scenario ? { scenario: oneOf<CtScenario>('--scenario', flags.scenario, CT_SCENARIOS) as CtScenario } : {}),
          ...(every !== undefined ? { scanEveryS: every } : {}),
        };
      });
      const { startCtSimulator } = await import('./opcua/imaging.js');
      await serve('ct', fail, flags, () => startCtSimulator(options));
    });
}
