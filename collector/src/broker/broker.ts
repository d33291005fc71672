import type { Server, Socket } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { ConfigError, type Logger } from '@medtel/shared';
import type { Ingestor } from '../ingest/ingestor.js';
import type { CollectorMetrics } from '../metrics.js';
import { createAuthorizePublish, createAuthorizeSubscribe } from './authorize.js';
import { DeviceCap } from './device-cap.js';
import { createAuthenticate, type GatewayIdentity, type Sessions } from './gateway-auth.js';
import { guardPacketSize, PublishRateLimiter } from './limits.js';
import { createPlainListener, createTlsListener, listen, type TlsListenerOptions } from './listeners.js';

/** Largest packet a connection may send before it has authenticated (its CONNECT: id, user name, secret, will). */
export const PRE_AUTH_MAX_PACKET = 64 * 1024;

export interface BrokerLimits {
  maxPacketSize: number;
  publishRate: number;
  publishBurst: number;
  maxThrottleDelayMs: number;
  maxConnectionsPerGateway: number;
  devicesPerGateway: number;
  connectTimeoutMs: number;
}

export interface BrokerHandle {
  aedes: Aedes;
  /** The first listener (TLS if configured, else plain). */
  server: Server;
  servers: Server[];
  /** Plain-TCP port, or 0 when plain MQTT is off. */
  port: number;
  /** TLS port, or 0 when TLS is off. */
  tlsPort: number;
  /** True while the gateway has a live MQTT connection (diagnostics refuse to queue commands for absent gateways). */
  isGatewayConnected(gateway: string): boolean;
  /** Closes every live connection of the gateway (revocation); returns how many. */
  disconnectGateway(gateway: string): number;
  /**
   * Looks up every connected gateway again and closes sessions whose gateway
   * was revoked or whose credential changed since they logged in (a rotated
   * secret). Runs after API changes and every credentialCheckMs (to catch
   * changes made with the CLI); returns the number of sessions closed.
   */
  recheckSessions(): Promise<number>;
  close(): Promise<void>;
}

