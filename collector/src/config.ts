import { dirname, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, DURATION_PATTERN, ID_PATTERN, LOG_LEVELS, SIZE_PATTERN, loadConfigFile, parseDuration, parseSize, validateConfig } from '@medtel/shared';
import type { HttpLimits } from './api/http-hardening.js';
import type { BrokerLimits } from './broker/broker.js';
import { isTimeZone } from './htm/calendar.js';
import { DEFAULT_TOLERANCES, type SiteCalendar } from './htm/pm-schedule.js';
import { MqttLimitsSchema } from './broker/limits-config.js';
import { RedisConfigSchema } from './cluster/redis-config.js';
import { SECRET_HASH_PATTERN } from './secrets.js';

/**
 * collector.yaml. Every setting has a default except the MQTT listener: plain
 * MQTT is off unless `mqtt.plain.enabled`, so a production config must give
 * `mqtt.tls` (certificate and key) before the collector starts.
 */
const strict = { additionalProperties: false } as const;
const Days = (fallback: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 90, default: fallback, expected: 'a whole number of days, 0-90', description });
const Port = (fallback: number, description: string) => Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description });
const Duration = (fallback: string, description: string) =>
  Type.String({ pattern: DURATION_PATTERN, default: fallback, expected: 'a duration such as 500ms, 30s or 2m', description });
const Size = (fallback: string, expected: string, description: string) => Type.String({ pattern: SIZE_PATTERN, default: fallback, expected, description });
const LogLevel = Type.Union(
  LOG_LEVELS.map((l) => Type.Literal(l)),
  { default: 'info', description: 'least severe level logged (JSON lines on stdout)' },
);

// Every field carries a `description`: docs/config-reference.md is generated from them
// (node scripts/gen-config-doc.mjs), so the reference is what this schema accepts.
export const GatewayEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: ID_PATTERN, expected: 'an id of 1-64 letters, digits, _ or -', description: 'gateway id (its MQTT user name)' }),
    site: Type.Optional(Type.String({ pattern: ID_PATTERN, description: 'if set, the gateway may only publish under this site' })),
    secretHash: Type.Optional(
      Type.String({
        pattern: SECRET_HASH_PATTERN,
        expected: 'a hash printed by `medtel-collector hash-secret`',
        description: 'output of `medtel-collector hash-secret`; the secret itself is never stored. Required unless `auth` is `certificate`',
      }),
    ),
    auth: Type.Optional(
      Type.Union([Type.Literal('secret'), Type.Literal('certificate'), Type.Literal('both')], {
        description:
          'how the gateway proves who it is: `secret` (user name + secret, the default), `certificate` (TLS client certificate naming the gateway id), or `both`',
      }),
    ),
  },
  { ...strict, description: 'one gateway allowed to connect' },
);

/** The MQTT-over-TLS listener. Paths are relative to the config file. */
export const MqttTlsSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0', description: 'address of the MQTT-over-TLS listener (TLS 1.2 or newer only)' }),
    port: Port(8883, 'port of the MQTT-over-TLS listener'),
    certFile: Type.String({ minLength: 1, description: "the collector's certificate chain (PEM); relative to the config file" }),
    keyFile: Type.String({ minLength: 1, description: "the collector's private key (PEM)" }),
    caFile: Type.Optional(
      Type.String({ minLength: 1, description: 'CA (PEM) that signs gateway client certificates; with it the listener asks for a client certificate' }),
    ),
    requireClientCertificate: Type.Boolean({
      default: false,
      description: 'refuse the TLS handshake of a client without a valid certificate (no secret-only gateways on this listener)',
    }),
  },
  { ...strict, description: 'MQTT over TLS: what production gateways connect to (docs/transport-security.md)' },
);

