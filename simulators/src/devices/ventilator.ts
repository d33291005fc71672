import type { Random } from '../random.js';

/**
 * A simulated critical-care ventilator ("MT-VENT-500"): settings, breath-by-breath
 * measured values with a little noise, and the alarms a real one raises. Pressures
 * are in mbar, as MEDIBUS devices report them. Scenarios make an alarm condition
 * appear after a while and clear later.
 */
export const VENT_SCENARIOS = ['apnea', 'high-pressure', 'low-minute-volume', 'disconnect', 'o2-sensor'] as const;
export type VentScenario = (typeof VENT_SCENARIOS)[number];

export const VENT_IDENTITY = { deviceId: '0161', model: 'MT-VENT-500', firmware: '02.13.0' } as const;

/** Alarm codes on the wire and their device priority (3 high .. 1 low). */
export const VENT_ALARMS = {
  'high-pressure': { code: 0x21, priority: 3, text: 'PAW HIGH' },
  apnea: { code: 0x22, priority: 3, text: 'APNEA' },
  'low-minute-volume': { code: 0x23, priority: 2, text: 'MV LOW' },
  disconnect: { code: 0x24, priority: 3, text: 'DISCONNECT' },
  // A technical alarm: the device's own O2 cell has failed; ventilation goes on, FiO2 can no longer be trusted.
  'o2-sensor': { code: 0x31, priority: 2, text: 'O2 SENSOR' },
} as const satisfies Record<VentScenario, { code: number; priority: number; text: string }>;

export interface VentSettings {
  mode: string;
  tidalVolumeMl: number;
  rateBpm: number;
  peepMbar: number;
  fio2Pct: number;
}

export interface VentMeasured {
  tidalVolumeMl: number;
  rateBpm: number;
  peepMbar: number;
  peakMbar: number;
  plateauMbar: number;
  meanMbar: number;
  minuteVolumeL: number;
  fio2Pct: number;
  etco2MmHg: number;
  ieInspiration: number;
  ieExpiration: number;
}

export interface VentilatorOptions {
  serial: string;
  random: Random;
  settings?: Partial<VentSettings>;
  scenario?: VentScenario;
  /** Seconds after start when the scenario's condition appears, and how long it lasts (default: for ever). */
  scenarioAfterS?: number;
  scenarioForS?: number;
}

export class Ventilator {
  readonly settings: VentSettings;
  private readonly started = performance.now();

  constructor(private readonly o: VentilatorOptions) {
    this.settings = { mode: 'VC-AC', tidalVolumeMl: 450, rateBpm: 14, peepMbar: 5, fio2Pct: 40, ...o.settings };
  }

  get serial(): string {
    return this.o.serial;
  }

  /** The scenario's condition, if it is on now. */
  condition(now = performance.now()): VentScenario | undefined {
    const { scenario, scenarioAfterS = 10, scenarioForS } = this.o;
    if (!scenario) return undefined;
    const t = (now - this.started) / 1000;
    return t >= scenarioAfterS && (scenarioForS === undefined || t < scenarioAfterS + scenarioForS) ? scenario : undefined;
  }

  measured(now = performance.now()): VentMeasured {
    const n = (spread: number) => (this.o.random() * 2 - 1) * spread;
    const s = this.settings;
    const c = this.condition(now);
    const breathing = c !== 'apnea' && c !== 'disconnect';
    const vt = breathing ? s.tidalVolumeMl * (c === 'low-minute-volume' ? 0.4 : 1) + n(8) : 0;
    const rate = breathing ? s.rateBpm * (c === 'low-minute-volume' ? 0.5 : 1) + n(0.4) : 0;
    const peak = c === 'disconnect' ? 1 + n(0.3) : c === 'high-pressure' ? 46 + n(2) : 21 + n(1.5);
    return {
      tidalVolumeMl: Math.round(vt),
      rateBpm: Math.round(rate),
      peepMbar: c === 'disconnect' ? 0 : s.peepMbar + n(0.3),
      peakMbar: peak,
      plateauMbar: breathing ? peak - 4 + n(0.5) : 0,
      meanMbar: breathing ? s.peepMbar + (peak - s.peepMbar) * 0.35 : 0,
      minuteVolumeL: (vt * rate) / 1000,
      fio2Pct: s.fio2Pct + n(0.8),
      etco2MmHg: breathing ? 38 + n(1.5) : 0,
      ieInspiration: 1,
      ieExpiration: 2,
    };
  }

  /** Active alarms, from the measured values against typical adult limits (Paw 40 cmH2O, MV 3 L/min). */
  alarms(now = performance.now()): Array<{ code: number; priority: number; text: string }> {
    const c = this.condition(now);
    if (!c) return [];
    const out: Array<{ code: number; priority: number; text: string }> = [VENT_ALARMS[c]];
    if (c === 'disconnect' || c === 'apnea') out.push(VENT_ALARMS['low-minute-volume']);
    return out;
  }
}
