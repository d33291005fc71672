import { randomSeed, seededRandom, type Random } from '../random.js';

/**
 * A large-volume infusion pump as a state model that evolves in time. It knows nothing
 * about Modbus or sockets: the register map (infusion-pump-modbus.ts) reads it and the
 * runner (pump.ts) ticks it, so the arithmetic can be tested without a network.
 */

export const PumpState = { Stopped: 0, Running: 1, Paused: 2, Alarm: 3 } as const;
export type PumpState = (typeof PumpState)[keyof typeof PumpState];

/** Bits of the alarm-flags word. */
export const AlarmFlag = { Occlusion: 1 << 0, VtbiComplete: 1 << 1, BatteryLow: 1 << 2 } as const;

/** What a real large-volume pump accepts (CLINICAL-NOTES §5); the CLI and the register writes check the same limits. */
export const PUMP_LIMITS = {
  rateMlPerH: { min: 0.1, max: 1200 },
  vtbiMl: { min: 1, max: 9999 },
  concentrationMgPerMl: { min: 0.001, max: 1000 },
  /** ~2 psi .. ~20 psi, rounded. */
  occlusionLimitMmHg: { min: 100, max: 1000 },
  drugNameChars: 20,
  serialChars: 16,
} as const;

/** Self-test progress (input register 13) and result codes (input register 14). */
export const SelfTestState = { Idle: 0, Running: 1, Done: 2 } as const;
export const SelfTestResult = { Pass: 0, PressureSensor: 1, Motor: 2 } as const;
/** How long the self-test takes, in simulated seconds. */
export const SELF_TEST_S = 2;

export const PUMP_IDENTITY = { manufacturer: 'medtel simulated', model: 'MT-LVP-100', firmware: '1.4.2' } as const;

/** Scripted faults; times count from the pump's creation. */
export type PumpScenario =
  | {
      kind: 'occlusion';
      /** Seconds until the line occludes (default 10). */
      occlusionAfterS?: number;
      /** Seconds the occlusion lasts (default: it never clears). */
      occlusionDurationS?: number;
    }
  | {
      kind: 'silent';
      /** Seconds until the device stops answering (default 10). */
      silentAfterS?: number;
      /** Seconds it stays silent (default: for ever). */
      silentForS?: number;
    }
  | {
      /** Every self-test finds the pressure sensor out of range (result code 1). */
      kind: 'selftest-fail';
    };

export interface InfusionPumpOptions {
  serial?: string;
  drugName?: string;
  concentrationMgPerMl?: number;
  rateMlPerH?: number;
  vtbiMl?: number;
  /** Start infusing at once (default true); false starts stopped. */
  running?: boolean;
  occlusionLimitMmHg?: number;
  /** On mains power (default true): the battery charges and stays at 100 %. */
  onMains?: boolean;
  batteryPercent?: number;
  scenario?: PumpScenario;
  /** Seed for the pressure noise; random when omitted (read it back from `seed`). */
  seed?: number;
  /** Milliseconds, like Date.now (the default); tests inject a fake. Only the silent window reads it. */
  clock?: () => number;
}

export interface PumpSnapshot {
  state: PumpState;
  rateMlPerH: number;
  vtbiMl: number;
  volumeInfusedMl: number;
  volumeRemainingMl: number;
  /** Whole minutes, rounded up; 0 unless running. */
  timeRemainingMin: number;
  linePressureMmHg: number;
  batteryPercent: number;
  alarmFlags: number;
  /** 0 never run, 1 running, 2 done (SelfTestState). */
  selfTestState: number;
  /** Result of the last finished self-test (SelfTestResult); 0 until one has run. */
  selfTestResult: number;
  drugName: string;
  concentrationMgPerMl: number;
  occlusionLimitMmHg: number;
  onMains: boolean;
  serial: string;
  manufacturer: string;
  model: string;
  firmware: string;
}

