import { dirname, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, DURATION_PATTERN, ID_PATTERN, LOG_LEVELS, SIZE_PATTERN, loadConfigFile, parseDuration, parseSize, validateConfig } from '@medtel/shared';
import type { HttpLimits } from './api/http-hardening.js';
import type { BrokerLimits } from './broker/broker.js';
import { isTimeZone } from './htm/calendar.js';
import { DEFAULT_TOLERANCES, type SiteCalendar } from './htm/pm-schedule.js';
import { MqttLimitsSchema } from './broker/limits-config.js';
import { SECRET_HASH_PATTERN } from './secrets.js';

/**
 * collector.yaml. Every setting has a default except the MQTT listener: plain
 * MQTT is off unless `mqtt.plain.enabled`, so a production config must give
 * `mqtt.tls` (certificate and key) before the collector starts.
 */
const strict = { additionalProperties: false } as const;
const Days = (fallback: number) => Type.Integer({ minimum: 0, maximum: 90, default: fallback, expected: 'a whole number of days, 0-90' });
const Port = (fallback: number) => Type.Integer({ minimum: 0, maximum: 65535, default: fallback });
const Duration = (fallback: string) => Type.String({ pattern: DURATION_PATTERN, default: fallback, expected: 'a duration such as 500ms, 30s or 2m' });

export const GatewayEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: ID_PATTERN, expected: 'an id of 1-64 letters, digits, _ or -' }),
    /** If set, the gateway may only publish under this site. */
    site: Type.Optional(Type.String({ pattern: ID_PATTERN })),
    /** Output of `medtel-collector hash-secret`; the secret itself is never stored. Required unless auth is certificate. */
    secretHash: Type.Optional(Type.String({ pattern: SECRET_HASH_PATTERN, expected: 'a hash printed by `medtel-collector hash-secret`' })),
    /**
     * How the gateway proves who it is: `secret` (user name + secret), `certificate`
     * (TLS client certificate naming the gateway id), or `both`.
     */
    auth: Type.Optional(Type.Union([Type.Literal('secret'), Type.Literal('certificate'), Type.Literal('both')])),
  },
  strict,
);

/** The MQTT-over-TLS listener. Paths are relative to the config file. */
export const MqttTlsSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: Port(8883),
    /** Server certificate chain (PEM) and its private key. */
    certFile: Type.String({ minLength: 1 }),
    keyFile: Type.String({ minLength: 1 }),
    /** CA (PEM) that signs gateway client certificates; without it no client certificate is asked for. */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Refuse the TLS handshake of a client without a valid certificate (no secret-only gateways on this listener). */
    requireClientCertificate: Type.Boolean({ default: false }),
  },
  strict,
);

