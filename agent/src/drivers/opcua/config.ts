import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, DURATION_PATTERN, parseDuration, validateConfig } from '@medtel/shared';
import type { ResolvedProfile } from '../../profiles/load.js';
import { within } from '../config-labels.js';

/**
 * OPC UA settings: the device's `connection` (endpoint, security, identity,
 * trust) and the profile's addressing (browse paths, sampling, deadband, and
 * methods for diagnostics). Validated at agent start, without loading
 * node-opcua: that happens only when a session starts (index.ts).
 */
const strict = { additionalProperties: false } as const;
const Duration = (fallback: string) => Type.String({ pattern: DURATION_PATTERN, default: fallback, expected: 'a duration such as 500ms or 1s' });

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const SECURITY_POLICIES = ['None', 'Basic256Sha256'] as const;

const Identity = Type.Union(
  [
    Type.Object({ type: Type.Literal('anonymous') }, strict),
    Type.Object(
      {
        type: Type.Literal('username'),
        username: Type.String({ minLength: 1 }),
        /** File holding the password (kept out of the config, like the gateway secret). */
        passwordFile: Type.String({ minLength: 1 }),
      },
      strict,
    ),
    Type.Object(
      {
        type: Type.Literal('certificate'),
        certificateFile: Type.String({ minLength: 1, expected: 'a PEM certificate file' }),
        privateKeyFile: Type.String({ minLength: 1, expected: 'a PEM private key file' }),
      },
      strict,
    ),
  ],
  { expected: '{ type: anonymous }, { type: username, username, passwordFile } or { type: certificate, certificateFile, privateKeyFile }' },
);

export const OpcuaConnectionSchema = Type.Object(
  {
    protocol: Type.Literal('opcua'),
    endpoint: Type.String({ pattern: '^opc\\.tcp://[^/\\s]+', expected: 'an opc.tcp://host:port/path URL' }),
    security: Type.Object(
      {
        mode: Type.Union(
          SECURITY_MODES.map((m) => Type.Literal(m)),
          { default: 'None', description: 'message security: None, Sign or SignAndEncrypt' },
        ),
        policy: Type.Union(
          SECURITY_POLICIES.map((p) => Type.Literal(p)),
          { default: 'None', description: 'security policy (algorithms); None only with mode None' },
        ),
      },
      { ...strict, default: {} },
    ),
    identity: Type.Optional(Identity),
    /** Server certificates (PEM or DER files) to trust, in addition to <stateDir>/opcua-pki/trusted. */
    trustedServerCertificates: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Demo/bench only: trust any server certificate on first sight. Never for a real device. */
    demoAcceptAnyServerCertificate: Type.Boolean({ default: false }),
    /** Subscription publishing interval; default: the shortest sampling interval of the profile. */
    publishingInterval: Type.Optional(Type.String({ pattern: DURATION_PATTERN, expected: 'a duration such as 500ms or 1s' })),
    /** Longest wait before reconnecting after a failure (backoff doubles from the poll interval up to this). */
    reconnectMax: Duration('30s'),
  },
  strict,
);

/** A node, as a profile's `read` (metric or identity) names it. */
export const OpcuaReadSchema = Type.Object(
  {
    /** Browse path from the Objects folder, e.g. Device/Magnet/HeliumLevel (names in the profile's namespace). */
    path: Type.String({ pattern: '^[^/]+(/[^/]+)*$', expected: 'a browse path such as Device/Magnet/HeliumLevel' }),
    samplingInterval: Type.Optional(Type.String({ pattern: DURATION_PATTERN, expected: 'a duration such as 250ms or 1s' })),
    /** Report a change only when the value moves by at least this much (absolute, or % of the range). */
    deadband: Type.Optional(Type.Number({ minimum: 0 })),
    deadbandType: Type.Union([Type.Literal('absolute'), Type.Literal('percent')], { default: 'absolute' }),
  },
  strict,
);

const MethodArg = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    type: Type.Union([Type.Literal('String'), Type.Literal('Int32'), Type.Literal('Double'), Type.Literal('Boolean')]),
    /** Fixed value; without it the request's args[name] is used. */
    value: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  },
  strict,
);