// Dynamics. Sub-steps keep a long tick (tests jump an hour) as accurate as the 100 ms runtime tick.
const MAX_STEP_S = 0.1;
const RUNNING_PRESSURE_MMHG = 60;
const IDLE_PRESSURE_MMHG = 3;
/** How fast the line pressure settles to its baseline (first-order lag). */
const PRESSURE_TAU_S = 1;
const OCCLUSION_RISE_MMHG_PER_S = 40;
/** Auto-restart once pressure is back under half the limit (the Alaris behaviour, CLINICAL-NOTES §5). */
const RESTART_FRACTION_OF_LIMIT = 0.5;
const NOISE_RUNNING_MMHG = 2;
const NOISE_IDLE_MMHG = 0.5;
const BATTERY_LOW_PERCENT = 20;
/** ~8 h of infusion on a full battery; idle draw and mains charging per minute. */
const BATTERY_DRAIN_RUNNING_PER_MIN = 0.2;
const BATTERY_DRAIN_IDLE_PER_MIN = 0.05;
const BATTERY_CHARGE_PER_MIN = 1;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** True when `text` fits a NUL-padded ASCII register string of `maxChars`. */
export function isRegisterText(text: string, maxChars: number): boolean {
  return text.length <= maxChars && PRINTABLE_ASCII.test(text);
}

function checkRange(name: string, value: number, limits: { min: number; max: number }): number {
  if (!Number.isFinite(value) || value < limits.min || value > limits.max) {
    throw new RangeError(`${name} must be between ${limits.min} and ${limits.max}, got ${value}`);
  }
  return value;
}

function checkText(name: string, text: string, maxChars: number): string {
  if (!isRegisterText(text, maxChars)) throw new RangeError(`${name} must be at most ${maxChars} printable ASCII characters`);
  return text;
}

export class InfusionPump {
  readonly seed: number;
  readonly serial: string;
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly random: Random;
  private readonly scenario: PumpScenario | undefined;

  private state: PumpState;
  private readonly rateMlPerH: number;
  private readonly vtbiMl: number;
  private volumeInfusedMl = 0;
  /** The physical line pressure; the reported value adds measurement noise. */
  private pressureMmHg: number;
  private reportedPressureMmHg: number;
  private batteryPercent: number;
  private alarmFlags = 0;
  private drugName: string;
  private concentrationMgPerMl: number;
  private occlusionLimitMmHg: number;
  private readonly onMains: boolean;
  private simTimeS = 0;
  private selfTestState: number = SelfTestState.Idle;
  private selfTestResult: number = SelfTestResult.Pass;
  private selfTestEndsAtS = 0;

  constructor(options: InfusionPumpOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.startedAt = this.clock();
    this.seed = (options.seed ?? randomSeed()) >>> 0;
    this.random = seededRandom(this.seed);
    this.scenario = options.scenario;
    this.serial = checkText('serial', options.serial ?? 'PUMP-0001', PUMP_LIMITS.serialChars);
    this.drugName = checkText('drug name', options.drugName ?? 'Heparin', PUMP_LIMITS.drugNameChars);
    this.concentrationMgPerMl = checkRange('concentration', options.concentrationMgPerMl ?? 100, PUMP_LIMITS.concentrationMgPerMl);
    this.rateMlPerH = checkRange('rate', options.rateMlPerH ?? 125, PUMP_LIMITS.rateMlPerH);
    this.vtbiMl = checkRange('VTBI', options.vtbiMl ?? 1000, PUMP_LIMITS.vtbiMl);
    this.occlusionLimitMmHg = checkRange('occlusion limit', options.occlusionLimitMmHg ?? 300, PUMP_LIMITS.occlusionLimitMmHg);
    this.onMains = options.onMains ?? true;
    this.batteryPercent = checkRange('battery', options.batteryPercent ?? 100, { min: 0, max: 100 });
    this.state = options.running === false ? PumpState.Stopped : PumpState.Running;
    this.pressureMmHg = this.baselinePressure();
    this.reportedPressureMmHg = this.pressureMmHg;
    this.updateBatteryFlag();
  }

