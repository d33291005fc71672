import { checkRange, ModbusException, ModbusExceptionCode, type ModbusVector } from '../transports/modbus-vector.js';
import { float32ToRegisters, int16ToRegister, registersToFloat32, registersToText, textToRegisters, uint16ToRegister } from '../transports/register-codec.js';
import { type InfusionPump, isRegisterText, PUMP_LIMITS, type PumpSnapshot, PumpState, SelfTestState } from './infusion-pump.js';
import type { PatientAssociation, SyntheticPatient } from './patients.js';

/**
 * The MT-LVP-100 register map (docs/simulators/infusion-pump.md): how the pump model looks
 * through Modbus. Pure functions over the model; no networking. The addresses here are the
 * contract with the agent's device profile (agent/profiles/medtel-mt-lvp-100.yaml).
 */

/** Input registers (function 04), 0-based. */
export const INPUT_REGISTER = {
  state: 0,
  rate: 1,
  vtbi: 3,
  volumeInfused: 5,
  volumeRemaining: 7,
  timeRemaining: 9,
  linePressure: 10,
  battery: 11,
  alarmFlags: 12,
  selfTestState: 13,
  selfTestResult: 14,
} as const;
export const INPUT_REGISTER_COUNT = 15;

/** Holding registers (function 03; 06/16 write the programmable block 0..12). */
export const HOLDING_REGISTER = {
  drugName: 0,
  concentration: 10,
  occlusionLimit: 12,
  serial: 20,
  model: 30,
  firmware: 40,
  manufacturer: 50,
  /** The patient block (read-only): what the pump was told at admission. All NUL: no patient. */
  patientMrn: 70,
  patientName: 80,
  patientDob: 96,
  patientSex: 101,
  patientBed: 102,
} as const;
/** Register lengths of the string fields (two ASCII characters per register). */
export const HOLDING_STRING_REGISTERS = {
  drugName: 10,
  serial: 8,
  model: 8,
  firmware: 4,
  manufacturer: 16,
  patientMrn: 10,
  patientName: 16,
  patientDob: 5,
  patientSex: 1,
  patientBed: 8,
} as const;
export const HOLDING_REGISTER_COUNT = 110;
/** Registers 0..12 (drug, concentration, occlusion limit) take writes; the identity is read-only. */
const WRITABLE_HOLDING_END = 13;

export const COIL = { running: 0, alarmReset: 1, selfTest: 2 } as const;
export const COIL_COUNT = 3;
export const DISCRETE_INPUT = { alarmActive: 0, onMains: 1 } as const;
export const DISCRETE_INPUT_COUNT = 2;

export function inputRegisters(s: PumpSnapshot): number[] {
  return [
    s.state,
    ...float32ToRegisters(s.rateMlPerH),
    ...float32ToRegisters(s.vtbiMl),
    ...float32ToRegisters(s.volumeInfusedMl),
    ...float32ToRegisters(s.volumeRemainingMl),
    uint16ToRegister(s.timeRemainingMin),
    int16ToRegister(s.linePressureMmHg),
    // Floor, so the register never shows 20 % while the battery-low flag (< 20 %) is set.
    uint16ToRegister(Math.floor(s.batteryPercent)),
    s.alarmFlags & 0xffff,
    s.selfTestState,
    s.selfTestResult,
  ];
}

export function holdingRegisters(s: PumpSnapshot, patient?: SyntheticPatient): number[] {
  const regs = new Array<number>(HOLDING_REGISTER_COUNT).fill(0); // the gaps between blocks read 0
  const put = (address: number, values: number[]) => regs.splice(address, values.length, ...values);
  put(HOLDING_REGISTER.drugName, textToRegisters(s.drugName, HOLDING_STRING_REGISTERS.drugName));
  put(HOLDING_REGISTER.concentration, float32ToRegisters(s.concentrationMgPerMl));
  put(HOLDING_REGISTER.occlusionLimit, [uint16ToRegister(s.occlusionLimitMmHg)]);
  put(HOLDING_REGISTER.serial, textToRegisters(s.serial, HOLDING_STRING_REGISTERS.serial));
  put(HOLDING_REGISTER.model, textToRegisters(s.model, HOLDING_STRING_REGISTERS.model));
  put(HOLDING_REGISTER.firmware, textToRegisters(s.firmware, HOLDING_STRING_REGISTERS.firmware));
  put(HOLDING_REGISTER.manufacturer, textToRegisters(s.manufacturer, HOLDING_STRING_REGISTERS.manufacturer));
  if (patient) {
    put(HOLDING_REGISTER.patientMrn, textToRegisters(patient.mrn, HOLDING_STRING_REGISTERS.patientMrn));
    put(HOLDING_REGISTER.patientName, textToRegisters(patient.name, HOLDING_STRING_REGISTERS.patientName));
    put(HOLDING_REGISTER.patientDob, textToRegisters(patient.dob, HOLDING_STRING_REGISTERS.patientDob));
    put(HOLDING_REGISTER.patientSex, textToRegisters(patient.sex, HOLDING_STRING_REGISTERS.patientSex));
    put(HOLDING_REGISTER.patientBed, textToRegisters(patient.bed, HOLDING_STRING_REGISTERS.patientBed));
  }
  return regs;
}

