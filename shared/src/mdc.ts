/**
 * IEEE 11073-10101 nomenclature used by medtel profiles. A 32-bit code is
 * partition * 65536 + term (partition 1 devices, 2 metrics, 3 events, 4 units).
 * Facts and their sources are in shared/CLINICAL-NOTES.md of the project wiki;
 * only codes rated confirmed there are listed without a comment.
 *
 * Profiles name codes by reference id (MDC_FLOW_FLUID_PUMP); the agent resolves
 * them here so a typo in a profile is caught when the profile loads.
 */

export interface MdcUnit {
  refId: string;
  code: number;
  /** UCUM-style symbol shown to people. */
  symbol: string;
}

export interface MdcTerm {
  refId: string;
  code: number;
  /** Unit the term is normally reported in (profiles may override). */
  unit?: string;
}

export const UNITS: Record<string, MdcUnit> = Object.fromEntries(
  (
    [
      ['MDC_DIM_PERCENT', 262688, '%'],
      ['MDC_DIM_DIMLESS', 262656, '1'],
      ['MDC_DIM_MILLI_L', 263762, 'mL'],
      ['MDC_DIM_X_L', 263744, 'L'],
      ['MDC_DIM_MILLI_L_PER_HR', 265266, 'mL/h'],
      ['MDC_DIM_X_L_PER_MIN', 265216, 'L/min'],
      ['MDC_DIM_MILLI_L_PER_MIN', 265234, 'mL/min'],
      ['MDC_DIM_BEAT_PER_MIN', 264864, '/min'],
      ['MDC_DIM_RESP_PER_MIN', 264928, '/min'],
      ['MDC_DIM_PER_MIN', 264672, '/min'],
      ['MDC_DIM_MMHG', 266016, 'mm[Hg]'],
      ['MDC_DIM_CM_H2O', 266048, 'cm[H2O]'],
      ['MDC_DIM_MILLI_BAR', 266098, 'mbar'],
      ['MDC_DIM_DEGC', 268192, 'Cel'],
      ['MDC_DIM_KELVIN', 266528, 'K'],
      ['MDC_DIM_MILLI_VOLT', 266418, 'mV'],
      ['MDC_DIM_MICRO_VOLT', 266419, 'uV'],
      ['MDC_DIM_SEC', 264320, 's'],
      ['MDC_DIM_MILLI_SEC', 264338, 'ms'],
      ['MDC_DIM_MIN', 264352, 'min'],
      ['MDC_DIM_HR', 264384, 'h'],
      ['MDC_DIM_HZ', 264640, 'Hz'],
    ] as const
  ).map(([refId, code, symbol]) => [refId, { refId, code, symbol }]),
);

/**
 * medtel vendor codes, for values IEEE 11073-10101 has no term for. They sit in
 * the private term range of each partition (0xF000..0xFBFF) as the standard
 * allows, so they can never collide with a standard code.
 */
const PRIVATE = 0xf000;
export const VENDOR_UNITS: Record<string, MdcUnit> = {
  MEDTEL_DIM_MILLI_G_PER_MILLI_L: { refId: 'MEDTEL_DIM_MILLI_G_PER_MILLI_L', code: 4 * 65536 + PRIVATE + 1, symbol: 'mg/mL' },
  // kV and mA exist in 11073-10101 but their codes are not in our checked sources; private until confirmed.
  MEDTEL_DIM_KILO_VOLT: { refId: 'MEDTEL_DIM_KILO_VOLT', code: 4 * 65536 + PRIVATE + 2, symbol: 'kV' },
  MEDTEL_DIM_MILLI_AMP: { refId: 'MEDTEL_DIM_MILLI_AMP', code: 4 * 65536 + PRIVATE + 3, symbol: 'mA' },
  // MRI magnet field and helium logistics, CT tube cooling (no 11073 unit codes in our sources).
  MEDTEL_DIM_TESLA: { refId: 'MEDTEL_DIM_TESLA', code: 4 * 65536 + PRIVATE + 4, symbol: 'T' },
  MEDTEL_DIM_X_L_PER_DAY: { refId: 'MEDTEL_DIM_X_L_PER_DAY', code: 4 * 65536 + PRIVATE + 5, symbol: 'L/d' },
  MEDTEL_DIM_KILO_HU_PER_MIN: { refId: 'MEDTEL_DIM_KILO_HU_PER_MIN', code: 4 * 65536 + PRIVATE + 6, symbol: 'kHU/min' },
};