  /** Seconds of simulated time so far (the sum of ticks). */
  get elapsedS(): number {
    return this.simTimeS;
  }

  /** Advance the model by `dtSeconds` of simulated time. */
  tick(dtSeconds: number): void {
    if (!Number.isFinite(dtSeconds) || dtSeconds < 0) throw new RangeError(`tick: dtSeconds must be >= 0, got ${dtSeconds}`);
    if (dtSeconds === 0) return;
    const steps = Math.ceil(dtSeconds / MAX_STEP_S - 1e-9);
    const h = dtSeconds / steps;
    for (let i = 0; i < steps; i++) this.step(h);
    // Measurement noise once per tick, so a given seed and tick sequence repeats exactly.
    const amplitude = this.state === PumpState.Running ? NOISE_RUNNING_MMHG : NOISE_IDLE_MMHG;
    this.reportedPressureMmHg = this.pressureMmHg + (this.random() * 2 - 1) * amplitude;
  }

  /** Start or resume. Refused (false) in alarm, or when there is nothing left to infuse. */
  start(): boolean {
    if (this.state === PumpState.Running) return true;
    if (this.state === PumpState.Alarm || this.volumeRemaining() <= 0) return false;
    this.state = PumpState.Running;
    return true;
  }

  /** Pause a running infusion; anything else (including an alarm) is left as it is. */
  pause(): boolean {
    if (this.state !== PumpState.Running) return false;
    this.state = PumpState.Paused;
    return true;
  }

  /**
   * Acknowledge latched alarms whose cause has gone: VTBI complete always, battery low once
   * charged again, occlusion once the line is clear (the pump then waits stopped).
   */
  resetAlarm(): void {
    this.alarmFlags &= ~AlarmFlag.VtbiComplete;
    if (this.batteryPercent >= BATTERY_LOW_PERCENT) this.alarmFlags &= ~AlarmFlag.BatteryLow;
    if (this.alarmFlags & AlarmFlag.Occlusion && !this.isOccluded()) {
      this.alarmFlags &= ~AlarmFlag.Occlusion;
      if (this.state === PumpState.Alarm) this.state = PumpState.Stopped;
    }
  }

  /**
   * Starts the built-in self-test (sensors, drive, battery), which takes
   * SELF_TEST_S seconds. It runs beside an infusion and changes no setting;
   * a start while one is running is ignored.
   */
  startSelfTest(): void {
    if (this.selfTestState === SelfTestState.Running) return;
    this.selfTestState = SelfTestState.Running;
    this.selfTestEndsAtS = this.simTimeS + SELF_TEST_S;
  }

  setDrugName(name: string): void {
    this.drugName = checkText('drug name', name, PUMP_LIMITS.drugNameChars);
  }

  setConcentration(mgPerMl: number): void {
    this.concentrationMgPerMl = checkRange('concentration', mgPerMl, PUMP_LIMITS.concentrationMgPerMl);
  }

  setOcclusionLimit(mmHg: number): void {
    this.occlusionLimitMmHg = checkRange('occlusion limit', mmHg, PUMP_LIMITS.occlusionLimitMmHg);
  }

  /** True while a `silent` scenario says the device must not answer; `now` is on the injected clock (ms). */
  isSilent(now: number = this.clock()): boolean {
    if (this.scenario?.kind !== 'silent') return false;
    const elapsedS = (now - this.startedAt) / 1000;
    const after = this.scenario.silentAfterS ?? 10;
    const length = this.scenario.silentForS ?? Number.POSITIVE_INFINITY;
    return elapsedS >= after && elapsedS < after + length;
  }

  /** True while the `occlusion` scenario blocks the line (at the current simulated time). */
  isOccluded(): boolean {
    if (this.scenario?.kind !== 'occlusion') return false;
    const after = this.scenario.occlusionAfterS ?? 10;
    const length = this.scenario.occlusionDurationS ?? Number.POSITIVE_INFINITY;
    return this.simTimeS >= after && this.simTimeS < after + length;
  }