export const CollectorConfigSchema = Type.Object(
  {
    mqtt: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: "the plain-TCP listener's address; used only when `plain.enabled`" }),
        port: Port(1883, "the plain-TCP listener's port"),
        plain: Type.Object(
          {
            enabled: Type.Boolean({
              default: false,
              description: 'serve unencrypted MQTT on `mqtt.host`/`mqtt.port` (demo, tests, loopback behind a TLS proxy)',
            }),
          },
          { ...strict, default: {}, description: 'unencrypted MQTT: off unless asked for' },
        ),
        tls: Type.Optional(MqttTlsSchema),
        limits: MqttLimitsSchema,
        credentialCheckEvery: Duration(
          '2s',
          'how often connected gateways are checked against the store, so a revocation or rotation made with the CLI ends their sessions (API changes act at once)',
        ),
      },
      { ...strict, default: {}, description: 'the MQTT broker gateways publish to' },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'address of the API, health and metrics listener' }),
        port: Port(8080, 'port of the API, health and metrics listener'),
        limits: Type.Object(
          {
            bodyLimit: Size('1MiB', 'a size such as 1MiB', 'larger request bodies get 413'),
            maxHeaderSize: Size('16KiB', 'a size such as 16KiB', 'larger request headers get 431'),
            requestTimeout: Duration('30s', 'the whole request must have arrived within this (slow clients)'),
            headersTimeout: Duration('10s', 'the request headers must have arrived within this; keep it <= `requestTimeout`'),
            keepAliveTimeout: Duration('5s', 'an idle keep-alive connection is closed after this'),
          },
          { ...strict, default: {}, description: 'slow-client and size limits' },
        ),
      },
      { ...strict, default: {}, description: 'the HTTP API (`/api/v1`), `/healthz`, `/readyz` and `/metrics`' },
    ),
    store: Type.Object(
      {
        path: Type.String({
          minLength: 1,
          default: './data/collector.db',
          description:
            'SQLite file (WAL files beside it); relative to the config file. Back it up with `sqlite3 FILE ".backup COPY"` (docs/runbook.md). Not used when `url` is set',
        }),
        url: Type.Optional(
          Type.String({
            pattern: '^postgres(ql)?://',
            expected: 'a URL such as postgres://medtel@db.example:5432/medtel',
            description:
              'PostgreSQL instead of SQLite (docs/postgresql.md), for several collector replicas sharing one database. `store: postgres://…` is the short form. Keep the password out of it: `PGPASSWORD` or `passwordFile`',
          }),
        ),
        passwordFile: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'file holding the PostgreSQL password (one line, e.g. a mounted secret); relative to the config file. Else `PGPASSWORD`',
          }),
        ),
        poolSize: Type.Integer({ minimum: 1, maximum: 500, default: 10, description: 'PostgreSQL connections per collector replica' }),
        retention: Type.String({
          pattern: '^[1-9]\\d*d$',
          default: '365d',
          expected: 'a number of days such as 365d',
          description: 'PostgreSQL: readings older than this are dropped, a whole day partition at a time',
        }),
        rollupRetention: Type.String({
          pattern: '^[1-9]\\d*d$',
          default: '1825d',
          expected: 'a number of days such as 1825d',
          description: 'PostgreSQL: per-minute rollups (min, max, average, count) used for trends are kept this long',
        }),
        retentionCheckEvery: Duration('1h', "PostgreSQL: how often one replica drops expired partitions and creates the next days' ones"),
      },
      { ...strict, default: {}, description: 'where readings, devices, alerts and the audit trail are kept: a SQLite file (default) or PostgreSQL (`url`)' },
    ),
    gateways: Type.Array(GatewayEntrySchema, {
      default: [],
      description:
        '**seed only**: entries not yet in the store are added at start; after that the store (`medtel-collector gateway ...`, the API) is authoritative and a differing entry here is logged and ignored',
    }),
    auth: Type.Object(
      {
        keyFile: Type.String({
          minLength: 1,
          default: './data/token-signing.key',
          description: 'HS256 key that signs `medtel-collector token issue` tokens; created (0600) if missing, refused if others can read it',
        }),
        oidc: Type.Optional(
          Type.Object(
            {
              issuer: Type.String({ minLength: 1, description: "the identity provider's issuer (`iss` claim)" }),
              jwksUrl: Type.String({
                pattern: '^https?://',
                expected: "the https:// URL of the issuer's JWKS",
                description: "URL of the issuer's published keys (JWKS)",
              }),
              audience: Type.String({ minLength: 1, description: 'the `aud` claim tokens must carry' }),
              roleClaim: Type.String({ default: 'role', description: 'claim holding the medtel role (dotted path, e.g. `realm_access.roles`)' }),
            },
            { ...strict, description: "accept tokens from the hospital's single sign-on too (docs/permissions.md)" },
          ),
        ),
      },
      { ...strict, default: {}, description: 'API tokens' },
    ),
    htm: Type.Object(
      {
        timeZone: Type.String({
          minLength: 1,
          default: 'UTC',
          expected: 'an IANA time zone name such as Europe/Berlin',
          description: 'IANA time zone of the site: what "calendar week/month" and a due *date* mean for calibrations and PM',
        }),
        onTimeToleranceDays: Type.Object(
          {
            quarterly: Days(DEFAULT_TOLERANCES.quarterly, 'for quarterly schedules'),
            semiannual: Days(DEFAULT_TOLERANCES.semiannual, 'for semiannual schedules'),
            annual: Days(DEFAULT_TOLERANCES.annual, 'for annual schedules'),
            multiYear: Days(DEFAULT_TOLERANCES.multiYear, 'for schedules of more than a year'),
          },
          { ...strict, default: {}, description: '± days around a PM due date that still count as on time (TJC defaults)' },
        ),
      },
      { ...strict, default: {}, description: 'healthcare technology management: the site calendar due dates and on-time windows use (docs/htm.md)' },
    ),
    diagnostics: Type.Object(
      {
        timeout: Type.String({
          pattern: DURATION_PATTERN,
          default: '30s',
          expected: 'a duration such as 30s or 2m',
          description: 'how long a diagnostic request waits for its result unless the request says otherwise',
        }),
        maxTimeout: Type.String({
          pattern: DURATION_PATTERN,
          default: '10m',
          expected: 'a duration such as 10m',
          description: 'the longest `timeoutSeconds` a request may ask for',
        }),
      },
      { ...strict, default: {}, description: 'remote diagnostics (docs/diagnostics.md)' },
    ),
    alerts: Type.Object(
      {
        holdOff: Duration(
          '30s',
          'flap hold-off: a cleared condition resolves its alert only after staying clear this long; a rule may set its own `holdOffSeconds`',
        ),
        connectivityGrace: Duration('60s', 'a device unreachable or in error, or a gateway offline, raises an alert after this long'),
        evaluateEvery: Duration('1s', 'how often time-based conditions (sustained, no data, grace, hold-off) are checked'),
        calibrationCheckEvery: Duration('1m', 'how often devices with an overdue calibration are looked for (each raises an alert until calibrated)'),
      },
      { ...strict, default: {}, description: 'alerting (docs/alerts.md)' },
    ),
    stream: Type.Object(
      {
        heartbeat: Duration('15s', 'a comment line this often keeps proxies from closing an idle stream (`GET /api/v1/stream`)'),
        maxBuffered: Size('1MiB', 'a size such as 512KiB or 4MiB', 'unread bytes per client before events are dropped (and counted)'),
      },
      { ...strict, default: {}, description: 'the live event stream (Server-Sent Events)' },
    ),
    phi: Type.Object(
      {
        keyring: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'keyring file (mode 0600), relative to this config file; only on a collector the hospital runs and trusts with keys',
          }),
        ),
      },
      { ...strict, default: {}, description: 'opening sealed patient data through the API (docs/phi.md); without a keyring the collector cannot open any' },
    ),
    log: Type.Object({ level: LogLevel }, { ...strict, default: {}, description: 'logging' }),
    redis: Type.Optional(RedisConfigSchema),
  },
  { ...strict, description: 'collector.yaml' },
);

