import type { FastifyInstance } from 'fastify';
import { ConfigError, Keyring, createLogger, parseDuration, parseSize, type Logger } from '@medtel/shared';
import { Alerting } from './alerts/alerting.js';
import type { AlertService } from './alerts/alert-service.js';
import { CalibrationOverdueAlerts } from './alerts/calibration-overdue.js';
import { buildApi } from './api/app.js';
import { TokenVerifier, loadOrCreateSigningKey } from './auth/index.js';
import { startBroker, type BrokerHandle } from './broker/broker.js';
import { brokerLimits, httpLimits, siteCalendar, type CollectorConfig } from './config.js';
import { DiagnosticsService } from './diagnostics/service.js';
import type { RedisGatewayPresence } from './cluster/gateway-presence.js';
import { redisSettings } from './cluster/redis-config.js';
import { Replica } from './cluster/replica.js';
import { Ingestor } from './ingest/ingestor.js';
import { PhiOpener } from './phi/opener.js';
import { createCollectorMetrics, type CollectorMetrics } from './metrics.js';
import { describeStore, openStore, startRetention } from './store/open-store.js';
import { PgStore } from './store/postgres/pg-store.js';
import type { Store } from './store/store.js';

export interface RunningCollector {
  store: Store;
  broker: BrokerHandle;
  /** Listen here (onStored) for data once it is durable. */
  ingestor: Ingestor;
  diagnostics: DiagnosticsService;
  /** The alert lifecycle; the lead wires external sources with `alerts.syncExternal(source, active)`. */
  alerts: AlertService;
  api: FastifyInstance;
  metrics: CollectorMetrics;
  logger: Logger;
  /** Plain MQTT port (0 when plain MQTT is off). */
  mqttPort: number;
  /** MQTT over TLS port (0 when TLS is off). */
  mqttsPort: number;
  httpUrl: string;
  /** Set when the config has `redis:` (docs/replicas.md). */
  replica: Replica | undefined;
  stop(): Promise<void>;
}

/**
 * Starts store, broker and API. Order matters: the store opens (and migrates)
 * before the broker accepts a gateway, and on stop the broker closes first so
 * no PUBLISH arrives while the last batch commits.
 */
