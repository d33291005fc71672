import { type ScenarioOptions, activeScenario } from './scenario.js';

/**
 * The plant of a 1.5 T MRI magnet, as its service interface reports it
 * (CLINICAL-NOTES section 6): a zero-boil-off magnet keeps its helium level
 * flat while the cold head runs; a leak shows first as a falling level at a
 * steady rate (a rate-of-change problem long before a low-level problem);
 * a stopped compressor warms the cold head and the helium starts to boil
 * off; a quench boils most of the helium away within a minute and the field
 * collapses.
 */

export const MRI_SCENARIOS = ['helium-leak', 'compressor-stop', 'quench'] as const;
export type MriScenario = (typeof MRI_SCENARIOS)[number];

export const MRI_IDENTITY = { manufacturer: 'medtel simulated', model: 'MT-MR-15', firmware: 'VB60A' } as const;

/** Scan state as the MRI reports it (profile enum). */
export enum MriScanState {
  Idle = 0,
  Scanning = 1,
  Service = 2,
  Quenched = 3,
}

/** Reservoir volume: helium level % -> litres (one service manual: 5 % of scale = 80 L). */
export const HELIUM_RESERVOIR_L = 1600;

export interface MriOptions extends ScenarioOptions<MriScenario> {
  /** helium-leak: how fast the level falls, % per hour (default 2; raise it for a quick demo). */
  leakPercentPerHour?: number;
}

export class MriScanner {
  heliumLevel = 78.4;
  /** Helium lost, litres per day (0 on a healthy zero-boil-off magnet). */
  boilOff = 0;
  magnetTemp = 4.05;
  coldHeadTemp = 3.2;
  compressorRunning = true;
  chillerTemp = 8.0;
  chillerFlow = 42.0;
  fieldStrength = 1.5;
  scanState = MriScanState.Idle;
  roomO2 = 20.9;
  /** A cold-head sensor blown by the quench reads Bad. */
  coldHeadSensorFailed = false;
  private elapsed = 0;
  private quenchS = 0;
  calibrating = false;

  constructor(private readonly o: MriOptions) {}

  get scenarioActive(): boolean {
    return activeScenario(this.o, this.elapsed) !== undefined;
  }

  tick(dtS: number): void {
    this.elapsed += dtS;
    const noise = (amp: number) => (this.o.random() - 0.5) * 2 * amp;
    // Exams come and go: scanning about half the time, in 60 s blocks.
    if (this.scanState !== MriScanState.Quenched && this.scanState !== MriScanState.Service) {
      this.scanState = Math.floor(this.elapsed / 60) % 2 === 1 ? MriScanState.Scanning : MriScanState.Idle;
    }
    let lossPerHour = 0; // % of the reservoir per hour
    const active = this.scenarioActive;
    switch (active ? this.o.scenario : undefined) {
      case 'helium-leak':
        lossPerHour = this.o.leakPercentPerHour ?? 2;
        break;
      case 'compressor-stop': {
        this.compressorRunning = false;
        // The cold head warms towards ~40 K over minutes; boil-off grows with it.
        this.coldHeadTemp += (40 - this.coldHeadTemp) * Math.min(1, dtS / 300);
        lossPerHour = Math.min(1.5, (this.coldHeadTemp - 3.2) / 20);
        break;
      }
      case 'quench':
        this.quenchS += dtS;
        this.scanState = MriScanState.Quenched;
        this.coldHeadSensorFailed = true;
        // Stored energy boils the helium within ~30 s; the field collapses; the vented gas dips room O2 a little.
        lossPerHour = this.heliumLevel > 5 ? 8000 : 0;
        this.fieldStrength = Math.max(0, 1.5 * (1 - this.quenchS / 20));
        this.magnetTemp = Math.min(60, 4.05 + this.quenchS * 2);
        this.roomO2 = Math.max(19.2, 20.9 - this.quenchS * 0.05);
        break;
      default:
        break;
    }
    this.heliumLevel = Math.max(0, this.heliumLevel - (lossPerHour * dtS) / 3600);
    this.boilOff = Math.round(((lossPerHour * HELIUM_RESERVOIR_L) / 100) * 24 * 10) / 10 + Math.abs(noise(0.05));
    if (this.scenarioActive && this.o.scenario === 'quench') return;
    this.magnetTemp = 4.05 + noise(0.01);
    if (this.compressorRunning) this.coldHeadTemp = 3.2 + noise(0.02);
    this.chillerTemp = 8.0 + noise(0.1);
    this.chillerFlow = 42.0 + noise(0.5);
    this.roomO2 = 20.9 + noise(0.05);
  }

  /** RunSelfTest(): code 0 passed, otherwise what is wrong. */
  selfTest(): { code: number; text: string } {
    if (this.scanState === MriScanState.Quenched) return { code: 3, text: 'magnet quenched: field down, helium lost' };
    if (!this.compressorRunning) return { code: 2, text: 'cold head compressor not running' };
    if (this.heliumLevel < 60) return { code: 1, text: `helium level low (${this.heliumLevel.toFixed(1)} %)` };
    return { code: 0, text: 'passed' };
  }
}
