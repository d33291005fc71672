import type { Random } from '../random.js';

/**
 * What every scripted device model takes: its noise source, and a scenario
 * that begins some seconds after start (so a device first shows its normal
 * values, as a real fault develops on a running device).
 */
export interface ScenarioOptions<S extends string> {
  random: Random;
  scenario?: S;
  /** Seconds after start when the scenario begins (default 5). */
  scenarioAfterS?: number;
}

/** The scenario once it has begun, else undefined. */
export function activeScenario<S extends string>(o: ScenarioOptions<S>, elapsedS: number): S | undefined {
  return elapsedS >= (o.scenarioAfterS ?? 5) ? o.scenario : undefined;
}
