import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '@medtel/shared';
import type { ResolvedProfile } from '../../profiles/load.js';
import type { SerialEndpoint } from '../../transports/serial/index.js';
import { prepareSerialConnection, serialConnectionSchema } from '../serial-common/config.js';
import { type PreparedModbus, registerMap } from './config.js';

export const ModbusRtuConnectionSchema = serialConnectionSchema('modbus-rtu', {
  /** 1..247: the unit's address on the shared line. */
  unitId: Type.Integer({ minimum: 1, maximum: 247 }),
  /** Silence after each transaction before the next request on the line. */
  interFrameGap: Type.String({ pattern: DURATION_PATTERN, default: '5ms', expected: 'a duration such as 5ms' }),
});

export interface PreparedModbusRtu extends Omit<PreparedModbus, 'connection'> {
  connection: Static<typeof ModbusRtuConnectionSchema>;
  endpoint: SerialEndpoint;
}

export function prepareModbusRtu(connection: unknown, profile: ResolvedProfile, where: { configFile: string; field: string }): PreparedModbusRtu {
  const prepared = prepareSerialConnection(ModbusRtuConnectionSchema, connection, profile, 'modbus', where);
  return { ...prepared, ...registerMap(profile) };
}
