import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, validateConfig } from '@medtel/shared';
import type { ResolvedProfile } from '../../profiles/load.js';
import { within } from '../config-labels.js';
import { prepareModbusDiagnostics, type ModbusDiagnostic } from './diagnostics.js';
import { RegisterReadSchema } from './register-schema.js';
import type { RegisterPoint, RegisterType, WordOrder } from './registers.js';

export { RegisterReadSchema };

const strict = { additionalProperties: false } as const;

export const ModbusTcpConnectionSchema = Type.Object(
  {
    protocol: Type.Literal('modbus-tcp'),
    host: Type.String({ minLength: 1, expected: 'a host name or IP address' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 502 }),
    unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1 }),
  },
  strict,
);

const ProfileDriverSchema = Type.Object(
  {
    wordOrder: Type.Union([Type.Literal('big'), Type.Literal('little')], { default: 'big' }),
    /** Line settings of a model read over Modbus RTU; validated by the serial transport. */
    line: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  strict,
);

export type ModbusTcpConnection = Static<typeof ModbusTcpConnectionSchema>;

export interface PreparedModbus {
  connection: ModbusTcpConnection;
  wordOrder: WordOrder;
  metricPoints: RegisterPoint[];
  identityPoints: RegisterPoint[];
  /** The profile's diagnostic tests as Modbus steps, by name. */
  diagnostics: Map<string, ModbusDiagnostic>;
}

/** Validates one profile `read` entry as Modbus register addressing. */
function toPoint(key: string, read: unknown, file: string): RegisterPoint {
  const r = validateConfig(read, file, RegisterReadSchema);
  if (r.type === 'string' && r.length === undefined) throw new ConfigError(`${file}: length: missing; a string needs its length in characters`, file, 'length');
  return { key, table: r.table, address: r.address, type: r.type as RegisterType, ...(r.length ? { length: r.length } : {}) };
}

export function prepareModbusTcp(connection: unknown, profile: ResolvedProfile, where: { configFile: string; field: string }): PreparedModbus {
  const conn = within(() => validateConfig(connection, where.configFile, ModbusTcpConnectionSchema), where.configFile, where.field);
  if (!profile.protocols.includes('modbus')) {
    throw new ConfigError(
      `${where.configFile}: ${where.field}.protocol: profile "${profile.profile}" cannot be read over Modbus (it supports ${profile.protocols.join(', ')})`,
      where.configFile,
      `${where.field}.protocol`,
    );
  }
  return { connection: conn, ...registerMap(profile) };
}

/** A profile's register addressing, shared by Modbus TCP and RTU (a model's map does not depend on the wire). */
export function registerMap(profile: ResolvedProfile): Omit<PreparedModbus, 'connection'> {
  const driver = within(() => validateConfig(profile.driver ?? {}, profile.file, ProfileDriverSchema), profile.file, 'driver');
  const metricPoints = profile.metrics.map((m, i) => within(() => toPoint(m.id, m.read, profile.file), profile.file, `metrics[${i}].read`));
  const identityPoints = Object.entries(profile.identity).flatMap(([field, spec]) =>
    spec ? [within(() => toPoint(field, spec.read, profile.file), profile.file, `identity.${field}.read`)] : [],
  );
  const diagnostics = prepareModbusDiagnostics(profile, metricPoints);
  return { wordOrder: driver.wordOrder, metricPoints, identityPoints, diagnostics };
}