export type CollectorConfig = Static<typeof CollectorConfigSchema>;
export type GatewayEntry = Static<typeof GatewayEntrySchema>;

/** Relative paths in a config file are relative to that file (as for the agent), else to the working directory. */
export function loadCollectorConfig(file?: string): CollectorConfig {
  if (!file) return checkTimeZone(validateConfig({}, '(defaults)', CollectorConfigSchema), '(defaults)');
  const config = checkTimeZone(loadConfigFile(file, CollectorConfigSchema, storeShortForm), file);
  const base = dirname(resolve(file));
  config.store.path = config.store.path === ':memory:' ? config.store.path : resolve(base, config.store.path);
  if (config.store.passwordFile) config.store.passwordFile = resolve(base, config.store.passwordFile);
  if (config.phi.keyring) config.phi.keyring = resolve(base, config.phi.keyring);
  config.auth.keyFile = resolve(base, config.auth.keyFile);
  const tls = config.mqtt.tls;
  if (tls) {
    tls.certFile = resolve(base, tls.certFile);
    tls.keyFile = resolve(base, tls.keyFile);
    if (tls.caFile) tls.caFile = resolve(base, tls.caFile);
  }
  if (typeof config.redis === 'object' && config.redis.passwordFile) config.redis.passwordFile = resolve(base, config.redis.passwordFile);
  checkGateways(config.gateways, file);
  return config;
}

