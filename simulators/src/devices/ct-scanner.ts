import { type ScenarioOptions, activeScenario } from './scenario.js';

/**
 * A CT scanner's tube and gantry. Each exposure adds heat units
 * (HU = w x kVp x mA x s, w = 1.4 for a high-frequency generator,
 * CLINICAL-NOTES section 6) to an anode of 5 MHU capacity; the anode cools
 * exponentially (Newton's law: the hotter, the faster), reported as the
 * cooling rate in kHU/min. The overheat scenario scans back to back with
 * long, high-mA exposures until the tube passes 90 % of its capacity.
 */

export const CT_SCENARIOS = ['overheat'] as const;
export type CtScenario = (typeof CT_SCENARIOS)[number];

export const CT_IDENTITY = { manufacturer: 'medtel simulated', model: 'MT-CT-64', firmware: '4.2.1' } as const;

export const TUBE_CAPACITY_KHU = 5000;
/** Generator waveform factor (high-frequency). */
export const HU_FACTOR = 1.4;
/** Fraction of the stored heat lost per second (~10 %/min). */
const COOLING_PER_S = 0.1 / 60;

export enum GantryState {
  Stopped = 0,
  Rotating = 1,
}

export const CALIBRATION_KINDS = ['air', 'water', 'detector'] as const;

export interface CtOptions extends ScenarioOptions<CtScenario> {
  /** Seconds between routine scans (default 20). */
  scanEveryS?: number;
}

export class CtScanner {
  heatKhu = 400;
  lastKv = 0;
  lastMa = 0;
  scanCount = 0;
  detectorTemp = 36.0;
  gantry = GantryState.Stopped;
  coolingRate = 0;
  private elapsed = 0;
  private nextScanAt: number;
  private exposureLeftS = 0;
  private exposure = { kv: 0, ma: 0 };

  constructor(private readonly o: CtOptions) {
    this.nextScanAt = 2;
  }

  get tubeHeatPercent(): number {
    return (this.heatKhu / TUBE_CAPACITY_KHU) * 100;
  }

  /** Anode target temperature, °C: ~100 °C cold, ~1300 °C at full capacity. */
  get anodeTemp(): number {
    return 100 + this.tubeHeatPercent * 12;
  }

  private get overheating(): boolean {
    return activeScenario(this.o, this.elapsed) === 'overheat';
  }

  tick(dtS: number): void {
    this.elapsed += dtS;
    if (this.exposureLeftS <= 0 && this.elapsed >= this.nextScanAt) this.startScan();
    if (this.exposureLeftS > 0) {
      const s = Math.min(dtS, this.exposureLeftS);
      this.heatKhu += (HU_FACTOR * this.exposure.kv * this.exposure.ma * s) / 1000;
      this.exposureLeftS -= s;
      if (this.exposureLeftS <= 0) this.gantry = GantryState.Stopped;
    }
    const lost = this.heatKhu * COOLING_PER_S * dtS;
    this.heatKhu = Math.min(TUBE_CAPACITY_KHU * 1.05, Math.max(0, this.heatKhu - lost));
    this.coolingRate = this.heatKhu * COOLING_PER_S * 60;
    this.detectorTemp = 36.0 + (this.o.random() - 0.5) * 0.2;
  }

  private startScan(): void {
    const hot = this.overheating;
    this.exposure = hot ? { kv: 140, ma: 500 } : { kv: 120, ma: 250 + Math.round(this.o.random() * 100) };
    this.exposureLeftS = hot ? 10 : 5;
    this.lastKv = this.exposure.kv;
    this.lastMa = this.exposure.ma;
    this.scanCount += 1;
    this.gantry = GantryState.Rotating;
    this.nextScanAt = this.elapsed + this.exposureLeftS + (hot ? 1 : (this.o.scanEveryS ?? 20));
  }

  selfTest(): { code: number; text: string } {
    if (this.tubeHeatPercent > 90) return { code: 4, text: `tube heat ${this.tubeHeatPercent.toFixed(0)} % of capacity: let the tube cool` };
    return { code: 0, text: 'passed' };
  }
}
