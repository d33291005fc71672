import { textToRegisters } from '../transports/register-codec.js';
import { type ScenarioOptions, activeScenario } from './scenario.js';

/**
 * A simulated radiographic X-ray generator "MT-XR-80" with its tube's anode heat:
 * each exposure adds kVp x mA x s x 1.4 heat units (high-frequency generator),
 * the anode holds 350 kHU and cools at 75 kHU/min (CLINICAL-NOTES section 6).
 * Register map: docs/simulators/xray.md.
 */
export const XRAY_IDENTITY = { model: 'MT-XR-80', firmware: '4.0.7', manufacturer: 'medtel simulated' } as const;
export const XRAY_SCENARIOS = ['heat', 'fault', 'selftest-fail'] as const;
export type XrayScenario = (typeof XRAY_SCENARIOS)[number];

export const XrayState = { standby: 0, prep: 1, ready: 2, exposing: 3, fault: 4 } as const;
export const XrayFlag = { heatWarning: 1, fault: 2 } as const;
/** Generator self-check: coil 0 := 1 starts it; input register 9 shows progress, 10 the result. */
export const XraySelfTest = { coil: 0, statusRegister: 9, resultRegister: 10 } as const;
export const XraySelfTestState = { idle: 0, running: 1, done: 2 } as const;
export const XraySelfTestResult = { pass: 0, filament: 1, kvRegulation: 2 } as const;
/** How long the self-check takes, simulated seconds. */
const SELF_TEST_S = 1.5;

const ANODE_CAPACITY_HU = 350_000;
const COOLING_HU_PER_S = 75_000 / 60;
const HF_FACTOR = 1.4;
const HEAT_WARNING_PCT = 80;

export interface XrayGeneratorOptions extends ScenarioOptions<XrayScenario> {
  unitId: number;
  serial: string;
}

export class XrayGenerator {
  private heatHu = 20_000;
  private exposures = 0;
  private last = { kvp: 0, ma: 0, ms: 0 };
  private state: number = XrayState.standby;
  private errorCode = 0;
  private nextExposureIn = 2;
  private elapsed = 0;
  private selfTest: { state: number; result: number; left: number } = { state: XraySelfTestState.idle, result: 0, left: 0 };

  constructor(readonly o: XrayGeneratorOptions) {}

  /**
   * Coil 0 := 1 starts the self-check of filament circuit and kV regulation (no
   * exposure, no setting changed); ignored while one runs. 0 does nothing.
   * Returns false for a coil that does not exist (exception 2).
   */
  writeCoil(address: number, on: boolean): boolean {
    if (address !== XraySelfTest.coil) return false;
    if (on && this.selfTest.state !== XraySelfTestState.running) this.selfTest = { state: XraySelfTestState.running, result: 0, left: SELF_TEST_S };
    return true;
  }

  /** Advances the model by dt seconds. */
  tick(dt: number): void {
    this.elapsed += dt;
    const scenarioOn = activeScenario(this.o, this.elapsed) !== undefined;
    this.tickSelfTest(dt, scenarioOn);
    this.heatHu = Math.max(0, this.heatHu - COOLING_HU_PER_S * dt);
    if (scenarioOn && this.o.scenario === 'fault') {
      this.state = XrayState.fault;
      this.errorCode = 0x0105; // filament current out of range
      return;
    }
    this.nextExposureIn -= dt;
    if (this.nextExposureIn > 0) {
      this.state = this.nextExposureIn < 0.5 ? XrayState.prep : XrayState.standby;
      return;
    }
    const heavy = scenarioOn && this.o.scenario === 'heat';
    const kvp = heavy ? 125 : 60 + Math.round(this.o.random() * 60);
    const ma = heavy ? 500 : 100 + Math.round(this.o.random() * 300);
    const ms = heavy ? 400 : 20 + Math.round(this.o.random() * 180);
    this.heatHu = Math.min(ANODE_CAPACITY_HU, this.heatHu + kvp * ma * (ms / 1000) * HF_FACTOR);
    this.last = { kvp, ma, ms };
    this.exposures += 1;
    this.state = XrayState.exposing;
    this.nextExposureIn = heavy ? 0.5 : 2 + this.o.random() * 4;
  }

  private tickSelfTest(dt: number, scenarioOn: boolean): void {
    const t = this.selfTest;
    if (t.state !== XraySelfTestState.running) return;
    t.left -= dt;
    if (t.left > 0) return;
    // selftest-fail: every self-check finds the kV regulation out of tolerance; an active generator fault fails it too.
    const result =
      this.o.scenario === 'selftest-fail'
        ? XraySelfTestResult.kvRegulation
        : scenarioOn && this.o.scenario === 'fault'
          ? XraySelfTestResult.filament
          : XraySelfTestResult.pass;
    this.selfTest = { state: XraySelfTestState.done, result, left: 0 };
  }

  get heatPercent(): number {
    return (this.heatHu / ANODE_CAPACITY_HU) * 100;
  }

  /** Input registers 0..10 (9 and 10: the self-check's progress and result). */
  inputRegisters(): number[] {
    const flags = (this.heatPercent >= HEAT_WARNING_PCT ? XrayFlag.heatWarning : 0) | (this.state === XrayState.fault ? XrayFlag.fault : 0);
    return [
      this.state,
      Math.round(this.heatPercent * 10),
      Math.round(this.last.kvp * 10),
      Math.round(this.last.ma * 10),
      this.last.ms,
      (this.exposures >>> 16) & 0xffff,
      this.exposures & 0xffff,
      this.errorCode,
      flags,
      this.selfTest.state,
      this.selfTest.result,
    ];
  }

  /** Holding registers 0..65: identity strings at 20 (serial), 30 (model), 40 (firmware), 50 (manufacturer). */
  holdingRegisters(): number[] {
    const regs = new Array<number>(66).fill(0);
    regs.splice(20, 8, ...textToRegisters(this.o.serial, 8));
    regs.splice(30, 8, ...textToRegisters(XRAY_IDENTITY.model, 8));
    regs.splice(40, 4, ...textToRegisters(XRAY_IDENTITY.firmware, 4));
    regs.splice(50, 16, ...textToRegisters(XRAY_IDENTITY.manufacturer, 16));
    return regs;
  }
}