/** `store: postgres://…` (issue 13's form) is `store: { url: postgres://… }`. */
function storeShortForm(raw: unknown): unknown {
  if (raw && typeof raw === 'object' && typeof (raw as { store?: unknown }).store === 'string')
    return { ...raw, store: { url: (raw as { store: string }).store } };
  return raw;
}

/** A gateway that logs in with a secret needs its hash; the schema cannot say "required unless". */
export function checkGateways(gateways: GatewayEntry[], file: string): void {
  gateways.forEach((g, i) => {
    if (g.auth !== 'certificate' && !g.secretHash)
      throw new ConfigError(
        `${file}: gateways[${i}].secretHash: missing for gateway "${g.id}" (auth: ${g.auth ?? 'secret'}); give a hash from \`medtel-collector hash-secret\` or set auth: certificate`,
        file,
        `gateways[${i}].secretHash`,
      );
  });
}

/** A schema cannot list IANA zones; Intl knows them. */
function checkTimeZone(config: CollectorConfig, file: string): CollectorConfig {
  const zone = config.htm.timeZone;
  if (!isTimeZone(zone))
    throw new ConfigError(`${file}: htm.timeZone: found "${zone}", expected an IANA time zone name such as Europe/Berlin or UTC`, file, 'htm.timeZone');
  return config;
}

/** mqtt.limits in the units the broker works in. */
export function brokerLimits(config: CollectorConfig): BrokerLimits {
  const l = config.mqtt.limits;
  return {
    maxPacketSize: parseSize(l.maxPacketSize),
    publishRate: l.publishRate,
    publishBurst: l.publishBurst,
    maxThrottleDelayMs: parseDuration(l.maxThrottleDelay),
    maxConnectionsPerGateway: l.maxConnectionsPerGateway,
    devicesPerGateway: l.devicesPerGateway,
    connectTimeoutMs: parseDuration(l.connectTimeout),
  };
}

/** http.limits in the units the API works in. */
export function httpLimits(config: CollectorConfig): HttpLimits {
  const l = config.http.limits;
  return {
    bodyLimit: parseSize(l.bodyLimit),
    maxHeaderSize: parseSize(l.maxHeaderSize),
    requestTimeoutMs: parseDuration(l.requestTimeout),
    headersTimeoutMs: parseDuration(l.headersTimeout),
    keepAliveTimeoutMs: parseDuration(l.keepAliveTimeout),
  };
}

/** The site calendar HTM schedules are computed with. */
export function siteCalendar(config: CollectorConfig): SiteCalendar {
  return { timeZone: config.htm.timeZone, tolerances: { ...config.htm.onTimeToleranceDays } };
}
