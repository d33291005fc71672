import { riskScore, type RiskParts } from '../../htm/risk.js';
import type { AssetFields, AssetPatch } from '../device-asset.js';

/**
 * How each editable device field maps to its SQLite column: SQLite has no
 * booleans or arrays, so flags are 0/1 and lists/objects JSON text.
 */
export interface Codec {
  column: string;
  encode(value: unknown): unknown;
  decode(raw: unknown): unknown;
}

const plain = (column: string): Codec => ({ column, encode: (v) => v ?? null, decode: (r) => r ?? null });
const flag = (column: string): Codec => ({ column, encode: (v) => (v ? 1 : 0), decode: (r) => r === 1 });
const json = (column: string): Codec => ({
  column,
  encode: (v) => (v === null || v === undefined ? null : JSON.stringify(v)),
  decode: (r) => (typeof r === 'string' ? JSON.parse(r) : null),
});

export const ASSET_CODECS: Record<keyof AssetPatch, Codec> = {
  installDate: plain('install_date'),
  highRisk: flag('high_risk'),
  lifeSupport: flag('life_support'),
  scheduleSource: plain('schedule_source'),
  aemReason: plain('aem_reason'),
  aemRiskFactors: json('aem_risk_factors'),
  aemApprover: plain('aem_approver'),
  risk: json('risk_parts'),
  udiDeviceIdentifier: plain('udi_di'),
  udiProductionIdentifier: plain('udi_pi'),
  deviceTypeCode: plain('device_type_code'),
  ownership: plain('ownership'),
  calibrationIntervalMonths: plain('calibration_interval_months'),
};

export function toAssetFields(row: Record<string, unknown>): AssetFields {
  const out: Record<string, unknown> = {};
  for (const [field, codec] of Object.entries(ASSET_CODECS)) out[field] = codec.decode(row[codec.column]);
  const parts = out.risk as RiskParts | null;
  return { ...(out as unknown as AssetFields), risk: parts ? riskScore(parts) : null };
}
