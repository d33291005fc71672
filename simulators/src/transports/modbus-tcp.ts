import type { Logger } from '@medtel/shared';
import { type FCallback, type FCallbackVal, type IServiceVector, ServerTCP } from 'modbus-serial';
import { ModbusException, ModbusExceptionCode, type ModbusVector } from './modbus-vector.js';

/**
 * Serves a ModbusVector over Modbus TCP with modbus-serial's ServerTCP, hiding its quirks
 * (see servers/servertcp.js and servertcp_handler.js in modbus-serial 8.0.25):
 * - `port: 0` (or `unitID: 0`) is falsy and silently becomes 502 (or "any unit"): we refuse.
 * - it picks callback or value/promise style by each vector function's arity; only the
 *   callback style lets a request go unanswered, so every function below takes `cb`.
 * - a missing vector function leaves that request unanswered for ever, so all are defined.
 * - an error answers with an exception only if it carries `modbusErrorCode` (else code 4).
 * - function 16 through per-register `setRegister` answers after the first register and
 *   loses later errors; `setRegisterArray` gets the whole write.
 */

export interface ModbusTcpOptions {
  /** Address to bind, e.g. 127.0.0.1 or 0.0.0.0. */
  host: string;
  /** 1..65535. There is no "pick a free port" (0): modbus-serial would bind 502. */
  port: number;
  /** 1..255; requests for another unit id are dropped unanswered. 255 answers any unit id. */
  unitId: number;
  vector: ModbusVector;
  logger?: Logger;
}

export interface ModbusTcpStats {
  /** Requests that reached the device (malformed frames and other unit ids never do). */
  requests: number;
  /** Of those, the ones left without a response because the device was silent. */
  unanswered: number;
}

export interface ModbusTcpServer {
  readonly host: string;
  readonly port: number;
  readonly unitId: number;
  stats(): ModbusTcpStats;
  /** Stops listening and drops connected clients; resolves once the port is free. */
  close(): Promise<void>;
}

/** The largest read a Modbus frame can carry (function 03/04: 125 registers). */
const MAX_READ_REGISTERS = 125;

export async function serveModbusTcp(options: ModbusTcpOptions): Promise<ModbusTcpServer> {
  const { host, port, unitId, vector, logger } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Modbus TCP port must be 1..65535, got ${port} (modbus-serial binds 502 for port 0)`);
  }
  if (!Number.isInteger(unitId) || unitId < 1 || unitId > 255) {
    throw new RangeError(`Modbus unit id must be 1..255, got ${unitId}`);
  }

  const stats: ModbusTcpStats = { requests: 0, unanswered: 0 };

  // ServerTCP runs each request in its own setTimeout(0) and, for coil reads, calls the
  // vector once per coil in one synchronous burst. A burst is therefore one request: count
  // it once and decide silence once, so a request is never half answered.
  let current: { silent: boolean } | undefined;
  const beginRequest = (): { silent: boolean } => {
    if (current) return current;
    const silent = vector.isSilent?.() ?? false;
    current = { silent };
    stats.requests += 1;
    if (silent) stats.unanswered += 1;
    queueMicrotask(() => {
      current = undefined;
    });
    return current;
  };

  /** Run `work` for a request and call back with its value or exception; never call back when silent. */
  function answer<T>(cb: FCallbackVal<T>, fallback: T, work: () => T): void {
    if (beginRequest().silent) return;
    let value: T;
    try {
      value = work();
    } catch (err) {
      // `fallback` matters: for multi-register reads ServerTCP indexes the value even on error.
      cb(err instanceof Error ? err : new Error(String(err)), fallback);
      return;
    }
    cb(null, value);
  }
  function acknowledge(cb: FCallback, work: () => void): void {
    answer<null>(
      (err) => cb(err),
      null,
      () => {
        work();
        return null;
      },
    );
  }
  const readMany = (read: (a: number, n: number) => number[], address: number, length: number) => {
    if (length > MAX_READ_REGISTERS) {
      // 126..127 reach us; from 128 on ServerTCP fails first and answers exception 4.
      throw new ModbusException(ModbusExceptionCode.IllegalDataValue, `at most ${MAX_READ_REGISTERS} registers per read`);
    }
    return read(address, length);
  };

  const serviceVector: IServiceVector = {
    getCoil: (address: number, _unit: number, cb: FCallbackVal<boolean>) => answer(cb, false, () => vector.readCoils(address, 1)[0] ?? false),
    getDiscreteInput: (address: number, _unit: number, cb: FCallbackVal<boolean>) => answer(cb, false, () => vector.readDiscreteInputs(address, 1)[0] ?? false),
    getHoldingRegister: (address: number, _unit: number, cb: FCallbackVal<number>) => answer(cb, 0, () => vector.readHoldingRegisters(address, 1)[0] ?? 0),
    getInputRegister: (address: number, _unit: number, cb: FCallbackVal<number>) => answer(cb, 0, () => vector.readInputRegisters(address, 1)[0] ?? 0),
    getMultipleHoldingRegisters: (address: number, length: number, _unit: number, cb: FCallbackVal<number[]>) =>
      answer(cb, [], () => readMany((a, n) => vector.readHoldingRegisters(a, n), address, length)),
    getMultipleInputRegisters: (address: number, length: number, _unit: number, cb: FCallbackVal<number[]>) =>
      answer(cb, [], () => readMany((a, n) => vector.readInputRegisters(a, n), address, length)),
    setCoil: (address: number, value: boolean, _unit: number, cb: FCallback) => acknowledge(cb, () => vector.writeCoil(address, value)),
    setRegister: (address: number, value: number, _unit: number, cb: FCallback) => acknowledge(cb, () => vector.writeRegisters(address, [value])),
    setRegisterArray: (address: number, values: number[], _unit: number, cb: FCallback) => acknowledge(cb, () => vector.writeRegisters(address, values)),
  };

  const server = new ServerTCP(serviceVector, { host, port, unitID: unitId });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error | null) => {
      server.off('initialized', onReady);
      reject(err ?? new Error(`cannot listen on ${host}:${port}`));
    };
    const onReady = () => {
      server.off('serverError', onError);
      resolve();
    };
    server.once('serverError', onError);
    server.once('initialized', onReady);
  });

  // A client vanishing mid-request (ECONNRESET) is routine for a device; log it and go on.
  server.on('socketError', (err) => logger?.debug({ err }, 'modbus client socket error'));
  server.on('serverError', (err) => logger?.error({ err }, 'modbus server error'));
  server.on('error', (err) => logger?.warn({ err }, 'modbus server error'));

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    unitId,
    stats: () => ({ ...stats }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        // net.Server#close calls back once the listening socket is closed; ServerTCP then
        // destroys the open client sockets itself.
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