/** The embedded MQTT broker (MQTT 3.1.1) on TLS and/or plain TCP. */
export async function startBroker(options: {
  plain?: { host: string; port: number };
  tls?: TlsListenerOptions;
  /** The gateway with this id if it may connect now (known, not revoked). */
  lookupGateway: (id: string) => Promise<GatewayIdentity | undefined>;
  /** Device ids (the gateway's own) already in the registry, for the devices-per-gateway limit. */
  knownDevices: (gateway: string) => Promise<string[]>;
  /** How often connected gateways are checked against the store (0: only when recheckSessions is called). */
  credentialCheckMs?: number;
  limits: BrokerLimits;
  ingestor: Ingestor;
  metrics: CollectorMetrics;
  logger: Logger;
  /**
   * Replicas only (docs/replicas.md): the shared emitter and session store
   * (mqemitter-redis, aedes-persistence-redis), this replica's broker id, and
   * how often it tells the others it is alive.
   */
  shared?: { id: string; mq: unknown; persistence: unknown; heartbeatIntervalMs: number };
  /** A gateway's first connection here opened (true) or its last one closed (false). */
  onPresence?: (gateway: string, connected: boolean) => void;
}): Promise<BrokerHandle> {
  const { metrics, logger, limits } = options;
  if (!options.plain && !options.tls)
    throw new ConfigError(
      'mqtt: no listener: configure mqtt.tls (certFile, keyFile) or, on a trusted network only, set mqtt.plain.enabled: true',
      '(config)',
      'mqtt.tls',
    );
  const sessions: Sessions = new WeakMap();
  // Live connections per gateway id: a takeover briefly gives two.
  const connected = new Map<string, Set<Client>>();
  const deviceCap = new DeviceCap(limits.devicesPerGateway, options.knownDevices);
  const authorizePublish = createAuthorizePublish(sessions, options.ingestor, metrics, logger, deviceCap);
  const limiters = new WeakMap<Client, PublishRateLimiter>();
  const shared = options.shared
    ? { id: options.shared.id, mq: options.shared.mq, persistence: options.shared.persistence, heartbeatInterval: options.shared.heartbeatIntervalMs }
    : {};
  // Wills replayed from the shared session store carry the id of the broker that took them.
  const isStaleWill = (packet: unknown) => {
    const from = (packet as { brokerId?: unknown }).brokerId;
    return options.shared !== undefined && typeof from === 'string' && from !== options.shared.id;
  };
  const aedes = await Aedes.createBroker({
    ...shared,
    connectTimeout: limits.connectTimeoutMs,
    authenticate: createAuthenticate(
      { lookup: options.lookupGateway, connections: (id) => connected.get(id)?.size ?? 0, maxConnectionsPerGateway: limits.maxConnectionsPerGateway },
      sessions,
      metrics,
      logger,
    ),
    authorizePublish: (client, packet, done) => {
      if (client && isStaleWill(packet)) {
        // A dead replica's will for a gateway that has meanwhile reconnected here (aedes hands us the
        // live client): not stored, not retained, so neither the registry nor subscribers see it offline.
        logger.info({ clientId: client.id, gateway: sessions.get(client)?.id }, 'will of a lost replica ignored: the gateway is connected here');
        packet.retain = false;
        return done(null);
      }
      const limiter = client && limits.publishRate > 0 ? limiters.get(client) : undefined;
      const waitMs = limiter ? limiter.take() : 0;
      if (waitMs < 0 && client) {
        metrics.limitRejections.inc({ limit: 'rate' });
        logger.warn({ clientId: client.id, gateway: sessions.get(client)?.id, rate: limits.publishRate }, 'publish flood: connection closed');
        done(new Error('publish rate exceeded'));
        return;
      }
      if (waitMs === 0) return authorizePublish(client, packet, done);
      metrics.throttled.inc();
      setTimeout(() => authorizePublish(client, packet, done), waitMs);
    },
    authorizeSubscribe: createAuthorizeSubscribe(sessions, metrics, logger),
  });
  aedes.on('client', (client) => {
    const id = sessions.get(client)?.id;
    if (id) {
      const set = connected.get(id) ?? new Set();
      set.add(client);
      connected.set(id, set);
      if (set.size === 1) options.onPresence?.(id, true);
    }
    metrics.clients.inc();
    logger.info({ clientId: client.id, gateway: id }, 'gateway connected');
  });
  aedes.on('clientDisconnect', (client) => {
    const id = sessions.get(client)?.id;
    const set = id ? connected.get(id) : undefined;
    if (id && set) {
      set.delete(client);
      if (set.size === 0) {
        connected.delete(id);
        options.onPresence?.(id, false);
      }
    }
    metrics.clients.dec();
    logger.info({ clientId: client.id, gateway: id }, 'gateway disconnected');
  });
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) => logger.debug({ clientId: client?.id, err: err.message }, 'connection error'));

  const onConnection = (socket: Socket) => {
    const client = aedes.handle(socket);
    if (limits.publishRate > 0) limiters.set(client, new PublishRateLimiter(limits.publishRate, limits.publishBurst, limits.maxThrottleDelayMs));
    // Before authentication only a CONNECT can come, and it needs a few KiB at most.
    const maxBytes = () => (sessions.has(client) ? limits.maxPacketSize : Math.min(PRE_AUTH_MAX_PACKET, limits.maxPacketSize));
    guardPacketSize(client, maxBytes, (length, max) => {
      metrics.limitRejections.inc({ limit: 'packet_size' });
      logger.warn({ remote: socket.remoteAddress, gateway: sessions.get(client)?.id, length, max }, 'MQTT packet over the size limit: connection closed');
    });
  };
  const servers: Server[] = [];
  let tlsPort = 0;
  let port = 0;
  try {
    if (options.tls) {
      const server = createTlsListener(options.tls, onConnection, logger);
      servers.push(server);
      tlsPort = await listen(server, options.tls.port, options.tls.host);
    }
    if (options.plain) {
      const server = createPlainListener(onConnection);
      servers.push(server);
      port = await listen(server, options.plain.port, options.plain.host);
    }
  } catch (err) {
    for (const s of servers) s.close();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const disconnectGateway = (gateway: string) => {
    const clients = [...(connected.get(gateway) ?? [])];
    for (const c of clients) c.close();
    return clients.length;
  };
  const recheckSessions = async () => {
    let closed = 0;
    for (const [id, clients] of [...connected]) {
      const now = await options.lookupGateway(id);
      for (const client of [...clients]) {
        const was = sessions.get(client);
        if (now && now.version === was?.version) continue;
        logger.warn(
          { gateway: id, clientId: client.id, reason: now ? 'credential changed' : 'revoked' },
          'closing gateway session: credential revoked or changed',
        );
        client.close();
        closed++;
      }
    }
    return closed;
  };
  let checking = false;
  const checkTimer =
    options.credentialCheckMs && options.credentialCheckMs > 0
      ? setInterval(() => {
          if (checking) return;
          checking = true;
          recheckSessions()
            .catch((err: Error) => logger.error({ err: err.message }, 'gateway credential check failed'))
            .finally(() => {
              checking = false;
            });
        }, options.credentialCheckMs)
      : undefined;
  checkTimer?.unref();
  return {
    aedes,
    server: servers[0] as Server,
    servers,
    port,
    tlsPort,
    isGatewayConnected: (gateway) => connected.has(gateway),
    disconnectGateway,
    recheckSessions,
    close: async () => {
      clearInterval(checkTimer);
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
