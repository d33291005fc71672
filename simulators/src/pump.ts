import type { Logger } from '@medtel/shared';
import { pumpModbusVector } from './devices/infusion-pump-modbus.js';
import { AlarmFlag, InfusionPump, type InfusionPumpOptions, PumpState } from './devices/infusion-pump.js';
import { PatientAssociation, type PatientAssociationOptions } from './devices/patients.js';
import { type ModbusTcpStats, serveModbusTcp } from './transports/modbus-tcp.js';

/**
 * The running simulator: one pump model, a timer that advances it in real time, and a
 * Modbus TCP server in front of it. What `medtel-sim pump` and the tests start.
 */

export interface PumpSimulatorOptions extends InfusionPumpOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** TCP port, 1..65535 (required: see serveModbusTcp). */
  port: number;
  /** Modbus unit id (default 1). */
  unitId?: number;
  /** Model tick period in ms (default 100); each tick advances by the time really elapsed. */
  tickMs?: number;
  logger?: Logger;
  /** A synthetic patient shown in the patient register block (default: none). */
  patient?: PatientAssociationOptions;
}

export interface PumpSimulator {
  readonly pump: InfusionPump;
  readonly host: string;
  readonly port: number;
  readonly unitId: number;
  readonly patients: PatientAssociation | undefined;
  /** Modbus requests served and left unanswered (silent scenario). */
  stats(): ModbusTcpStats;
  /** Stops the timer and the server; the port is free once this resolves. */
  close(): Promise<void>;
}

const STATE_NAMES: Record<PumpState, string> = {
  [PumpState.Stopped]: 'stopped',
  [PumpState.Running]: 'running',
  [PumpState.Paused]: 'paused',
  [PumpState.Alarm]: 'alarm',
};

function flagNames(flags: number): string[] {
  const names: string[] = [];
  if (flags & AlarmFlag.Occlusion) names.push('occlusion');
  if (flags & AlarmFlag.VtbiComplete) names.push('vtbi-complete');
  if (flags & AlarmFlag.BatteryLow) names.push('battery-low');
  return names;
}

export async function startPumpSimulator(options: PumpSimulatorOptions): Promise<PumpSimulator> {
  const { host = '127.0.0.1', port, unitId = 1, tickMs = 100, logger, patient, ...pumpOptions } = options;
  if (!(tickMs > 0)) throw new RangeError(`tickMs must be > 0, got ${tickMs}`);
  // Monotonic by default: a wall-clock step (NTP) must not make the pump jump or run backwards.
  const clock = pumpOptions.clock ?? (() => performance.now());
  const pump = new InfusionPump({ ...pumpOptions, clock });
  const patients = patient ? new PatientAssociation({ clock, ...patient }) : undefined;
  const server = await serveModbusTcp({ host, port, unitId, vector: pumpModbusVector(pump, patients), ...(logger ? { logger } : {}) });

  // Log transitions, not every tick: a state change, an alarm raised or cleared, silence.
  let last = pump.snapshot();
  let lastSilent = pump.isSilent();
  let lastTickAt = clock();
  const timer = setInterval(() => {
    const now = clock();
    pump.tick(Math.max(0, now - lastTickAt) / 1000);
    lastTickAt = now;
    const next = pump.snapshot();
    if (next.state !== last.state) {
      logger?.info({ from: STATE_NAMES[last.state], to: STATE_NAMES[next.state] }, 'pump state changed');
    }
    if (next.alarmFlags !== last.alarmFlags) {
      logger?.info(
        {
          alarmFlags: next.alarmFlags,
          raised: flagNames(next.alarmFlags & ~last.alarmFlags),
          cleared: flagNames(last.alarmFlags & ~next.alarmFlags),
          linePressureMmHg: Math.round(next.linePressureMmHg),
        },
        'pump alarm flags changed',
      );
    }
    const silent = pump.isSilent(now);
    if (silent !== lastSilent) logger?.info({ silent }, silent ? 'pump went silent' : 'pump answering again');
    last = next;
    lastSilent = silent;
  }, tickMs);
  // The listening socket keeps a CLI alive; the timer alone must not keep anything alive.
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    pump,
    host: server.host,
    port: server.port,
    unitId: server.unitId,
    patients,
    stats: () => server.stats(),
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await server.close();
      })();
      return closing;
    },
  };
}