export const TERMS: Record<string, MdcTerm> = Object.fromEntries(
  (
    [
      // Infusion pump
      ['MDC_FLOW_FLUID_PUMP', 157784, 'MDC_DIM_MILLI_L_PER_HR'],
      ['MDC_FLOW_FLUID_PUMP_CURRENT', 158014, 'MDC_DIM_MILLI_L_PER_HR'],
      ['MDC_VOL_FLUID_TBI', 157884, 'MDC_DIM_MILLI_L'],
      ['MDC_VOL_FLUID_TBI_REMAIN', 157872, 'MDC_DIM_MILLI_L'],
      ['MDC_VOL_FLUID_DELIV_TOTAL', 157993, 'MDC_DIM_MILLI_L'],
      ['MDC_TIME_PD_REMAIN', 157916, 'MDC_DIM_MIN'],
      ['MDC_PRESS_FLUID_MEAS', 157836, 'MDC_DIM_MMHG'],
      ['MDC_CONC_DRUG', 157760, undefined],
      ['MDC_RATE_DOSE', 157924, undefined],
      ['MDC_EVT_FLUID_LINE_OCCL', 196940, undefined],
      // Monitor
      ['MDC_ECG_HEART_RATE', 147842, 'MDC_DIM_BEAT_PER_MIN'],
      ['MDC_PULS_OXIM_SAT_O2', 150456, 'MDC_DIM_PERCENT'],
      ['MDC_PULS_OXIM_PULS_RATE', 149530, 'MDC_DIM_BEAT_PER_MIN'],
      ['MDC_RESP_RATE', 151562, 'MDC_DIM_RESP_PER_MIN'],
      ['MDC_PRESS_BLD_NONINV_SYS', 150021, 'MDC_DIM_MMHG'],
      ['MDC_PRESS_BLD_NONINV_DIA', 150022, 'MDC_DIM_MMHG'],
      ['MDC_PRESS_BLD_NONINV_MEAN', 150023, 'MDC_DIM_MMHG'],
      ['MDC_TEMP_BODY', 150364, 'MDC_DIM_DEGC'],
      // Ventilator
      ['MDC_VENT_VOL_TIDAL', 151980, 'MDC_DIM_MILLI_L'],
      ['MDC_VENT_VOL_TIDAL_SETTING', 16929196, 'MDC_DIM_MILLI_L'],
      ['MDC_VENT_RESP_RATE', 151586, 'MDC_DIM_RESP_PER_MIN'],
      ['MDC_VENT_PRESS_AWAY_END_EXP_POS', 151976, 'MDC_DIM_CM_H2O'],
      ['MDC_PRESS_AWAY_INSP_MAX', 151817, 'MDC_DIM_CM_H2O'],
      ['MDC_PRESS_RESP_PLAT', 151784, 'MDC_DIM_CM_H2O'],
      ['MDC_PRESS_AWAY_INSP_MEAN', 151819, 'MDC_DIM_CM_H2O'],
      ['MDC_CONC_AWAY_O2_INSP', 152196, 'MDC_DIM_PERCENT'],
      ['MDC_VOL_MINUTE_AWAY', 151880, 'MDC_DIM_X_L_PER_MIN'],
      ['MDC_RATIO_IE', 151832, 'MDC_DIM_DIMLESS'],
      ['MDC_AWAY_CO2_ET', 151728, 'MDC_DIM_MMHG'],
      // Settings: observed code + 0x01000000 (derived by the published rule; CLINICAL-NOTES status D)
      ['MDC_VENT_RESP_RATE_SETTING', 16928802, 'MDC_DIM_RESP_PER_MIN'],
      ['MDC_VENT_PRESS_AWAY_END_EXP_POS_SETTING', 16929192, 'MDC_DIM_CM_H2O'],
      // ECG waveforms: MDC_ECG_ELEC_POTL_<lead>, term 256 + lead index
      ['MDC_ECG_ELEC_POTL_I', 131329, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_II', 131330, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_III', 131389, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_AVR', 131390, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_AVL', 131391, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_AVF', 131392, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_V1', 131331, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_V2', 131332, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_V3', 131333, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_V4', 131334, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_V5', 131335, 'MDC_DIM_MILLI_VOLT'],
      ['MDC_ECG_ELEC_POTL_V6', 131336, 'MDC_DIM_MILLI_VOLT'],
      // Generic technical alarm event
      ['MDC_EVT_ALARM', 196616, undefined],
    ] as const
  ).map(([refId, code, unit]) => [refId, unit ? { refId, code, unit } : { refId, code }]),
);

