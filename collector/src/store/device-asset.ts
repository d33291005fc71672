import type { RiskParts, RiskScore } from '../htm/risk.js';

/**
 * What a clinical-engineering inventory keeps about a device beyond its
 * identity (HTM-NOTES 1, 2, 6): program flags, schedule source with its AEM
 * justification, the risk score as its parts, UDI, type code, ownership and
 * a calibration interval that overrides the model's default.
 */

export const OWNERSHIP = ['owned', 'rented', 'leased', 'patient-owned'] as const;
export type Ownership = (typeof OWNERSHIP)[number];

export interface AssetFields {
  /** YYYY-MM-DD */
  installDate: string | null;
  highRisk: boolean;
  lifeSupport: boolean;
  scheduleSource: 'manufacturer' | 'aem';
  aemReason: string | null;
  aemRiskFactors: string[] | null;
  aemApprover: string | null;
  risk: RiskScore | null;
  /** UDI-DI: labeler and model (21 CFR 830.3). */
  udiDeviceIdentifier: string | null;
  /** UDI-PI: lot, serial, expiry, manufacturing date. */
  udiProductionIdentifier: string | null;
  /** A nomenclature code for the device type, e.g. GMDN or UMDNS. */
  deviceTypeCode: string | null;
  ownership: Ownership | null;
  /** Overrides the model's default calibration interval. */
  calibrationIntervalMonths: number | null;
}

export type AssetPatch = Partial<Omit<AssetFields, 'risk'> & { risk: RiskParts | null }>;
