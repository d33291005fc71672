import type { Driver } from './types.js';
import { ecgStreamDriver } from './ecg-stream/index.js';
import { medibusDriver } from './medibus/index.js';
import { modbusRtuDriver, modbusTcpDriver } from './modbus/index.js';
import { opcuaDriver } from './opcua/index.js';

/** Every protocol the agent speaks, by `connection.protocol`. Adding a protocol = a folder + a line here. */
const DRIVERS: Driver[] = [modbusTcpDriver as Driver, medibusDriver as Driver, ecgStreamDriver as Driver, modbusRtuDriver as Driver, opcuaDriver as Driver];

export function findDriver(protocol: string): Driver | undefined {
  return DRIVERS.find((d) => d.protocols.includes(protocol));
}

export function knownProtocols(): string[] {
  return DRIVERS.flatMap((d) => [...d.protocols]);
}
