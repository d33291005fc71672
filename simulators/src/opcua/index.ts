/**
 * @medtel/simulators/opcua: the OPC UA simulators (MRI, CT). A separate entry
 * point so that importing the other simulators never loads node-opcua.
 */
export { CALIBRATION_KINDS, CT_IDENTITY, CT_SCENARIOS, CtScanner, type CtScenario, GantryState, TUBE_CAPACITY_KHU } from '../devices/ct-scanner.js';
export { HELIUM_RESERVOIR_L, MRI_IDENTITY, MRI_SCENARIOS, MriScanner, MriScanState, type MriScenario } from '../devices/mri-scanner.js';
export { CT_NAMESPACE, type ImagingSimOptions, type ImagingSimulator, MRI_NAMESPACE, startCtSimulator, startMriSimulator } from './imaging.js';
export { type DeviceServer, startDeviceServer } from './server.js';
