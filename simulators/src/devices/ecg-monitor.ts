import type { Random } from '../random.js';

/**
 * A simulated patient monitor "MT-ECG-12": an ECG of 3 or 12 leads at 250 or 500 Hz
 * drawn from a PQRST template, plus vital-sign numerics. Samples are computed by
 * their index, so the waveform is the same whatever the frame timing.
 */
export const ECG_IDENTITY = { model: 'MT-ECG-12', firmware: '3.2.1' } as const;
export const LEAD_NAMES_12 = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'] as const;

/** Raw count = 5 uV. */
export const MICROVOLTS_PER_COUNT = 5;

export interface EcgMonitorOptions {
  serial: string;
  leads: 3 | 12;
  rateHz: 250 | 500;
  heartRate: number;
  random: Random;
}

function gauss(x: number, mu: number, sigma: number, a: number): number {
  return a * Math.exp(-((x - mu) ** 2) / (2 * sigma ** 2));
}

/** Lead II in mV at phase 0..1 of the beat. */
function leadII(phase: number): number {
  return (
    gauss(phase, 0.2, 0.025, 0.15) + // P
    gauss(phase, 0.36, 0.008, -0.1) + // Q
    gauss(phase, 0.38, 0.01, 1.2) + // R
    gauss(phase, 0.4, 0.01, -0.25) + // S
    gauss(phase, 0.65, 0.05, 0.3) // T
  );
}

export class EcgMonitor {
  constructor(readonly o: EcgMonitorOptions) {}

  /** Raw counts for every lead at sample `index`. */
  sample(index: number): number[] {
    const t = index / this.o.rateHz;
    const phase = ((t * this.o.heartRate) / 60) % 1;
    const ii = leadII(phase);
    const i = 0.6 * leadII((phase + 0.005) % 1);
    const iii = ii - i;
    const mv =
      this.o.leads === 3 ? [i, ii, iii] : [i, ii, iii, -(i + ii) / 2, i - ii / 2, ii - i / 2, -0.5 * ii, 0.2 * ii, 0.6 * ii, 1.1 * ii, 1.0 * ii, 0.8 * ii];
    return mv.map((v) => Math.round((v * 1000) / MICROVOLTS_PER_COUNT));
  }

  numerics(): Array<[number, number | null]> {
    const n = (s: number) => (this.o.random() * 2 - 1) * s;
    const hr = Math.round(this.o.heartRate + n(1));
    return [
      [1, hr],
      [2, Math.round(97 + n(1))],
      [3, hr],
      [4, 120],
      [5, 80],
      [6, 93],
      [7, Math.round(16 + n(1))],
      [8, Math.round((36.9 + n(0.1)) * 10) / 10],
    ];
  }
}
