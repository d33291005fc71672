import { CALIBRATION_KINDS, CT_IDENTITY, CtScanner, type CtScenario } from '../devices/ct-scanner.js';
import { MRI_IDENTITY, MriScanner, MriScanState, type MriScenario } from '../devices/mri-scanner.js';
import { randomSeed, seededRandom } from '../random.js';
import { type DeviceMethod, type DevicePoint, type DeviceServer, type DeviceServerOptions, MethodError, startDeviceServer } from './server.js';

/**
 * `medtel-sim mri|ct`: the imaging models behind an OPC UA server
 * (docs/simulators/mri.md, ct.md). Both offer RunSelfTest() -> (Code, Text)
 * and StartCalibration(Kind) -> Result.
 */

export const MRI_NAMESPACE = 'urn:medtel:sim:mri';
export const CT_NAMESPACE = 'urn:medtel:sim:ct';

export interface ImagingSimOptions {
  port: number;
  host?: string;
  serial?: string;
  pkiDir: string;
  acceptAnyClient?: boolean;
  users?: Record<string, string>;
  anonymous?: boolean;
  seed?: number;
  scenarioAfterS?: number;
  /** How long StartCalibration takes, ms (default 1500). */
  calibrationMs?: number;
}

export interface ImagingSimulator<M> extends DeviceServer {
  readonly model: M;
  readonly seed: number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function commonMethods(selfTest: () => { code: number; text: string }, calibrate: (kind: string) => Promise<string>): DeviceMethod[] {
  return [
    {
      name: 'RunSelfTest',
      description: 'Runs the built-in self-test; Code 0 = passed',
      inputs: [],
      outputs: [
        { name: 'Code', type: 'Int32' },
        { name: 'Text', type: 'String' },
      ],
      call: async () => {
        await sleep(200);
        const r = selfTest();
        return [r.code, r.text];
      },
    },
    {
      name: 'StartCalibration',
      description: `Runs a calibration of the given kind and returns its result`,
      inputs: [{ name: 'Kind', type: 'String' }],
      outputs: [{ name: 'Result', type: 'String' }],
      call: async ([kind]) => [await calibrate(String(kind))],
    },
  ];
}

/** What differs between the imaging servers; the rest comes from the command-line options. */
type ImagingDevice = Pick<DeviceServerOptions, 'namespaceUri' | 'productName' | 'identity' | 'points' | 'methods'>;

/** Serves `model` over OPC UA and advances it every 100 ms in real time. */
async function serve<M extends { tick(dtS: number): void }>(o: ImagingSimOptions, model: M, seed: number, device: ImagingDevice): Promise<ImagingSimulator<M>> {
  const server = await startDeviceServer({
    port: o.port,
    ...(o.host ? { host: o.host } : {}),
    ...device,
    pkiDir: o.pkiDir,
    acceptAnyClient: o.acceptAnyClient ?? true,
    ...(o.users ? { users: o.users } : {}),
    ...(o.anonymous !== undefined ? { anonymous: o.anonymous } : {}),
  });
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    model.tick((now - last) / 1000);
    last = now;
  }, 100);
  return {
    ...server,
    endpoint: server.endpoint,
    model,
    seed,
    sessionCount: () => server.sessionCount(),
    requestCounts: () => server.requestCounts(),
    close: async () => {
      clearInterval(timer);
      await server.stop();
    },
  };
}

