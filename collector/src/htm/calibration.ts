/**
 * A calibration as an ISO/IEC 17025 certificate reads (HTM-NOTES 3): each
 * point's pass/fail is computed here, never typed in, with the decision rule
 * stated: simple acceptance (ILAC-G8), i.e. |measured − expected| <= tolerance,
 * the measurement uncertainty reported alongside but not subtracted.
 */

export const DECISION_RULE = 'simple acceptance: |measured - expected| <= tolerance; uncertainty reported, not applied';

export interface ReadingInput {
  point: string;
  expected: number;
  measured: number;
  /** ± in `unit`. */
  tolerance: number;
  uncertainty?: number;
  unit: string;
}

export interface EvaluatedReading extends ReadingInput {
  error: number;
  pass: boolean;
}

export interface TestEquipment {
  id: string;
  description?: string;
  /** Epoch ms: when the test equipment's own calibration runs out. */
  calibrationDueAt: number;
}

// Decimal readings such as 10.1 - 10 must not fail on binary rounding.
const EPSILON = 1e-9;

export function evaluate(readings: ReadingInput[]): { readings: EvaluatedReading[]; pass: boolean } {
  const evaluated = readings.map((r) => {
    const error = r.measured - r.expected;
    return { ...r, error: Number(error.toPrecision(12)), pass: Math.abs(error) <= r.tolerance * (1 + EPSILON) + EPSILON };
  });
  return { readings: evaluated, pass: evaluated.every((r) => r.pass) };
}

/** Index of the first test equipment whose calibration had run out when the work was done, or -1. */
export function expiredTestEquipment(equipment: TestEquipment[], performedAt: number): number {
  return equipment.findIndex((e) => e.calibrationDueAt < performedAt);
}