export async function startCollector(config: CollectorConfig, options: { logger?: Logger } = {}): Promise<RunningCollector> {
  const logger = options.logger ?? createLogger({ name: 'medtel-collector', level: config.log.level });
  const metrics = createCollectorMetrics();
  const store = await openStore(config, { calendar: siteCalendar(config) });
  if (store instanceof PgStore) metrics.readPoolWith(() => store.poolStats());
  const stopRetention = startRetention(store, config, logger);
  const ingestor = new Ingestor(store, metrics, logger);
  // With `redis:` this collector is one of several replicas; without, nothing below changes.
  const replica = config.redis ? new Replica(redisSettings(config.redis, '.'), metrics, logger) : undefined;
  let presence: RedisGatewayPresence | undefined;
  metrics.countAwaitingApprovalWith(() => store.discovery.pendingCount());
  const alerting = new Alerting(store, metrics, logger, {
    holdOffMs: parseDuration(config.alerts.holdOff),
    connectivityGraceMs: parseDuration(config.alerts.connectivityGrace),
    tickMs: parseDuration(config.alerts.evaluateEvery),
    shared: replica !== undefined,
    ...(replica ? { gatewayConnectedSomewhere: (gateway: string) => presence?.isConnected(gateway) ?? Promise.resolve(false) } : {}),
  });
  let broker: BrokerHandle | undefined;
  let api: FastifyInstance | undefined;
  let diagnostics: DiagnosticsService | undefined;
  let calibrationAlerts: CalibrationOverdueAlerts | undefined;
  try {
    const defaultTimeoutMs = parseDuration(config.diagnostics.timeout);
    const maxTimeoutMs = parseDuration(config.diagnostics.maxTimeout);
    if (defaultTimeoutMs < 1000 || defaultTimeoutMs > maxTimeoutMs) {
      throw new ConfigError(
        `diagnostics.timeout: must be between 1s and diagnostics.maxTimeout (${config.diagnostics.maxTimeout})`,
        '(config)',
        'diagnostics.timeout',
      );
    }
    // Open alerts, rules and the registry are loaded before any gateway can publish.
    await alerting.start();
    ingestor.onStored(alerting.onStored);
    if (replica) {
      replica.redis.startHealth();
      await replica.feed.start({ onAlertChange: (l) => alerting.service.onChange(l), onStored: (l) => ingestor.onStored(l) });
      // Rule changes made through any replica's API reach every replica's rule engine without a restart.
      alerting.onRulesChanged(() => replica.feed.announce('rules-changed'));
      replica.feed.onControl((notice) => {
        if (notice.type !== 'rules-changed') return;
        alerting.rulesChangedElsewhere().catch((err: Error) => logger.error({ err: err.message }, 'alert rules from another replica not loaded'));
      });
      presence = await replica.startPresence((gateway) => broker?.isGatewayConnected(gateway) ?? false);
    }
    const calibrationLease = replica ? await replica.lease('calibration-overdue') : undefined;
    calibrationAlerts = new CalibrationOverdueAlerts(
      store,
      alerting.service,
      logger,
      parseDuration(config.alerts.calibrationCheckEvery),
      Date.now,
      calibrationLease,
    );
    await calibrationAlerts.start();
    // The config's gateways list seeds the store; from then on the store (CLI, API) is authoritative.
    const seeded = await store.gatewayCredentials.seed(config.gateways);
    if (seeded.added.length) logger.info({ gateways: seeded.added }, 'gateways from the config added to the store');
    if (seeded.differing.length)
      logger.warn(
        { gateways: seeded.differing },
        'config gateways entries differ from the store, which wins: manage these with `medtel-collector gateway` or the API',
      );
    broker = await startBroker({
      plain: config.mqtt.plain.enabled ? { host: config.mqtt.host, port: config.mqtt.port } : undefined,
      tls: config.mqtt.tls,
      lookupGateway: async (id) => {
        const c = await store.gatewayCredentials.get(id);
        return c && !c.revokedAt ? c : undefined;
      },
      knownDevices: async (
        gateway, // All of them, even if the limit was lowered since: known devices keep working.
      ) => (await store.listDevices({ gateway, limit: 100_000, offset: 0 })).items.map((d) => d.device),
      credentialCheckMs: parseDuration(config.mqtt.credentialCheckEvery),
      limits: brokerLimits(config),
      ingestor,
      metrics,
      logger,
      ...(replica
        ? {
            shared: replica.brokerShared(),
            onPresence: (gateway: string, up: boolean) => {
              if (!up) return presence?.disconnected(gateway);
              presence?.connected(gateway);
              // Its alerts may have been raised on the replica that held it before; it is online.
              void alerting.gatewayArrived(gateway);
            },
          }
        : {}),
    });
    const listeners = broker.servers;
    const brokerHandle = broker;
    // Before the API serves: overdue requests from before a restart are timed out first.
    const commandRoute = {
      aedes: broker.aedes,
      // A gateway on another replica counts: the command reaches it through the shared emitter.
      isGatewayConnected: (gateway: string) => (presence ? presence.isConnected(gateway) : brokerHandle.isGatewayConnected(gateway)),
    };
    diagnostics = new DiagnosticsService({ store, broker: commandRoute, ingestor, logger, defaultTimeoutMs, maxTimeoutMs });
    await diagnostics.start();
    // Refused at start (mode, format) rather than at the first open. Open-only: nothing is sealed here.
    const keyring = config.phi.keyring ? Keyring.load(config.phi.keyring, { countUsage: false }) : undefined;
    if (keyring) logger.warn({ keyring: config.phi.keyring }, 'PHI keyring loaded: clinicians may open sealed patient records through the API (audited)');
    const verifier = new TokenVerifier({ localKey: await loadOrCreateSigningKey(config.auth.keyFile), oidc: config.auth.oidc ?? null });
    api = await buildApi({
      verifier,
      calendar: siteCalendar(config),
      store,
      metrics,
      logger,
      diagnostics,
      phiOpener: new PhiOpener(store.phi, keyring, metrics),
      httpLimits: httpLimits(config),
      gatewaySessions: { recheck: () => (broker as BrokerHandle).recheckSessions() },
      alerting: {
        alerting,
        onStored: (listener) => ingestor.onStored(listener),
        ...(replica ? { feed: replica.feed } : {}),
        stream: { heartbeatMs: parseDuration(config.stream.heartbeat), maxBufferedBytes: parseSize(config.stream.maxBuffered) },
      },
      readiness: {
        checks: {
          broker: async () => {
            if (!listeners.every((l) => l.listening)) throw new Error('MQTT listener is not listening');
          },
          // Gateways' data is not acknowledged while commits fail; they keep it and re-send.
          ingest: async () => {
            if (ingestor.commitError) throw new Error(`store commits failing: ${ingestor.commitError}`);
          },
          ...(replica ? { redis: () => replica.redis.ping() } : {}),
        },
      },
    });
    const httpUrl = await api.listen({ host: config.http.host, port: config.http.port });
    logger.info(
      {
        mqtt: config.mqtt.plain.enabled ? `mqtt://${config.mqtt.host}:${broker.port}` : undefined,
        mqtts: config.mqtt.tls ? `mqtts://${config.mqtt.tls.host}:${broker.tlsPort}` : undefined,
        http: httpUrl,
        store: describeStore(config),
        gateways: config.gateways.length,
        replica: replica?.id,
      },
      'collector started',
    );
    const b = broker;
    const a = api;
    const d = diagnostics;
    const c = calibrationAlerts;
    return {
      store,
      broker: b,
      ingestor,
      diagnostics: d,
      alerts: alerting.service,
      api: a,
      metrics,
      logger,
      mqttPort: b.port,
      mqttsPort: b.tlsPort,
      httpUrl,
      replica,
      stop: async () => {
        d.stop();
        await b.close();
        await ingestor.flushed();
        await replica?.close();
        await a.close();
        await c.stop();
        await alerting.stop();
        stopRetention();
        await store.close();
        logger.info('collector stopped');
      },
    };
  } catch (err) {
    diagnostics?.stop();
    await broker?.close().catch(() => undefined);
    await api?.close().catch(() => undefined);
    await calibrationAlerts?.stop();
    await alerting.stop();
    await replica?.close().catch(() => undefined);
    stopRetention();
    await store.close();
    throw err;
  }
}