/** A diagnostic test over OPC UA: call a method and judge its outputs. */
export const OpcuaDiagnosticRunSchema = Type.Object(
  {
    /** Browse path of the method; it is called on its parent object. */
    method: Type.String({ pattern: '^[^/]+(/[^/]+)*$', expected: 'a browse path such as Device/RunSelfTest' }),
    inputs: Type.Array(MethodArg, { default: [] }),
    /** Names given to the method's output arguments, in order (they key the result). */
    outputs: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Passed when output `output` is one of `in`; without it, a Good status is a pass. */
    pass: Type.Optional(
      Type.Object({ output: Type.String({ minLength: 1 }), in: Type.Array(Type.Union([Type.Number(), Type.String()]), { minItems: 1 }) }, strict),
    ),
  },
  strict,
);

const ProfileDriverSchema = Type.Object(
  {
    /** Namespace URI the browse names live in (resolved to its index on each connect). */
    namespace: Type.String({ minLength: 1 }),
    /** Default sampling interval of metrics that do not give one. */
    samplingInterval: Duration('1s'),
  },
  strict,
);

export type OpcuaConnection = Static<typeof OpcuaConnectionSchema>;
export type OpcuaDiagnostic = Static<typeof OpcuaDiagnosticRunSchema> & { name: string };

export interface OpcuaNodeRef {
  key: string;
  path: string[];
  samplingIntervalMs: number;
  deadband?: { type: 'absolute' | 'percent'; value: number };
}

export interface PreparedOpcua {
  connection: OpcuaConnection;
  namespace: string;
  metrics: OpcuaNodeRef[];
  identity: OpcuaNodeRef[];
  diagnostics: Map<string, OpcuaDiagnostic>;
  publishingIntervalMs: number;
  reconnectMaxMs: number;
  /** Directory of the agent config, for relative certificate and password file paths. */
  baseDir: string;
}

export function prepareOpcua(connection: unknown, profile: ResolvedProfile, where: { configFile: string; field: string }, baseDir: string): PreparedOpcua {
  const conn = within(() => validateConfig(connection, where.configFile, OpcuaConnectionSchema), where.configFile, where.field);
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`${where.configFile}: ${where.field}.${field}: ${message}`, where.configFile, `${where.field}.${field}`);
  };
  if (!profile.protocols.includes('opcua'))
    fail('protocol', `profile "${profile.profile}" cannot be read over OPC UA (it supports ${profile.protocols.join(', ')})`);
  const { mode, policy } = conn.security;
  if ((mode === 'None') !== (policy === 'None'))
    fail('security', `mode ${mode} with policy ${policy} is not a valid pair; use None/None, or Sign or SignAndEncrypt with Basic256Sha256`);
  const driver = within(() => validateConfig(profile.driver ?? {}, profile.file, ProfileDriverSchema), profile.file, 'driver');
  const defaultSampling = parseDuration(driver.samplingInterval);
  const ref = (key: string, read: unknown, field: string): OpcuaNodeRef => {
    const r = within(() => validateConfig(read, profile.file, OpcuaReadSchema), profile.file, field);
    return {
      key,
      path: r.path.split('/'),
      samplingIntervalMs: r.samplingInterval ? parseDuration(r.samplingInterval) : defaultSampling,
      ...(r.deadband !== undefined ? { deadband: { type: r.deadbandType, value: r.deadband } } : {}),
    };
  };
  const metrics = profile.metrics.map((m, i) => ref(m.id, m.read, `metrics[${i}].read`));
  const identity = Object.entries(profile.identity).flatMap(([field, spec]) => (spec ? [ref(field, spec.read, `identity.${field}.read`)] : []));
  const diagnostics = new Map<string, OpcuaDiagnostic>();
  profile.diagnostics.forEach((test, i) => {
    const run = within(() => validateConfig(test.run, profile.file, OpcuaDiagnosticRunSchema), profile.file, `diagnostics[${i}].run`);
    if (run.pass && !run.outputs.includes(run.pass.output))
      throw new ConfigError(
        `${profile.file}: diagnostics[${i}].run.pass.output: "${run.pass.output}" is not one of outputs (${run.outputs.join(', ')})`,
        profile.file,
        `diagnostics[${i}].run.pass.output`,
      );
    diagnostics.set(test.name, { ...run, name: test.name });
  });
  const publishingIntervalMs = conn.publishingInterval ? parseDuration(conn.publishingInterval) : Math.min(...metrics.map((m) => m.samplingIntervalMs));
  return {
    connection: conn,
    namespace: driver.namespace,
    metrics,
    identity,
    diagnostics,
    publishingIntervalMs,
    reconnectMaxMs: parseDuration(conn.reconnectMax),
    baseDir,
  };
}
