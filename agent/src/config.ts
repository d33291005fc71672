import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN, ID_PATTERN, LOG_LEVELS, SIZE_PATTERN, loadConfigFile } from '@medtel/shared';
import { OpcuaConnectionSchema } from './drivers/opcua/config.js';

/**
 * agent.yaml: who this gateway is, where the collector is, which devices to
 * read. Connection settings are validated in two steps: here only `protocol`,
 * then by that protocol's driver (which alone knows its fields), so an error
 * still names the exact field, e.g. `devices[0].connection.port`.
 */
const Duration = (fallback: string) => Type.String({ pattern: DURATION_PATTERN, default: fallback, expected: 'a duration such as 500ms, 5s or 2m' });
const Id = Type.String({ pattern: ID_PATTERN, expected: 'an id of 1-64 letters, digits, _ or -' });
const strict = { additionalProperties: false } as const;
const OpcUrl = Type.String({ pattern: '^opc\\.tcp://[^/\\s]+', expected: 'an opc.tcp://host:port/path URL' });

export const DeviceConfigSchema = Type.Object(
  {
    id: Id,
    /** Profile name (a file in the profiles directory, without .yaml) or a path to a YAML file. */
    profile: Type.String({ minLength: 1 }),
    connection: Type.Object({ protocol: Type.String({ minLength: 1, expected: 'a protocol name such as modbus-tcp' }) }, { additionalProperties: true }),
    pollInterval: Duration('1s'),
    timeout: Duration('1s'),
    enabled: Type.Boolean({ default: true }),
  },
  strict,
);

export const AgentConfigSchema = Type.Object(
  {
    gateway: Type.Object({ id: Id, site: Id }, strict),
    collector: Type.Object(
      {
        url: Type.String({ pattern: '^mqtts?://', default: 'mqtt://127.0.0.1:1883', expected: 'an mqtt:// or mqtts:// URL' }),
        /** The gateway's secret; prefer secretFile so the secret is not in the config. */
        secret: Type.Optional(Type.String({ minLength: 1 })),
        secretFile: Type.Optional(Type.String({ minLength: 1 })),
        /** For mqtts://: the CA that signed the collector's certificate, and this gateway's client certificate for mutual TLS. */
        tls: Type.Optional(
          Type.Object(
            {
              /** Without it, Node's bundled public CAs (a hospital CA must be given here). */
              caFile: Type.Optional(Type.String({ minLength: 1 })),
              certFile: Type.Optional(Type.String({ minLength: 1 })),
              keyFile: Type.Optional(Type.String({ minLength: 1 })),
            },
            strict,
          ),
        ),
        /** Allow plain mqtt:// to a collector that is not on this machine (warned about at every start). */
        allowInsecure: Type.Boolean({ default: false }),
        inflightWindow: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        keepalive: Duration('30s'),
        connectTimeout: Duration('10s'),
        reconnectMin: Duration('1s'),
        reconnectMax: Duration('60s'),
        /** Messages per second at most while draining a backlog; 0 = as fast as the window allows. */
        maxPublishRate: Type.Integer({ minimum: 0, default: 0 }),
      },
      { ...strict, default: {} },
    ),
    /** Where the outbox database lives (systemd: StateDirectory). */
    stateDir: Type.String({ minLength: 1, default: './data/agent' }),
    outbox: Type.Object(
      {
        /** Past this, the oldest unsent telemetry is evicted (and reported as a gap). */
        maxBytes: Type.String({ pattern: SIZE_PATTERN, default: '256MiB', expected: 'a size such as 64MiB or 2GiB' }),
        /** Messages older than this are evicted (and reported as a gap). */
        maxAge: Duration('7d'),
        /** Longest a reading waits in memory before its group commit. */
        commitInterval: Duration('20ms'),
      },
      { ...strict, default: {} },
    ),
    /** Extra directory searched for profiles before the built-in ones. */
    profilesDir: Type.Optional(Type.String({ minLength: 1 })),
    http: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
      },
      { ...strict, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          LOG_LEVELS.map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { ...strict, default: {} },
    ),
    /** Patient data (docs/phi.md): the keyring that seals fields profiles mark `phi:`. Without it they are dropped. */
    phi: Type.Optional(
      Type.Object(
        {
          /** Keyring file (JSON, mode 0600, owned by the agent's service user); relative to this config file. */
          keyring: Type.String({ minLength: 1 }),
        },
        strict,
      ),
    ),
    /** Plug-and-play (docs/plug-and-play.md): devices plugged in without a config entry are identified and read. */
    discovery: Type.Object(
      {
        /** Off: no port is watched or probed; only configured devices are read. */
        enabled: Type.Boolean({ default: true }),
        serial: Type.Object(
          {
            /** Directory of stable serial port links; new links are probed, vanished ones mark their device unreachable. */
            watchDir: Type.String({ minLength: 1, default: '/dev/serial/by-id' }),
            /** Full rescan of watchDir this often, in case a change notification was missed. */
            rescanInterval: Duration('5s'),
            /** Wait this long after a link appears before probing (the adapter settles). */
            settle: Duration('500ms'),
            /** Terminal-server ports to identify, tcp://host:port (never scanned: listed only). */
            tcp: Type.Array(Type.String({ pattern: '^tcp://.+:\\d{1,5}$', expected: 'tcp://host:port' }), { default: [] }),
            /** Link names or paths never probed (globs with * and ?), reported as ignored. */
            ignore: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
          },
          { ...strict, default: {} },
        ),
        /**
         * OPC UA servers: never scanned. Discovery endpoints (an LDS, or a server's own endpoint) are asked
         * FindServers then GetEndpoints; listed endpoints are used as they are. Security, identity and trust
         * as for a configured OPC UA device (an untrusted server certificate is not identified).
         */
        opcua: Type.Object(
          {
            discoveryUrls: Type.Array(OpcUrl, { default: [] }),
            endpoints: Type.Array(OpcUrl, { default: [] }),
            security: OpcuaConnectionSchema.properties.security,
            identity: OpcuaConnectionSchema.properties.identity,
            trustedServerCertificates: OpcuaConnectionSchema.properties.trustedServerCertificates,
            /** Connect + read allowed for one server's identification. */
            timeout: Duration('5s'),
          },
          { ...strict, default: {} },
        ),
        /** Modbus TCP hosts (or gateways) to identify: listed only; each unit id is probed like Modbus RTU. */
        modbusTcp: Type.Array(
          Type.Object(
            {
              host: Type.String({ pattern: '^tcp://[^:/\\s]+:\\d{1,5}$', expected: 'tcp://host:port' }),
              unitIds: Type.String({
                pattern: '^\\d{1,3}(-\\d{1,3})?(,\\d{1,3}(-\\d{1,3})?)*$',
                default: '1',
                expected: 'unit ids such as 1-4 or 1,2,10-12',
              }),
            },
            strict,
          ),
          { default: [] },
        ),
        /** Ports and endpoints left unidentified are probed again this often (a device switched on later is found). */
        reprobeInterval: Duration('10m'),
        /** Poll interval and timeout of the devices plug-and-play starts. */
        pollInterval: Duration('1s'),
        timeout: Duration('1s'),
        /** Profiles tried (by name); default: every profile with an identify section. */
        profiles: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
      },
      { ...strict, default: {} },
    ),
    devices: Type.Array(DeviceConfigSchema, { default: [] }),
  },
  strict,
);

export type AgentConfig = Static<typeof AgentConfigSchema>;
export type DeviceConfig = Static<typeof DeviceConfigSchema>;

export function loadAgentConfig(file: string): AgentConfig {
  return loadConfigFile(file, AgentConfigSchema);
}
