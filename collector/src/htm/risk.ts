/**
 * Fennigkoh–Smith equipment-management number (HTM-NOTES 2): kept as its
 * parts so a reviewer can see why a device is in the program, and the total
 * derived from them, never typed in.
 */
export interface RiskParts {
  /** 2-10; 10 for life support. */
  equipmentFunction: number;
  /** 1-5: what a failure could do to a patient or user. */
  physicalRisk: number;
  /** 1-5: how much maintenance the manufacturer requires. */
  maintenanceRequirement: number;
}

export const RISK_RANGES = {
  equipmentFunction: [2, 10],
  physicalRisk: [1, 5],
  maintenanceRequirement: [1, 5],
} as const satisfies Record<keyof RiskParts, readonly [number, number]>;

/** Devices at or above this total are included in the scheduled maintenance program. */
export const INCLUSION_THRESHOLD = 12;

export interface RiskScore extends RiskParts {
  total: number;
  /** total >= 12 */
  include: boolean;
  /** Commonly seen practice: 12-16 annual, 17-20 semiannual; a suggestion, the manufacturer governs. */
  suggestedFrequency: 'annual' | 'semiannual' | null;
}

export function riskScore(parts: RiskParts): RiskScore {
  const total = parts.equipmentFunction + parts.physicalRisk + parts.maintenanceRequirement;
  return {
    ...parts,
    total,
    include: total >= INCLUSION_THRESHOLD,
    suggestedFrequency: total >= 17 ? 'semiannual' : total >= INCLUSION_THRESHOLD ? 'annual' : null,
  };
}
