/**
 * The alert rules a clinical-engineering department sets up once per model,
 * as the demo seeds them (demo-seed.mjs) and the end-to-end tests create them.
 * The thresholds are parameters because the demo watches a device in real
 * time while a test speeds the fault up; the text always names the threshold
 * the rule checks.
 */

/** Occlusion watch on an infusion pump: line pressure above `limitMmHg` for `sustainedSeconds`. */
export function lineOcclusionRule({ limitMmHg = 250, sustainedSeconds }) {
  return {
    name: 'Pump line pressure',
    scope: { model: 'MT-LVP-100' },
    metric: 'MDC_PRESS_FLUID_MEAS',
    condition: { kind: 'above', limit: limitMmHg, sustainedSeconds },
    priority: 'high',
    text: `Line pressure above ${limitMmHg} mmHg for ${sustainedSeconds} s`,
  };
}

/**
 * Helium boil-off on an MRI: the level falling faster than `limitPercentPerHour`
 * over `windowSeconds`. A leak is a rate problem long before it is a level problem.
 */
export function heliumBoilOffRule({ limitPercentPerHour, windowSeconds }) {
  return {
    name: 'Helium boil-off',
    scope: { model: 'MT-MR-15' },
    metric: 'helium_level',
    condition: { kind: 'rate', direction: 'falling', limit: limitPercentPerHour, per: 'h', windowSeconds },
    priority: 'high',
    text: `Helium level falling faster than ${limitPercentPerHour} %/h`,
  };
}
