/**
 * Live infusion pumps for the agent to poll while it drains a backlog: real
 * pump simulators (`startPumpSimulator` from @medtel/simulators, Modbus TCP on
 * loopback, in the bench process), each with a scripted line occlusion so
 * that alarms start and end at known times.
 *
 * The simulated pump (simulators/src/devices/infusion-pump.ts) runs at 60 mmHg;
 * an occluded line rises 40 mmHg/s, so the 300 mmHg default limit is passed
 * 6 s after the occlusion starts (alarm start). The pressure holds while the
 * line stays blocked; once it clears it falls (time constant 1 s) and the
 * alarm ends below half the limit, ~0.7 s later. An occlusion shorter than
 * 6 s raises no alarm at all.
 */
import { startPumpSimulator } from '@medtel/simulators';
import { freePort, HOST } from './net.mjs';

/** Seconds from occlusion start to the alarm (pressure 60 -> 300 mmHg at 40 mmHg/s). */
export const OCCLUSION_TO_ALARM_S = 6;
/** Seconds from the line clearing to the alarm's end (300 -> 150 mmHg, time constant 1 s, settling to 3 mmHg). */
export const CLEAR_TO_END_S = 0.7;

/**
 * Starts `count` pumps "live-1".."live-N". Pump i's line occludes
 * `occlusionAfterS[i]` s after now, for `occlusionS` s. Records each pump's
 * alarm-flag changes as the simulator logs them (every 100 ms tick) in
 * `transitions` ({device, t (Date.now()), raised, cleared}) and any Modbus
 * server error in `errors`.
 */
export async function startLivePumps({ count, occlusionAfterS, occlusionS }) {
  const transitions = [];
  const errors = [];
  const createdAt = Date.now();
  const pumps = [];
  try {
    for (let i = 0; i < count; i++) {
      const device = `live-${i + 1}`;
      const logger = pumpLogger(device, transitions, errors);
      const sim = await startPumpSimulator({
        host: HOST,
        port: await freePort(),
        unitId: 1,
        serial: `LIVE-${String(i + 1).padStart(4, '0')}`,
        seed: i + 1,
        scenario: { kind: 'occlusion', occlusionAfterS: occlusionAfterS[i], occlusionDurationS: occlusionS },
        logger,
      });
      pumps.push({ device, sim, port: sim.port, occlusionAfterS: occlusionAfterS[i] });
    }
  } catch (err) {
    await Promise.all(pumps.map((p) => p.sim.close()));
    throw err;
  }
  let closing;
  return {
    createdAt,
    pumps,
    transitions,
    errors,
    /** Modbus requests served, summed over the pumps. */
    requests: () => pumps.reduce((n, p) => n + (p.sim.stats().requests ?? 0), 0),
    /** Stops every pump (idempotent). */
    close() {
      closing ??= Promise.all(pumps.map((p) => p.sim.close()));
      return closing;
    },
  };
}

/** The few pino methods the simulator calls; keeps alarm transitions and errors, drops the rest. */
function pumpLogger(device, transitions, errors) {
  const logger = {
    info(obj, msg) {
      if (msg === 'pump alarm flags changed') transitions.push({ device, t: Date.now(), raised: obj.raised, cleared: obj.cleared });
    },
    warn(obj, msg) {
      errors.push({ device, level: 'warn', msg, err: String(obj?.err?.message ?? obj?.err ?? '') });
    },
    error(obj, msg) {
      errors.push({ device, level: 'error', msg, err: String(obj?.err?.message ?? obj?.err ?? '') });
    },
    debug() {},
    trace() {},
    fatal(obj, msg) {
      errors.push({ device, level: 'fatal', msg, err: String(obj?.err?.message ?? obj?.err ?? '') });
    },
  };
  logger.child = () => logger;
  return logger;
}
