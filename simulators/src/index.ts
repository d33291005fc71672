/**
 * @medtel/simulators: simulated medical devices for tests, demos and development.
 * `medtel-sim` (cli.ts) is a thin shell over these.
 */
export {
  AlarmFlag,
  InfusionPump,
  type InfusionPumpOptions,
  isRegisterText,
  PUMP_IDENTITY,
  PUMP_LIMITS,
  type PumpScenario,
  type PumpSnapshot,
  PumpState,
  SELF_TEST_S,
  SelfTestResult,
  SelfTestState,
} from './devices/infusion-pump.js';
export {
  COIL,
  COIL_COUNT,
  coils,
  DISCRETE_INPUT,
  DISCRETE_INPUT_COUNT,
  discreteInputs,
  HOLDING_REGISTER,
  HOLDING_REGISTER_COUNT,
  HOLDING_STRING_REGISTERS,
  holdingRegisters,
  INPUT_REGISTER,
  INPUT_REGISTER_COUNT,
  inputRegisters,
  pumpModbusVector,
  writeCoil,
  writeHoldingRegisters,
} from './devices/infusion-pump-modbus.js';
export { type PumpSimulator, type PumpSimulatorOptions, startPumpSimulator } from './pump.js';
export {
  type PumpCliFlags,
  type PumpCliOptions,
  parseHostPort,
  parsePumpCliFlags,
  UsageError,
} from './pump-options.js';
export { type Random, randomSeed, seededRandom } from './random.js';
export { type ModbusTcpOptions, type ModbusTcpServer, type ModbusTcpStats, serveModbusTcp } from './transports/modbus-tcp.js';
export { checkRange, ModbusException, ModbusExceptionCode, type ModbusVector } from './transports/modbus-vector.js';
export * from './transports/register-codec.js';
export { Ventilator, VENT_ALARMS, VENT_IDENTITY, VENT_SCENARIOS, type VentScenario } from './devices/ventilator.js';
export { startVentilatorSimulator, type VentilatorSimulator, type VentilatorSimulatorOptions } from './ventilator.js';
export { FaultInjector, type LineFaults } from './transports/faults.js';
export { openSimSerialLink, type SerialLinkSpec, type SimSerialLink } from './transports/serial-link.js';
export type { SerialSimOptions, SerialSimStats } from './serial/serial-sim.js';
export { ECG_IDENTITY, EcgMonitor, LEAD_NAMES_12, MICROVOLTS_PER_COUNT } from './devices/ecg-monitor.js';
export { type EcgSimulator, type EcgSimulatorOptions, startEcgSimulator } from './ecg.js';
export { XRAY_IDENTITY, XRAY_SCENARIOS, XrayGenerator, XrayState, type XrayScenario } from './devices/xray-generator.js';
export { startXraySimulator, type XraySimulator, type XraySimulatorOptions } from './xray.js';
export {
  PatientAssociation,
  type PatientAssociationOptions,
  parsePatientSpec,
  type SyntheticPatient,
  syntheticPatient,
} from './devices/patients.js';
export { addPatientFlags, type PatientCliFlags, parsePatientFlags } from './patient-options.js';
export { PATIENT_COMMAND, PATIENT_RECORD, PATIENT_TEXT_WIDTH, VentilatorMedibus } from './serial/ventilator-medibus.js';
export { ECG_FRAME } from './serial/ecg-codec.js';