  snapshot(): PumpSnapshot {
    const running = this.state === PumpState.Running;
    const remaining = this.volumeRemaining();
    return {
      state: this.state,
      rateMlPerH: this.rateMlPerH,
      vtbiMl: this.vtbiMl,
      volumeInfusedMl: this.volumeInfusedMl,
      volumeRemainingMl: remaining,
      timeRemainingMin: running ? Math.ceil((remaining / this.rateMlPerH) * 60) : 0,
      linePressureMmHg: this.reportedPressureMmHg,
      batteryPercent: this.batteryPercent,
      alarmFlags: this.alarmFlags,
      selfTestState: this.selfTestState,
      selfTestResult: this.selfTestResult,
      drugName: this.drugName,
      concentrationMgPerMl: this.concentrationMgPerMl,
      occlusionLimitMmHg: this.occlusionLimitMmHg,
      onMains: this.onMains,
      serial: this.serial,
      ...PUMP_IDENTITY,
    };
  }

  private volumeRemaining(): number {
    return Math.max(0, this.vtbiMl - this.volumeInfusedMl);
  }

  private baselinePressure(): number {
    return this.state === PumpState.Running ? RUNNING_PRESSURE_MMHG : IDLE_PRESSURE_MMHG;
  }

  private step(h: number): void {
    this.simTimeS += h;
    if (this.selfTestState === SelfTestState.Running && this.simTimeS >= this.selfTestEndsAtS - 1e-9) {
      this.selfTestState = SelfTestState.Done;
      this.selfTestResult = this.scenario?.kind === 'selftest-fail' ? SelfTestResult.PressureSensor : SelfTestResult.Pass;
    }
    const occluded = this.isOccluded();

    if (this.state === PumpState.Running) {
      this.volumeInfusedMl += (this.rateMlPerH / 3600) * h;
      if (this.volumeInfusedMl >= this.vtbiMl - 1e-9) {
        this.volumeInfusedMl = this.vtbiMl;
        this.state = PumpState.Stopped;
        this.alarmFlags |= AlarmFlag.VtbiComplete;
      }
    }

    if (occluded && this.state === PumpState.Running) {
      // The pump keeps pushing against a blocked line.
      this.pressureMmHg += OCCLUSION_RISE_MMHG_PER_S * h;
    } else if (!(occluded && this.state === PumpState.Alarm)) {
      // A blocked line holds its pressure while the pump waits; otherwise it settles.
      this.pressureMmHg += (this.baselinePressure() - this.pressureMmHg) * (1 - Math.exp(-h / PRESSURE_TAU_S));
    }

    if (this.state === PumpState.Running && this.pressureMmHg > this.occlusionLimitMmHg) {
      this.state = PumpState.Alarm;
      this.alarmFlags |= AlarmFlag.Occlusion;
    } else if (this.state === PumpState.Alarm && !occluded && this.pressureMmHg < this.occlusionLimitMmHg * RESTART_FRACTION_OF_LIMIT) {
      this.alarmFlags &= ~AlarmFlag.Occlusion;
      this.state = this.volumeRemaining() > 0 ? PumpState.Running : PumpState.Stopped;
    }

    const perMin = this.onMains ? BATTERY_CHARGE_PER_MIN : -(this.state === PumpState.Running ? BATTERY_DRAIN_RUNNING_PER_MIN : BATTERY_DRAIN_IDLE_PER_MIN);
    this.batteryPercent = Math.min(100, Math.max(0, this.batteryPercent + (perMin * h) / 60));
    this.updateBatteryFlag();
  }

  /** Battery low latches: it is set here and only cleared by resetAlarm(). */
  private updateBatteryFlag(): void {
    if (this.batteryPercent < BATTERY_LOW_PERCENT) this.alarmFlags |= AlarmFlag.BatteryLow;
  }
}
