import { mkdirSync } from 'node:fs';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { SecurityPolicy } from 'node-opcua-secure-channel';
import { OPCUAServer } from 'node-opcua-server';
import { MessageSecurityMode } from 'node-opcua-service-secure-channel';
import { StatusCodes, type StatusCode } from 'node-opcua-status-code';
import { DataType, Variant } from 'node-opcua-variant';

/**
 * A small OPC UA server for a simulated device: everything sits under
 * Objects/Device in the simulator's own namespace, with an Identity folder
 * (Manufacturer, Model, SerialNumber, FirmwareVersion), one variable per
 * measured value and the device's methods. Values are pushed from the
 * device model on every tick (with a status code, so a failed sensor reads
 * Bad, never a made-up number); the server samples them for subscriptions.
 */

export type PointType = 'Double' | 'Boolean' | 'Int32' | 'String' | 'UInt32';

export interface PointValue {
  value: number | boolean | string;
  /** A failed sensor: the value is reported with this Bad status (e.g. 'BadSensorFailure'). */
  bad?: keyof typeof StatusCodes;
}

export interface DevicePoint {
  /** Browse name; may contain '/' to place it in a sub-folder (e.g. Magnet/HeliumLevel). */
  path: string;
  type: PointType;
  description?: string;
  read(): PointValue;
}

export interface MethodArg {
  name: string;
  type: PointType;
  description?: string;
}

export interface DeviceMethod {
  name: string;
  description: string;
  inputs: MethodArg[];
  outputs: MethodArg[];
  /** Returns the output values, or throws MethodError with an OPC UA status name. */
  call(args: Array<number | string | boolean>): Promise<Array<number | string | boolean>>;
}

export class MethodError extends Error {
  constructor(
    readonly status: keyof typeof StatusCodes,
    message: string,
  ) {
    super(message);
  }
}

export interface DeviceServerOptions {
  port: number;
  host?: string;
  /** Namespace URI of the device's nodes; profiles resolve their browse paths in it. */
  namespaceUri: string;
  productName: string;
  identity: { manufacturer: string; model: string; serial: string; firmware: string };
  points: DevicePoint[];
  methods: DeviceMethod[];
  /** PKI folder of the server (its certificate, trusted/rejected clients). */
  pkiDir: string;
  /** Accepts any client certificate (the default for a bench simulator); false = only those in pki/trusted. */
  acceptAnyClient: boolean;
  /** user -> password for user/password identity; anonymous stays allowed unless `anonymous` is false. */
  users?: Record<string, string>;
  anonymous?: boolean;
  /** How often the values are refreshed from the model, ms. */
  refreshMs?: number;
}

export interface DeviceServer {
  readonly endpoint: string;
  /** Sessions currently open on the server (what a test counts after reconnects). */
  sessionCount(): number;
  /** Service requests received since start, by request type (e.g. ReadRequest, WriteRequest, CallRequest): tests prove what a client sent. */
  requestCounts(): Record<string, number>;
  /** Stops the server as a crash or reboot would look to a client: sessions gone, port closed. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same certificate (a device rebooting). */
  restart(): Promise<void>;
}

const DATA_TYPES: Record<PointType, DataType> = {
  Double: DataType.Double,
  Boolean: DataType.Boolean,
  Int32: DataType.Int32,
  UInt32: DataType.UInt32,
  String: DataType.String,
};

