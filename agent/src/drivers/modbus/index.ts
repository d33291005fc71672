import type { Driver } from '../types.js';
import { prepareModbusTcp, type PreparedModbus } from './config.js';
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