/** medtel vendor metric codes (partition 2, private range). */
export const VENDOR_TERMS: Record<string, MdcTerm> = {
  MEDTEL_PUMP_STATE: { refId: 'MEDTEL_PUMP_STATE', code: 2 * 65536 + PRIVATE + 1 },
  MEDTEL_BATTERY_CHARGE: { refId: 'MEDTEL_BATTERY_CHARGE', code: 2 * 65536 + PRIVATE + 2, unit: 'MDC_DIM_PERCENT' },
  MEDTEL_ALARM_FLAGS: { refId: 'MEDTEL_ALARM_FLAGS', code: 2 * 65536 + PRIVATE + 3 },
  MEDTEL_OCCLUSION_LIMIT: { refId: 'MEDTEL_OCCLUSION_LIMIT', code: 2 * 65536 + PRIVATE + 4, unit: 'MDC_DIM_MMHG' },
  MEDTEL_EVT_VTBI_COMPLETE: { refId: 'MEDTEL_EVT_VTBI_COMPLETE', code: 3 * 65536 + PRIVATE + 1 },
  MEDTEL_EVT_BATTERY_LOW: { refId: 'MEDTEL_EVT_BATTERY_LOW', code: 3 * 65536 + PRIVATE + 2 },
  // Ventilator (no confirmed 11073 term for the mode or these alarm events in our sources)
  MEDTEL_VENT_MODE: { refId: 'MEDTEL_VENT_MODE', code: 2 * 65536 + PRIVATE + 5 },
  MEDTEL_EVT_VENT_PRESS_HIGH: { refId: 'MEDTEL_EVT_VENT_PRESS_HIGH', code: 3 * 65536 + PRIVATE + 3 },
  MEDTEL_EVT_VENT_APNEA: { refId: 'MEDTEL_EVT_VENT_APNEA', code: 3 * 65536 + PRIVATE + 4 },
  MEDTEL_EVT_VENT_MINUTE_VOL_LOW: { refId: 'MEDTEL_EVT_VENT_MINUTE_VOL_LOW', code: 3 * 65536 + PRIVATE + 5 },
  MEDTEL_EVT_VENT_CIRCUIT_DISCONNECT: { refId: 'MEDTEL_EVT_VENT_CIRCUIT_DISCONNECT', code: 3 * 65536 + PRIVATE + 6 },
  // X-ray generator (10101:2004 has no X-ray terms)
  MEDTEL_XRAY_STATE: { refId: 'MEDTEL_XRAY_STATE', code: 2 * 65536 + PRIVATE + 6 },
  MEDTEL_XRAY_ANODE_HEAT: { refId: 'MEDTEL_XRAY_ANODE_HEAT', code: 2 * 65536 + PRIVATE + 7, unit: 'MDC_DIM_PERCENT' },
  MEDTEL_XRAY_KVP: { refId: 'MEDTEL_XRAY_KVP', code: 2 * 65536 + PRIVATE + 8, unit: 'MEDTEL_DIM_KILO_VOLT' },
  MEDTEL_XRAY_TUBE_CURRENT: { refId: 'MEDTEL_XRAY_TUBE_CURRENT', code: 2 * 65536 + PRIVATE + 9, unit: 'MEDTEL_DIM_MILLI_AMP' },
  MEDTEL_XRAY_EXPOSURE_TIME: { refId: 'MEDTEL_XRAY_EXPOSURE_TIME', code: 2 * 65536 + PRIVATE + 10, unit: 'MDC_DIM_MILLI_SEC' },
  MEDTEL_XRAY_EXPOSURE_COUNT: { refId: 'MEDTEL_XRAY_EXPOSURE_COUNT', code: 2 * 65536 + PRIVATE + 11 },
  MEDTEL_XRAY_ERROR_CODE: { refId: 'MEDTEL_XRAY_ERROR_CODE', code: 2 * 65536 + PRIVATE + 12 },
  MEDTEL_EVT_XRAY_FAULT: { refId: 'MEDTEL_EVT_XRAY_FAULT', code: 3 * 65536 + PRIVATE + 7 },
  MEDTEL_EVT_XRAY_HEAT_HIGH: { refId: 'MEDTEL_EVT_XRAY_HEAT_HIGH', code: 3 * 65536 + PRIVATE + 8 },
  // MRI magnet plant (10101:2004 has no imaging-plant terms; CLINICAL-NOTES section 6)
  MEDTEL_MRI_HELIUM_LEVEL: { refId: 'MEDTEL_MRI_HELIUM_LEVEL', code: 2 * 65536 + PRIVATE + 13, unit: 'MDC_DIM_PERCENT' },
  MEDTEL_MRI_HELIUM_BOIL_OFF: { refId: 'MEDTEL_MRI_HELIUM_BOIL_OFF', code: 2 * 65536 + PRIVATE + 14, unit: 'MEDTEL_DIM_X_L_PER_DAY' },
  MEDTEL_MRI_MAGNET_TEMP: { refId: 'MEDTEL_MRI_MAGNET_TEMP', code: 2 * 65536 + PRIVATE + 15, unit: 'MDC_DIM_KELVIN' },
  MEDTEL_MRI_COLD_HEAD_TEMP: { refId: 'MEDTEL_MRI_COLD_HEAD_TEMP', code: 2 * 65536 + PRIVATE + 16, unit: 'MDC_DIM_KELVIN' },
  MEDTEL_MRI_COMPRESSOR_RUNNING: { refId: 'MEDTEL_MRI_COMPRESSOR_RUNNING', code: 2 * 65536 + PRIVATE + 17 },
  MEDTEL_MRI_CHILLER_WATER_TEMP: { refId: 'MEDTEL_MRI_CHILLER_WATER_TEMP', code: 2 * 65536 + PRIVATE + 18, unit: 'MDC_DIM_DEGC' },
  MEDTEL_MRI_CHILLER_WATER_FLOW: { refId: 'MEDTEL_MRI_CHILLER_WATER_FLOW', code: 2 * 65536 + PRIVATE + 19, unit: 'MDC_DIM_X_L_PER_MIN' },
  MEDTEL_MRI_FIELD_STRENGTH: { refId: 'MEDTEL_MRI_FIELD_STRENGTH', code: 2 * 65536 + PRIVATE + 20, unit: 'MEDTEL_DIM_TESLA' },
  MEDTEL_MRI_SCAN_STATE: { refId: 'MEDTEL_MRI_SCAN_STATE', code: 2 * 65536 + PRIVATE + 21 },
  MEDTEL_ROOM_O2: { refId: 'MEDTEL_ROOM_O2', code: 2 * 65536 + PRIVATE + 22, unit: 'MDC_DIM_PERCENT' },
  // CT tube and gantry
  MEDTEL_CT_ANODE_TEMP: { refId: 'MEDTEL_CT_ANODE_TEMP', code: 2 * 65536 + PRIVATE + 23, unit: 'MDC_DIM_DEGC' },
  MEDTEL_CT_TUBE_HEAT: { refId: 'MEDTEL_CT_TUBE_HEAT', code: 2 * 65536 + PRIVATE + 24, unit: 'MDC_DIM_PERCENT' },
  MEDTEL_CT_COOLING_RATE: { refId: 'MEDTEL_CT_COOLING_RATE', code: 2 * 65536 + PRIVATE + 25, unit: 'MEDTEL_DIM_KILO_HU_PER_MIN' },
  MEDTEL_CT_GANTRY_STATE: { refId: 'MEDTEL_CT_GANTRY_STATE', code: 2 * 65536 + PRIVATE + 26 },
  MEDTEL_CT_SCAN_COUNT: { refId: 'MEDTEL_CT_SCAN_COUNT', code: 2 * 65536 + PRIVATE + 27 },
  MEDTEL_CT_DETECTOR_TEMP: { refId: 'MEDTEL_CT_DETECTOR_TEMP', code: 2 * 65536 + PRIVATE + 28, unit: 'MDC_DIM_DEGC' },
};

/** Device (MDS) codes, partition 1. */
export const DEVICE_TYPES: Record<string, number> = {
  'infusion-pump': 69985,
  ventilator: 70001,
  'patient-monitor': 69965,
  // 'x-ray-generator': none in 10101:2004 (CLINICAL-NOTES: X-ray, MRI, CT have no device codes)
};

export function lookupTerm(refId: string): MdcTerm | undefined {
  return TERMS[refId] ?? VENDOR_TERMS[refId];
}

export function lookupUnit(refId: string): MdcUnit | undefined {
  return UNITS[refId] ?? VENDOR_UNITS[refId];
}
