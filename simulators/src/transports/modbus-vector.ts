/**
 * What a simulated device offers a Modbus transport: whole-request reads and writes over
 * the four Modbus tables. Working per request (not per register, as modbus-serial's own
 * vector does) lets a device validate a multi-register write before applying any of it and
 * answer a read from one consistent snapshot, so a float's two halves never come from
 * different ticks.
 */

/** Modbus exception codes a device may answer with. */
export const ModbusExceptionCode = {
  IllegalFunction: 1,
  IllegalDataAddress: 2,
  IllegalDataValue: 3,
  ServerDeviceFailure: 4,
} as const;

/**
 * Thrown by a vector to answer with a Modbus exception. `modbusErrorCode` is the property
 * modbus-serial's server turns into the exception response (anything else becomes code 4).
 */
export class ModbusException extends Error {
  readonly modbusErrorCode: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'ModbusException';
    this.modbusErrorCode = code;
  }
}

export interface ModbusVector {
  /** Function 01. `address` is 0-based, `count` >= 1. */
  readCoils(address: number, count: number): boolean[];
  /** Function 02. */
  readDiscreteInputs(address: number, count: number): boolean[];
  /** Function 03. */
  readHoldingRegisters(address: number, count: number): number[];
  /** Function 04. */
  readInputRegisters(address: number, count: number): number[];
  /** Functions 05 and 15 (one call per coil). */
  writeCoil(address: number, value: boolean): void;
  /** Functions 06 and 16; all or nothing. */
  writeRegisters(address: number, values: number[]): void;
  /** While true the transport sends no response at all, as a hung or unplugged device would. */
  isSilent?(): boolean;
}

/** Throws exception 2 unless [address, address + count) lies inside [0, size). */
export function checkRange(table: string, address: number, count: number, size: number): void {
  if (address < 0 || count < 1 || address + count > size) {
    throw new ModbusException(ModbusExceptionCode.IllegalDataAddress, `${table} ${address}..${address + count - 1} is outside 0..${size - 1}`);
  }
}