export async function startDeviceServer(o: DeviceServerOptions): Promise<DeviceServer> {
  mkdirSync(o.pkiDir, { recursive: true });
  const certificateManager = new OPCUACertificateManager({ rootFolder: o.pkiDir, automaticallyAcceptUnknownCertificate: o.acceptAnyClient });
  await certificateManager.initialize();
  let server: OPCUAServer | undefined;
  let timer: NodeJS.Timeout | undefined;
  const requests: Record<string, number> = {};

  const start = async () => {
    const s = new OPCUAServer({
      port: o.port,
      // The advertised host must match what clients dial, or node-opcua warns on every session.
      hostname: o.host ?? '127.0.0.1',
      ...(o.host ? { host: o.host } : {}),
      resourcePath: '/medtel',
      buildInfo: { productName: o.productName, manufacturerName: o.identity.manufacturer, softwareVersion: o.identity.firmware },
      serverInfo: { applicationUri: `urn:medtel:sim:${o.identity.model}:${o.identity.serial}`, productUri: o.namespaceUri },
      serverCertificateManager: certificateManager,
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
      securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
      allowAnonymous: o.anonymous !== false,
      userManager: { isValidUser: (user: string, password: string) => o.users !== undefined && o.users[user] === password },
      disableDiscovery: true,
    });
    s.on('request', (request: { constructor: { name: string } }) => {
      const name = request.constructor.name;
      requests[name] = (requests[name] ?? 0) + 1;
    });
    await s.initialize();
    const refresh = buildAddressSpace(s, o);
    refresh();
    timer = setInterval(refresh, o.refreshMs ?? 100);
    await s.start();
    server = s;
  };

  const stop = async () => {
    clearInterval(timer);
    const s = server;
    server = undefined;
    // shutdown(0): no grace period; the point is to look like a device that went away.
    if (s) await s.shutdown(0);
  };

  await start();
  return {
    endpoint: `opc.tcp://${o.host ?? '127.0.0.1'}:${o.port}/medtel`,
    sessionCount: () => server?.currentSessionCount ?? 0,
    requestCounts: () => ({ ...requests }),
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}

/** Builds Objects/Device in the server's own namespace; returns the function that pushes fresh values. */
function buildAddressSpace(server: OPCUAServer, o: DeviceServerOptions): () => void {
  const addressSpace = server.engine.addressSpace;
  if (!addressSpace) throw new Error('OPC UA address space missing after initialize()');
  const ns = addressSpace.registerNamespace(o.namespaceUri);
  const device = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Device' });
  const folders = new Map<string, ReturnType<typeof ns.addObject>>([['', device]]);
  const folder = (path: string) => {
    let parent = device;
    let so = '';
    for (const part of path.split('/').filter(Boolean)) {
      so = so ? `${so}/${part}` : part;
      const existing = folders.get(so);
      if (existing) {
        parent = existing;
        continue;
      }
      const created = ns.addObject({ componentOf: parent, browseName: part });
      folders.set(so, created);
      parent = created;
    }
    return parent;
  };
  const constant = (parent: ReturnType<typeof folder>, browseName: string, value: string) =>
    ns.addVariable({ componentOf: parent, browseName, dataType: 'String', value: { dataType: DataType.String, value } });
  const identity = folder('Identity');
  constant(identity, 'Manufacturer', o.identity.manufacturer);
  constant(identity, 'Model', o.identity.model);
  constant(identity, 'SerialNumber', o.identity.serial);
  constant(identity, 'FirmwareVersion', o.identity.firmware);

  const variables = o.points.map((p) => {
    const parts = p.path.split('/');
    const name = parts.pop() as string;
    const v = ns.addVariable({
      componentOf: folder(parts.join('/')),
      browseName: name,
      dataType: p.type,
      ...(p.description ? { description: p.description } : {}),
    });
    return { point: p, variable: v };
  });

  for (const m of o.methods) {
    const method = ns.addMethod(device, {
      browseName: m.name,
      description: m.description,
      inputArguments: m.inputs.map((a) => ({ name: a.name, dataType: DATA_TYPES[a.type], description: { text: a.description ?? a.name } })),
      outputArguments: m.outputs.map((a) => ({ name: a.name, dataType: DATA_TYPES[a.type], description: { text: a.description ?? a.name } })),
    });
    // Two parameters: node-opcua treats the handler as promise-based (STACK-NOTES).
    method.bindMethod(async (inputArguments: Variant[], _context: unknown) => {
      try {
        const out = await m.call(inputArguments.map((v) => v.value as number | string | boolean));
        return {
          statusCode: StatusCodes.Good,
          outputArguments: out.map((value, i) => new Variant({ dataType: DATA_TYPES[(m.outputs[i] as MethodArg).type], value })),
        };
      } catch (err) {
        if (err instanceof MethodError) return { statusCode: StatusCodes[err.status] as StatusCode };
        return { statusCode: StatusCodes.BadInternalError };
      }
    });
  }

  return () => {
    for (const { point, variable } of variables) {
      const r = point.read();
      const status = r.bad ? (StatusCodes[r.bad] as StatusCode) : StatusCodes.Good;
      variable.setValueFromSource(new Variant({ dataType: DATA_TYPES[point.type], value: r.value }), status);
    }
  };
}