export function coils(s: PumpSnapshot): boolean[] {
  // Coil 1 (alarm reset) is a trigger: it always reads 0. Coil 2 reads 1 while a self-test runs.
  return [s.state === PumpState.Running, false, s.selfTestState === SelfTestState.Running];
}

export function discreteInputs(s: PumpSnapshot): boolean[] {
  return [s.alarmFlags !== 0, s.onMains];
}

/**
 * Function 05. Coil 0: 1 starts (or resumes), 0 pauses. A start the pump refuses (alarm,
 * nothing left to infuse) is not an error on the wire: coil 0 simply keeps reading 0.
 * Coil 1: 1 acknowledges latched alarms whose cause has gone; 0 does nothing.
 * Coil 2: 1 starts the self-test; 0 does nothing.
 */
export function writeCoil(pump: InfusionPump, address: number, value: boolean): void {
  checkRange('coil', address, 1, COIL_COUNT);
  if (address === COIL.running) {
    if (value) pump.start();
    else pump.pause();
  } else if (address === COIL.alarmReset) {
    if (value) pump.resetAlarm();
  } else if (value) {
    pump.startSelfTest();
  }
}

function illegalValue(message: string): ModbusException {
  return new ModbusException(ModbusExceptionCode.IllegalDataValue, message);
}

/**
 * Functions 06/16 on the programmable block (0..12). Validates the whole write before
 * applying any of it, so a rejected request leaves the pump untouched.
 */
export function writeHoldingRegisters(pump: InfusionPump, address: number, values: readonly number[]): void {
  checkRange('holding register', address, values.length, HOLDING_REGISTER_COUNT);
  const end = address + values.length; // exclusive
  if (end > WRITABLE_HOLDING_END) {
    throw new ModbusException(ModbusExceptionCode.IllegalDataAddress, `holding registers ${WRITABLE_HOLDING_END}..${HOLDING_REGISTER_COUNT - 1} are read-only`);
  }
  const touches = (from: number, count: number) => address < from + count && end > from;
  const conc = HOLDING_REGISTER.concentration;
  if (touches(conc, 2) && !(address <= conc && end >= conc + 2)) {
    // Half a float would briefly program a nonsense concentration.
    throw new ModbusException(ModbusExceptionCode.IllegalDataAddress, 'the concentration float32 (10..11) must be written whole');
  }

  const regs = holdingRegisters(pump.snapshot()).slice(0, WRITABLE_HOLDING_END);
  regs.splice(address, values.length, ...values.map((v) => v & 0xffff));

  let drugName: string | undefined;
  if (touches(HOLDING_REGISTER.drugName, HOLDING_STRING_REGISTERS.drugName)) {
    drugName = registersToText(regs.slice(HOLDING_REGISTER.drugName, HOLDING_REGISTER.drugName + HOLDING_STRING_REGISTERS.drugName));
    if (!isRegisterText(drugName, PUMP_LIMITS.drugNameChars)) throw illegalValue('drug name must be printable ASCII');
  }
  let concentration: number | undefined;
  if (touches(conc, 2)) {
    concentration = registersToFloat32(regs[conc] ?? 0, regs[conc + 1] ?? 0);
    const { min, max } = PUMP_LIMITS.concentrationMgPerMl;
    if (!(concentration >= min && concentration <= max)) throw illegalValue(`concentration must be ${min}..${max} mg/mL`);
  }
  let limit: number | undefined;
  if (touches(HOLDING_REGISTER.occlusionLimit, 1)) {
    limit = regs[HOLDING_REGISTER.occlusionLimit] ?? 0;
    const { min, max } = PUMP_LIMITS.occlusionLimitMmHg;
    if (limit < min || limit > max) throw illegalValue(`occlusion limit must be ${min}..${max} mmHg`);
  }

  if (drugName !== undefined) pump.setDrugName(drugName);
  if (concentration !== undefined) pump.setConcentration(concentration);
  if (limit !== undefined) pump.setOcclusionLimit(limit);
}

function slice<T>(table: string, values: T[], address: number, count: number): T[] {
  checkRange(table, address, count, values.length);
  return values.slice(address, address + count);
}

/** The pump as a Modbus data model, for a transport (transports/modbus-tcp.ts) to serve. */
export function pumpModbusVector(pump: InfusionPump, patients?: PatientAssociation): ModbusVector {
  return {
    readCoils: (address, count) => slice('coil', coils(pump.snapshot()), address, count),
    readDiscreteInputs: (address, count) => slice('discrete input', discreteInputs(pump.snapshot()), address, count),
    readHoldingRegisters: (address, count) => slice('holding register', holdingRegisters(pump.snapshot(), patients?.current()), address, count),
    readInputRegisters: (address, count) => slice('input register', inputRegisters(pump.snapshot()), address, count),
    writeCoil: (address, value) => writeCoil(pump, address, value),
    writeRegisters: (address, values) => writeHoldingRegisters(pump, address, values),
    isSilent: () => pump.isSilent(),
  };
}
