import { createLogger, type Logger } from '@medtel/shared';
import type { Command } from 'commander';
import { VENT_SCENARIOS, type VentScenario } from './devices/ventilator.js';
import { XRAY_SCENARIOS, type XrayScenario } from './devices/xray-generator.js';
import { startEcgSimulator } from './ecg.js';
import { addPatientFlags, type PatientCliFlags, parsePatientFlags } from './patient-options.js';
import { UsageError } from './pump-options.js';
import { addSerialFlags, parseSeconds, parseSerialFlags, type SerialCliFlags } from './serial-options.js';
import { startVentilatorSimulator } from './ventilator.js';
import { startXraySimulator } from './xray.js';

/** `medtel-sim ventilator|ecg|xray`: serial device simulators (docs/simulators/). */

interface Running {
  where: string;
  stats(): unknown;
  close(): Promise<void>;
}

type Fail = (message: string, code: number) => never;

async function run(name: string, fail: Fail, build: (logger: Logger) => Promise<Running>, logLevel: string, extra: Record<string, unknown>) {
  const logger = createLogger({ name: 'medtel-sim', level: logLevel, base: { device: name } });
  let sim: Running;
  try {
    sim = await build(logger);
  } catch (err) {
    fail(`cannot open the serial line: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1);
  }
  logger.info({ where: sim.where, ...extra }, `${name} simulator listening`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal, stats: sim.stats() }, `${name} simulator stopping`);
    sim.close().then(
      () => logger.flush(() => process.exit(0)),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function parse<T>(fail: Fail, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError) fail(err.message, 2);
    throw err;
  }
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(flag, value, allowed.join(' | '));
  return value as T;
}

export function addSerialCommands(program: Command, fail: Fail): void {
  addSerialFlags(
    addPatientFlags(program.command('ventilator'))
      .description('Ventilator MT-VENT-500, MEDIBUS-style polled protocol on a serial line (docs/simulators/ventilator.md)')
      .option('--serial <s>', 'serial number', 'VENT-0001')
      .option('--scenario <name>', `alarm condition: ${VENT_SCENARIOS.join(' | ')}`)
      .option('--scenario-after <duration>', 'when the condition appears (default 10s)')
      .option('--scenario-for <duration>', 'how long it lasts (default: for ever)'),
  ).action(async (flags: SerialCliFlags & PatientCliFlags & { serial: string; scenario?: string; scenarioAfter?: string; scenarioFor?: string }) => {
    const { options, logLevel, scenario, after, forS, patient } = parse(fail, () => ({
      patient: parsePatientFlags(flags),
      ...parseSerialFlags(flags),
      scenario: oneOf<VentScenario>('--scenario', flags.scenario, VENT_SCENARIOS),
      after: parseSeconds('--scenario-after', flags.scenarioAfter),
      forS: parseSeconds('--scenario-for', flags.scenarioFor),
    }));
    await run(
      'ventilator',
      fail,
      (logger) =>
        startVentilatorSimulator({
          ...options,
          logger,
          serial: flags.serial,
          answerDelayMs: 2,
          ...(patient ? { patient } : {}),
          ...(scenario ? { scenario } : {}),
          ...(after !== undefined ? { scenarioAfterS: after } : {}),
          ...(forS !== undefined ? { scenarioForS: forS } : {}),
        }),
      logLevel,
      { serial: flags.serial, scenario: scenario ?? null },
    );
  });

  addSerialFlags(
    addPatientFlags(program.command('ecg'))
      .description('Patient monitor MT-ECG-12 streaming ECG waveforms and numerics on a serial line (docs/simulators/ecg.md)')
      .option('--serial <s>', 'serial number', 'ECG-0001')
      .option('--leads <n>', '3 or 12', '12')
      .option('--rate <hz>', '250 or 500 samples per second per lead', '500')
      .option('--heart-rate <bpm>', 'heart rate, 30..220', '72'),
  ).action(async (flags: SerialCliFlags & PatientCliFlags & { serial: string; leads: string; rate: string; heartRate: string }) => {
    const { options, logLevel, leads, rateHz, heartRate, patient } = parse(fail, () => {
      const leads = oneOf('--leads', flags.leads, ['3', '12'] as const);
      const rate = oneOf('--rate', flags.rate, ['250', '500'] as const);
      const hr = Number(flags.heartRate);
      if (!(hr >= 30 && hr <= 220)) throw new UsageError('--heart-rate', flags.heartRate, 'a number between 30 and 220');
      return {
        ...parseSerialFlags(flags),
        leads: Number(leads) as 3 | 12,
        rateHz: Number(rate) as 250 | 500,
        heartRate: hr,
        patient: parsePatientFlags(flags),
      };
    });
    await run(
      'ecg',
      fail,
      (logger) => startEcgSimulator({ ...options, logger, serial: flags.serial, leads, rateHz, heartRate, ...(patient ? { patient } : {}) }),
      logLevel,
      {
        serial: flags.serial,
        leads,
        rateHz,
      },
    );
  });

  addSerialFlags(
    program
      .command('xray')
      .description('X-ray generators MT-XR-80 sharing one Modbus RTU line (docs/simulators/xray.md)')
      .option('--units <ids>', 'unit ids on the line, comma-separated', '1,2')
      .option('--dead-units <ids>', 'unit ids that never answer')
      .option('--serial-prefix <s>', 'serial numbers are <prefix><unit id>', 'XR-000')
      .option('--scenario <name>', `${XRAY_SCENARIOS.join(' | ')} (all units)`)
      .option('--scenario-after <duration>', 'when it starts (default 5s)'),
  ).action(async (flags: SerialCliFlags & { units: string; deadUnits?: string; serialPrefix: string; scenario?: string; scenarioAfter?: string }) => {
    const ids = (flag: string, text: string) =>
      text.split(',').map((t) => {
        const n = Number(t.trim());
        if (!(Number.isInteger(n) && n >= 1 && n <= 247)) throw new UsageError(flag, text, 'unit ids 1..247, comma-separated');
        return n;
      });
    const { options, logLevel, units, dead, scenario, after } = parse(fail, () => ({
      ...parseSerialFlags(flags),
      units: ids('--units', flags.units),
      dead: flags.deadUnits ? ids('--dead-units', flags.deadUnits) : [],
      scenario: oneOf<XrayScenario>('--scenario', flags.scenario, XRAY_SCENARIOS),
      after: parseSeconds('--scenario-after', flags.scenarioAfter),
    }));
    await run(
      'xray',
      fail,
      (logger) =>
        startXraySimulator({
          ...options,
          logger,
          units: units.map((unitId) => ({ unitId, serial: `${flags.serialPrefix}${unitId}` })),
          deadUnits: dead,
          ...(scenario ? { scenario } : {}),
          ...(after !== undefined ? { scenarioAfterS: after } : {}),
        }),
      logLevel,
      { units, deadUnits: dead },
    );
  });
}
