import { LOG_LEVELS, parseDuration } from '@medtel/shared';
import { isRegisterText, PUMP_LIMITS, type PumpScenario } from './devices/infusion-pump.js';
import type { PumpSimulatorOptions } from './pump.js';

/**
 * `medtel-sim pump` flags -> startPumpSimulator options. Kept apart from commander so every
 * rule is testable and every rejection reads the same way: the flag, what was found, what
 * is expected, on one line.
 */

export class UsageError extends Error {
  constructor(
    readonly flag: string,
    found: string | undefined,
    expected: string,
  ) {
    super(found === undefined ? `${flag}: ${expected}` : `${flag}: found ${JSON.stringify(found)}, expected ${expected}`);
    this.name = 'UsageError';
  }
}

/** The flags as commander hands them over: strings (booleans for switches), unvalidated. */
export interface PumpCliFlags {
  modbusTcp?: string;
  unitId?: string;
  serial?: string;
  drug?: string;
  concentration?: string;
  rate?: string;
  vtbi?: string;
  stopped?: boolean;
  scenario?: string;
  occlusionAfter?: string;
  occlusionDuration?: string;
  silentAfter?: string;
  silentFor?: string;
  seed?: string;
  logLevel?: string;
}

export interface PumpCliOptions {
  simulator: PumpSimulatorOptions & { host: string };
  logLevel: string;
}

export const PUMP_CLI_DEFAULTS = {
  unitId: '1',
  serial: 'PUMP-0001',
  drug: 'Heparin',
  concentration: '100',
  rate: '125',
  vtbi: '1000',
  logLevel: 'info',
} as const;

export const SCENARIOS = ['occlusion', 'silent', 'selftest-fail'] as const;

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function number(flag: string, text: string, min: number, max: number): number {
  const value = DECIMAL.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(flag, text, `a number between ${min} and ${max}`);
  return value;
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim()) || !(Number(text) >= min && Number(text) <= max)) {
    throw new UsageError(flag, text, `an integer between ${min} and ${max}`);
  }
  return Number(text);
}

function seconds(flag: string, text: string): number {
  try {
    return parseDuration(text) / 1000;
  } catch {
    throw new UsageError(flag, text, 'a duration such as 500ms, 10s, 2m or 1h');
  }
}

function text(flag: string, value: string, maxChars: number): string {
  if (value.length === 0 || !isRegisterText(value, maxChars)) {
    throw new UsageError(flag, value, `1 to ${maxChars} printable ASCII characters`);
  }
  return value;
}

/** HOST:PORT, with IPv6 hosts in brackets ([::1]:5020). Port 0 is refused: modbus-serial would bind 502. */
export function parseHostPort(flag: string, value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]\s]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !(port >= 1 && port <= 65535)) {
    throw new UsageError(flag, value, 'HOST:PORT with a port between 1 and 65535, e.g. 127.0.0.1:5020');
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

export function parsePumpCliFlags(flags: PumpCliFlags): PumpCliOptions {
  const address = flags.modbusTcp === undefined ? undefined : parseHostPort('--modbus-tcp', flags.modbusTcp);
  const unitId = integer('--unit-id', flags.unitId ?? PUMP_CLI_DEFAULTS.unitId, 1, 247);
  const serial = text('--serial', flags.serial ?? PUMP_CLI_DEFAULTS.serial, PUMP_LIMITS.serialChars);
  const drugName = text('--drug', flags.drug ?? PUMP_CLI_DEFAULTS.drug, PUMP_LIMITS.drugNameChars);
  const c = PUMP_LIMITS.concentrationMgPerMl;
  const concentrationMgPerMl = number('--concentration', flags.concentration ?? PUMP_CLI_DEFAULTS.concentration, c.min, c.max);
  const r = PUMP_LIMITS.rateMlPerH;
  const rateMlPerH = number('--rate', flags.rate ?? PUMP_CLI_DEFAULTS.rate, r.min, r.max);
  const v = PUMP_LIMITS.vtbiMl;
  const vtbiMl = number('--vtbi', flags.vtbi ?? PUMP_CLI_DEFAULTS.vtbi, v.min, v.max);
  const seed = flags.seed === undefined ? undefined : integer('--seed', flags.seed, 0, 0xffff_ffff);

  const logLevel = flags.logLevel ?? PUMP_CLI_DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError('--log-level', logLevel, `one of ${LOG_LEVELS.join(', ')}`);
  }

  if (flags.scenario !== undefined && !(SCENARIOS as readonly string[]).includes(flags.scenario)) {
    throw new UsageError('--scenario', flags.scenario, `one of ${SCENARIOS.join(', ')}`);
  }
  // A timing flag for a scenario that is not running would be silently ignored: refuse it.
  const timing: Array<[string, string | undefined, string]> = [
    ['--occlusion-after', flags.occlusionAfter, 'occlusion'],
    ['--occlusion-duration', flags.occlusionDuration, 'occlusion'],
    ['--silent-after', flags.silentAfter, 'silent'],
    ['--silent-for', flags.silentFor, 'silent'],
  ];
  for (const [flag, value, scenario] of timing) {
    if (value !== undefined && flags.scenario !== scenario) {
      throw new UsageError(flag, undefined, `only applies with --scenario ${scenario}`);
    }
  }

  // Checked last, so `pump --rate abc` names the bad value rather than the missing address.
  if (address === undefined) {
    throw new UsageError('--modbus-tcp', undefined, 'required: HOST:PORT to listen on, e.g. 127.0.0.1:5020');
  }
  const { host, port } = address;

  let scenario: PumpScenario | undefined;
  if (flags.scenario === 'occlusion') {
    scenario = { kind: 'occlusion' };
    if (flags.occlusionAfter !== undefined) scenario.occlusionAfterS = seconds('--occlusion-after', flags.occlusionAfter);
    if (flags.occlusionDuration !== undefined) {
      scenario.occlusionDurationS = seconds('--occlusion-duration', flags.occlusionDuration);
    }
  } else if (flags.scenario === 'silent') {
    scenario = { kind: 'silent' };
    if (flags.silentAfter !== undefined) scenario.silentAfterS = seconds('--silent-after', flags.silentAfter);
    if (flags.silentFor !== undefined) scenario.silentForS = seconds('--silent-for', flags.silentFor);
  } else if (flags.scenario === 'selftest-fail') {
    scenario = { kind: 'selftest-fail' };
  }

  return {
    logLevel,
    simulator: {
      host,
      port,
      unitId,
      serial,
      drugName,
      concentrationMgPerMl,
      rateMlPerH,
      vtbiMl,
      running: !flags.stopped,
      ...(scenario ? { scenario } : {}),
      ...(seed === undefined ? {} : { seed }),
    },
  };
}
