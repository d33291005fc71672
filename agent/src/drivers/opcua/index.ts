import { dirname, resolve } from 'node:path';
import type { DeviceSession, DeviceSink, DeviceSpec, DiagnosticOutcome, DiagnosticRequest, Driver, DriverContext } from '../types.js';
import { type PreparedOpcua, prepareOpcua } from './config.js';

/**
 * OPC UA (imaging systems and their plant). node-opcua's client costs
 * ~140 MB of RSS, so nothing here imports it: the session module (and with
 * it node-opcua) is loaded when the first OPC UA device starts. An agent
 * without OPC UA devices never loads it.
 */
export const opcuaDriver: Driver<PreparedOpcua> = {
  protocols: ['opcua'],
  family: 'opcua',
  prepare: (connection, profile, where) => prepareOpcua(connection, profile, where, dirname(resolve(where.configFile))),
  start(spec, sink, context) {
    return new LazyOpcuaSession(spec, sink, context);
  },
};

type Loaded = import('./session.js').OpcuaDeviceSession;

/** Stands in for the real session while node-opcua loads (a few hundred ms the first time). */
class LazyOpcuaSession implements DeviceSession {
  private readonly session: Promise<Loaded | undefined>;
  private stopped = false;

  constructor(spec: DeviceSpec<PreparedOpcua>, sink: DeviceSink, context: DriverContext) {
    this.session = import('./session.js').then(
      ({ OpcuaDeviceSession }) => {
        if (this.stopped) return undefined;
        const s = new OpcuaDeviceSession(spec, sink, context);
        s.start();
        return s;
      },
      (err: unknown) => {
        sink.status('error', `the OPC UA driver could not be loaded: ${(err as Error).message}`);
        return undefined;
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await (await this.session)?.stop();
  }

  async diagnose(request: DiagnosticRequest): Promise<DiagnosticOutcome> {
    const s = await this.session;
    return s ? s.diagnose(request) : { ok: false, error: 'the OPC UA driver is not running' };
  }
}
