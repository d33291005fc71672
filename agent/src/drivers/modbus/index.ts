import { parseDuration } from '@medtel/shared';
import type { Driver } from '../types.js';
import { prepareModbusTcp, type PreparedModbus } from './config.js';
import { type PreparedModbusRtu, prepareModbusRtu } from './rtu-config.js';
import { RtuLines } from './rtu-lines.js';
import { ModbusRtuSession } from './rtu-session.js';
import { ModbusTcpSession } from './tcp-session.js';

/** Modbus TCP: registers addressed by the profile, polled at the device's interval. */
export const modbusTcpDriver: Driver<PreparedModbus> = {
  protocols: ['modbus-tcp'],
  family: 'modbus',
  prepare: prepareModbusTcp,
  start(spec, sink, context) {
    const session = new ModbusTcpSession(spec, sink, context);
    session.start();
    return session;
  },
};

const rtuLines = new RtuLines();

/** Modbus RTU: units on shared serial lines (tty or terminal server), one request at a time per line. */
export const modbusRtuDriver: Driver<PreparedModbusRtu> = {
  protocols: ['modbus-rtu'],
  family: 'modbus',
  prepare(connection, profile, where) {
    const prepared = prepareModbusRtu(connection, profile, where);
    rtuLines.plan(prepared.endpoint, where);
    return prepared;
  },
  start(spec, sink, context) {
    const { endpoint } = spec.connection;
    const bus = rtuLines.acquire(endpoint, {
      gapMs: parseDuration(spec.connection.connection.interFrameGap),
      // Any unit answering keeps the line alive; all silent for this long => reopen the port.
      quietMs: spec.pollIntervalMs + spec.timeoutMs * 4 + 1000,
      logger: context.logger,
      metrics: context.metrics,
      device: spec.id,
    });
    const session = new ModbusRtuSession(spec, sink, context, bus, () => rtuLines.release(endpoint));
    session.start();
    return session;
  },
};
