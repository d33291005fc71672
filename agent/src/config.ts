import { CloneType, Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN, ID_PATTERN, LOG_LEVELS, SIZE_PATTERN, loadConfigFile } from '@medtel/shared';
import { OpcuaConnectionSchema } from './drivers/opcua/config.js';

/**
 * agent.yaml: who this gateway is, where the collector is, which devices to
 * read. Connection settings are validated in two steps: here only `protocol`,
 * then by that protocol's driver (which alone knows its fields), so an error
 * still names the exact field, e.g. `devices[0].connection.port`.
 */
const Duration = (fallback: string, description: string) =>
  Type.String({ pattern: DURATION_PATTERN, default: fallback, expected: 'a duration such as 500ms, 5s or 2m', description });
const Id = (description: string) => Type.String({ pattern: ID_PATTERN, expected: 'an id of 1-64 letters, digits, _ or -', description });
const strict = { additionalProperties: false } as const;
const OpcUrl = Type.String({ pattern: '^opc\\.tcp://[^/\\s]+', expected: 'an opc.tcp://host:port/path URL' });

// Every field carries a `description`: docs/config-reference.md is generated from them
// (node scripts/gen-config-doc.mjs), so the reference is what this schema accepts.
export const DeviceConfigSchema = Type.Object(
  {
    id: Id('device id on this gateway (fleet-wide id: `{gateway}.{id}`)'),
    profile: Type.String({
      minLength: 1,
      description: 'a profile name (a file in `agent/profiles` or `profilesDir`, without `.yaml`) or a path to a YAML file',
    }),
    connection: Type.Object(
      {
        protocol: Type.String({
          minLength: 1,
          expected: 'a protocol name such as modbus-tcp',
          description:
            'how the device is reached: `modbus-tcp`, `modbus-rtu`, `medibus`, `ecg-stream` or `opcua`; the other `connection` fields belong to that protocol (docs/configuration.md)',
        }),
      },
      { additionalProperties: true, description: "how to reach the device; checked by the protocol's driver" },
    ),
    pollInterval: Duration('1s', 'how often the device is read'),
    timeout: Duration('1s', 'how long to wait for an answer before the device counts as unreachable'),
    enabled: Type.Boolean({ default: true, description: '`false` keeps the entry but does not read the device' }),
  },
  { ...strict, description: 'one device this gateway reads' },
);