export const CollectorConfigSchema = Type.Object(
  {
    mqtt: Type.Object(
      {
        /** The plain-TCP listener's address; used only when plain.enabled. */
        host: Type.String({ default: '127.0.0.1' }),
        port: Port(1883),
        /** Unencrypted MQTT: off unless asked for (demo, tests, loopback behind a TLS proxy). */
        plain: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
        tls: Type.Optional(MqttTlsSchema),
        limits: MqttLimitsSchema,
        /** How often connected gateways are checked against the store, so a revocation made with the CLI ends their sessions. */
        credentialCheckEvery: Duration('2s'),
      },
      { ...strict, default: {} },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Port(8080),
        limits: Type.Object(
          {
            bodyLimit: Type.String({ pattern: SIZE_PATTERN, default: '1MiB', expected: 'a size such as 1MiB' }),
            maxHeaderSize: Type.String({ pattern: SIZE_PATTERN, default: '16KiB', expected: 'a size such as 16KiB' }),
            /** The whole request must have arrived within this (slow clients). */
            requestTimeout: Duration('30s'),
            headersTimeout: Duration('10s'),
            keepAliveTimeout: Duration('5s'),
          },
          { ...strict, default: {} },
        ),
      },
      { ...strict, default: {} },
    ),
    store: Type.Object({ path: Type.String({ minLength: 1, default: './data/collector.db' }) }, { ...strict, default: {} }),
    gateways: Type.Array(GatewayEntrySchema, { default: [] }),
    auth: Type.Object(
      {
        /** HS256 key for tokens issued by `medtel-collector token issue`; created (0600) if missing. */
        keyFile: Type.String({ minLength: 1, default: './data/token-signing.key' }),
        /** A hospital's single sign-on, if tokens should also come from it. */
        oidc: Type.Optional(
          Type.Object(
            {
              issuer: Type.String({ minLength: 1 }),
              jwksUrl: Type.String({ pattern: '^https?://', expected: "the https:// URL of the issuer's JWKS" }),
              audience: Type.String({ minLength: 1 }),
              /** Claim holding the medtel role (dotted path, e.g. realm_access.roles). */
              roleClaim: Type.String({ default: 'role' }),
            },
            strict,
          ),
        ),
      },
      { ...strict, default: {} },
    ),
    /** Healthcare technology management: the site calendar that due dates and on-time windows use. */
    htm: Type.Object(
      {
        /** IANA name; what "calendar week/month" and a due *date* mean. */
        timeZone: Type.String({ minLength: 1, default: 'UTC', expected: 'an IANA time zone name such as Europe/Berlin' }),
        /** ± days around the due date that still count as on time (TJC defaults). */
        onTimeToleranceDays: Type.Object(
          {
            quarterly: Days(DEFAULT_TOLERANCES.quarterly),
            semiannual: Days(DEFAULT_TOLERANCES.semiannual),
            annual: Days(DEFAULT_TOLERANCES.annual),
            multiYear: Days(DEFAULT_TOLERANCES.multiYear),
          },
          { ...strict, default: {} },
        ),
      },
      { ...strict, default: {} },
    ),
    diagnostics: Type.Object(
      {
        /** How long a diagnostic request waits for its result unless the request says otherwise. */
        timeout: Type.String({ pattern: DURATION_PATTERN, default: '30s', expected: 'a duration such as 30s or 2m' }),
        /** The longest timeout a request may ask for. */
        maxTimeout: Type.String({ pattern: DURATION_PATTERN, default: '10m', expected: 'a duration such as 10m' }),
      },
      { ...strict, default: {} },
    ),
    alerts: Type.Object(
      {
        /** Flap hold-off: a cleared condition resolves its alert only after staying clear this long (docs/alerts.md). */
        holdOff: Duration('30s'),
        /** A device unreachable/in error, or a gateway offline, raises an alert after this long. */
        connectivityGrace: Duration('60s'),
        /** How often time-based conditions (sustained, no data, grace, hold-off) are checked. */
        evaluateEvery: Duration('1s'),
        /** How often devices with an overdue calibration are looked for (each raises an alert until calibrated). */
        calibrationCheckEvery: Duration('1m'),
      },
      { ...strict, default: {} },
    ),
    stream: Type.Object(
      {
        /** A comment line this often keeps proxies from closing an idle stream. */
        heartbeat: Duration('15s'),
        /** Unread bytes per client before events are dropped (and counted). */
        maxBuffered: Type.String({ pattern: SIZE_PATTERN, default: '1MiB', expected: 'a size such as 512KiB or 4MiB' }),
      },
      { ...strict, default: {} },
    ),
    /** Opening sealed patient data through the API (docs/phi.md). Without a keyring the collector cannot open any. */
    phi: Type.Object(
      {
        /** Keyring file (mode 0600); relative to this config file. Only on a collector the hospital runs and trusts with keys. */
        keyring: Type.Optional(Type.String({ minLength: 1 })),
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
  },
  strict,
);

export type CollectorConfig = Static<typeof CollectorConfigSchema>;
export type GatewayEntry = Static<typeof GatewayEntrySchema>;

/** Relative paths in a config file are relative to that file (as for the agent), else to the working directory. */
export function loadCollectorConfig(file?: string): CollectorConfig {
  if (!file) return checkTimeZone(validateConfig({}, '(defaults)', CollectorConfigSchema), '(defaults)');
  const config = checkTimeZone(loadConfigFile(file, CollectorConfigSchema), file);
  const base = dirname(resolve(file));
  config.store.path = config.store.path === ':memory:' ? config.store.path : resolve(base, config.store.path);
  if (config.phi.keyring) config.phi.keyring = resolve(base, config.phi.keyring);
  config.auth.keyFile = resolve(base, config.auth.keyFile);
  const tls = config.mqtt.tls;
  if (tls) {
    tls.certFile = resolve(base, tls.certFile);
    tls.keyFile = resolve(base, tls.keyFile);
    if (tls.caFile) tls.caFile = resolve(base, tls.caFile);
  }
  checkGateways(config.gateways, file);
  return config;
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