export async function startMriSimulator(o: ImagingSimOptions & { scenario?: MriScenario; leakPercentPerHour?: number }): Promise<ImagingSimulator<MriScanner>> {
  const seed = o.seed ?? randomSeed();
  const mri = new MriScanner({
    random: seededRandom(seed),
    ...(o.scenario ? { scenario: o.scenario } : {}),
    ...(o.scenarioAfterS !== undefined ? { scenarioAfterS: o.scenarioAfterS } : {}),
    ...(o.leakPercentPerHour !== undefined ? { leakPercentPerHour: o.leakPercentPerHour } : {}),
  });
  const points: DevicePoint[] = [
    { path: 'Magnet/HeliumLevel', type: 'Double', description: 'Liquid helium level, % of the reservoir', read: () => ({ value: mri.heliumLevel }) },
    { path: 'Magnet/HeliumBoilOffRate', type: 'Double', description: 'Helium lost, L/day', read: () => ({ value: mri.boilOff }) },
    { path: 'Magnet/MagnetTemperature', type: 'Double', description: 'Coil temperature, K', read: () => ({ value: mri.magnetTemp }) },
    {
      path: 'Magnet/ColdHeadTemperature',
      type: 'Double',
      description: 'Cold head second stage, K',
      read: () => (mri.coldHeadSensorFailed ? { value: 0, bad: 'BadSensorFailure' } : { value: mri.coldHeadTemp }),
    },
    { path: 'Magnet/FieldStrength', type: 'Double', description: 'Main field, T', read: () => ({ value: mri.fieldStrength }) },
    { path: 'Cooling/CompressorRunning', type: 'Boolean', read: () => ({ value: mri.compressorRunning }) },
    { path: 'Cooling/ChillerWaterTemperature', type: 'Double', description: 'Chilled water supply, °C', read: () => ({ value: mri.chillerTemp }) },
    { path: 'Cooling/ChillerWaterFlow', type: 'Double', description: 'Chilled water flow, L/min', read: () => ({ value: mri.chillerFlow }) },
    { path: 'ScanState', type: 'Int32', description: '0 idle, 1 scanning, 2 service, 3 quenched', read: () => ({ value: mri.scanState }) },
    { path: 'Room/OxygenLevel', type: 'Double', description: 'Magnet room O2, %', read: () => ({ value: mri.roomO2 }) },
  ];
  const methods = commonMethods(
    () => mri.selfTest(),
    async (kind) => {
      if (!['shim', 'rf', 'gradient'].includes(kind)) throw new MethodError('BadInvalidArgument', `unknown calibration ${kind}`);
      if (mri.scanState === MriScanState.Quenched) return `${kind} calibration impossible: magnet quenched`;
      const before = mri.scanState;
      mri.scanState = MriScanState.Service;
      await sleep(o.calibrationMs ?? 1500);
      mri.scanState = before;
      return `${kind} calibration completed`;
    },
  );
  return serve(o, mri, seed, {
    namespaceUri: MRI_NAMESPACE,
    productName: 'medtel MRI simulator',
    identity: { ...MRI_IDENTITY, serial: o.serial ?? 'MR-000001' },
    points,
    methods,
  });
}

export async function startCtSimulator(o: ImagingSimOptions & { scenario?: CtScenario; scanEveryS?: number }): Promise<ImagingSimulator<CtScanner>> {
  const seed = o.seed ?? randomSeed();
  const ct = new CtScanner({
    random: seededRandom(seed),
    ...(o.scenario ? { scenario: o.scenario } : {}),
    ...(o.scenarioAfterS !== undefined ? { scenarioAfterS: o.scenarioAfterS } : {}),
    ...(o.scanEveryS !== undefined ? { scanEveryS: o.scanEveryS } : {}),
  });
  const points: DevicePoint[] = [
    { path: 'Tube/AnodeTemperature', type: 'Double', description: 'Anode temperature, °C', read: () => ({ value: ct.anodeTemp }) },
    { path: 'Tube/HeatContent', type: 'Double', description: 'Tube heat, % of capacity', read: () => ({ value: ct.tubeHeatPercent }) },
    { path: 'Tube/CoolingRate', type: 'Double', description: 'Heat removed, kHU/min', read: () => ({ value: ct.coolingRate }) },
    { path: 'Gantry/RotationState', type: 'Int32', description: '0 stopped, 1 rotating', read: () => ({ value: ct.gantry }) },
    { path: 'LastScan/KiloVolts', type: 'Double', description: 'kVp of the last scan', read: () => ({ value: ct.lastKv }) },
    { path: 'LastScan/MilliAmperes', type: 'Double', description: 'mA of the last scan', read: () => ({ value: ct.lastMa }) },
    { path: 'ScanCount', type: 'UInt32', read: () => ({ value: ct.scanCount }) },
    { path: 'Detector/Temperature', type: 'Double', description: 'Detector temperature, °C', read: () => ({ value: ct.detectorTemp }) },
  ];
  const methods = commonMethods(
    () => ct.selfTest(),
    async (kind) => {
      if (!(CALIBRATION_KINDS as readonly string[]).includes(kind)) throw new MethodError('BadInvalidArgument', `unknown calibration ${kind}`);
      await sleep(o.calibrationMs ?? 1500);
      return `${kind} calibration completed`;
    },
  );
  return serve(o, ct, seed, {
    namespaceUri: CT_NAMESPACE,
    productName: 'medtel CT simulator',
    identity: { ...CT_IDENTITY, serial: o.serial ?? 'CT-000001' },
    points,
    methods,
  });
}