export const AgentConfigSchema = Type.Object(
  {
    gateway: Type.Object(
      {
        id: Id("this gateway's id; also its MQTT user name"),
        site: Id('site id; topics are `medtel/v1/{site}/{gateway}/...`'),
      },
      { ...strict, description: 'who this gateway is' },
    ),
    collector: Type.Object(
      {
        url: Type.String({
          pattern: '^mqtts?://',
          default: 'mqtt://127.0.0.1:1883',
          expected: 'an mqtt:// or mqtts:// URL',
          description: "the collector's MQTT listener: `mqtts://host:8883` in production; plain `mqtt://` only to this machine unless `allowInsecure`",
        }),
        secret: Type.Optional(
          Type.String({ minLength: 1, description: "the gateway's secret inline (or the environment variable `MEDTEL_GATEWAY_SECRET`); prefer `secretFile`" }),
        ),
        secretFile: Type.Optional(
          Type.String({
            minLength: 1,
            description: "file holding the gateway's secret (relative to the config file); not needed when the gateway authenticates by certificate only",
          }),
        ),
        tls: Type.Optional(
          Type.Object(
            {
              caFile: Type.Optional(
                Type.String({
                  minLength: 1,
                  description:
                    "CA that signed the collector's certificate; the agent refuses any other. Without it, Node's bundled public CAs (a hospital or medtel private CA must be given here)",
                }),
              ),
              certFile: Type.Optional(Type.String({ minLength: 1, description: "this gateway's client certificate (PEM), for mutual TLS" })),
              keyFile: Type.Optional(Type.String({ minLength: 1, description: "this gateway's client certificate key (PEM), for mutual TLS" })),
            },
            { ...strict, description: 'for `mqtts://` (docs/transport-security.md)' },
          ),
        ),
        allowInsecure: Type.Boolean({
          default: false,
          description: 'allow plain `mqtt://` to a collector that is not on this machine; the agent then logs an `INSECURE` warning at every start',
        }),
        inflightWindow: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'QoS 1 messages published and not yet acknowledged' }),
        keepalive: Duration('30s', 'MQTT keepalive'),
        connectTimeout: Duration('10s', 'give up a connection attempt after this'),
        reconnectMin: Duration('1s', 'shortest wait before reconnecting (exponential backoff with jitter)'),
        reconnectMax: Duration('60s', 'longest wait before reconnecting'),
        maxPublishRate: Type.Integer({
          minimum: 0,
          default: 0,
          description: 'messages per second at most (token bucket) while draining a backlog; 0 = as fast as the window allows',
        }),
      },
      { ...strict, default: {}, description: 'where the collector is and how to reach it' },
    ),
    stateDir: Type.String({
      minLength: 1,
      default: './data/agent',
      description: 'where the outbox (`outbox.db`) and the record of commands (`commands.db`) live (systemd: `/var/lib/medtel`); relative to the config file',
    }),
    outbox: Type.Object(
      {
        maxBytes: Type.String({
          pattern: SIZE_PATTERN,
          default: '256MiB',
          expected: 'a size such as 64MiB or 2GiB',
          description: 'past this the oldest unsent telemetry is evicted and reported as a gap (docs/store-and-forward.md)',
        }),
        maxAge: Duration('7d', 'messages older than this are evicted and reported as a gap'),
        commitInterval: Duration('20ms', 'longest a reading waits in memory for its group commit (alarms are committed at once)'),
      },
      { ...strict, default: {}, description: 'the store-and-forward outbox' },
    ),
    profilesDir: Type.Optional(Type.String({ minLength: 1, description: 'extra directory searched for profiles before the built-in ones' })),
    http: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'serve `/healthz`, `/readyz` and `/metrics`' }),
        host: Type.String({ default: '127.0.0.1', description: 'address to listen on' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9464, description: 'port to listen on' }),
      },
      { ...strict, default: {}, description: 'health, readiness and Prometheus metrics (docs/metrics.md)' },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          LOG_LEVELS.map((l) => Type.Literal(l)),
          { default: 'info', description: 'least severe level logged (JSON lines on stdout)' },
        ),
      },
      { ...strict, default: {}, description: 'logging' },
    ),
    phi: Type.Optional(
      Type.Object(
        {
          keyring: Type.String({
            minLength: 1,
            description: "keyring file (JSON, mode 0600, owned by the agent's service user); relative to this config file",
          }),
        },
        { ...strict, description: 'patient data (docs/phi.md): the keyring that seals fields profiles mark `phi:`; without it they are dropped' },
      ),
    ),
    discovery: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'off: no port is watched or probed; only configured devices are read' }),
        serial: Type.Object(
          {
            watchDir: Type.String({
              minLength: 1,
              default: '/dev/serial/by-id',
              description: 'directory of stable serial port links; new links are probed, vanished ones mark their device unreachable',
            }),
            rescanInterval: Duration('5s', 'full rescan of watchDir this often, in case a change notification was missed'),
            settle: Duration('500ms', 'wait this long after a link appears before probing (the adapter settles)'),
            tcp: Type.Array(Type.String({ pattern: '^tcp://.+:\\d{1,5}$', expected: 'tcp://host:port' }), {
              default: [],
              description: 'terminal-server ports to identify, tcp://host:port (never scanned: listed only)',
            }),
            ignore: Type.Array(Type.String({ minLength: 1 }), {
              default: [],
              description: 'link names or paths never probed (globs with * and ?), reported as ignored',
            }),
          },
          { ...strict, default: {}, description: 'serial ports: the watched directory of links and listed terminal-server ports' },
        ),
        pollInterval: Duration('1s', 'poll interval of the devices plug-and-play starts'),
        timeout: Duration('1s', 'reply timeout of the devices plug-and-play starts'),
        profiles: Type.Optional(
          Type.Array(Type.String({ minLength: 1 }), { description: 'profiles tried, by name; default: every profile with an identify section' }),
        ),
        opcua: Type.Object(
          {
            discoveryUrls: Type.Array(OpcUrl, {
              default: [],
              description: "discovery endpoints (an LDS, or a server's own endpoint): asked FindServers, then GetEndpoints",
            }),
            endpoints: Type.Array(OpcUrl, { default: [], description: 'OPC UA server endpoints to identify, used as they are' }),
            security: CloneType(OpcuaConnectionSchema.properties.security, {
              description: 'security mode and policy, as for a configured OPC UA device (docs/opcua.md)',
            }),
            identity: CloneType(OpcuaConnectionSchema.properties.identity, { description: 'user identity, as for a configured OPC UA device (docs/opcua.md)' }),
            trustedServerCertificates: CloneType(OpcuaConnectionSchema.properties.trustedServerCertificates, {
              description: 'server certificates trusted beyond the PKI directory; an untrusted server is never identified',
            }),
            timeout: Duration('5s', "connect and read allowed for one server's identification"),
          },
          {
            ...strict,
            default: {},
            description: 'OPC UA servers, never scanned: listed endpoints or configured discovery endpoints; trust as for configured devices',
          },
        ),
        modbusTcp: Type.Array(
          Type.Object(
            {
              host: Type.String({ pattern: '^tcp://[^:/\\s]+:\\d{1,5}$', expected: 'tcp://host:port', description: 'the Modbus TCP host or gateway' }),
              unitIds: Type.String({
                pattern: '^\\d{1,3}(-\\d{1,3})?(,\\d{1,3}(-\\d{1,3})?)*$',
                default: '1',
                expected: 'unit ids such as 1-4 or 1,2,10-12',
                description: 'unit ids probed behind it, each like a Modbus RTU unit',
              }),
            },
            { ...strict, description: 'one listed Modbus TCP host' },
          ),
          { default: [], description: 'Modbus TCP hosts (or gateways) to identify: listed only, never scanned' },
        ),
        reprobeInterval: Duration('10m', 'ports and endpoints left unidentified are probed again this often (a device switched on later is found)'),
      },
      {
        ...strict,
        default: {},
        description: 'plug and play (docs/plug-and-play.md): devices plugged in without a config entry are identified and read',
      },
    ),
    devices: Type.Array(DeviceConfigSchema, { default: [], description: 'the devices this gateway reads' }),
  },
  { ...strict, description: 'agent.yaml' },
);

export type AgentConfig = Static<typeof AgentConfigSchema>;
export type DeviceConfig = Static<typeof DeviceConfigSchema>;

export function loadAgentConfig(file: string): AgentConfig {
  return loadConfigFile(file, AgentConfigSchema);
}
