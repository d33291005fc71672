import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '@medtel/shared';
import type { GatewayEntry } from '../config.js';
import type { Ingestor } from '../ingest/ingestor.js';
import type { CollectorMetrics } from '../metrics.js';
import { createAuthorizePublish, createAuthorizeSubscribe } from './authorize.js';
import { createAuthenticate, type Sessions } from './gateway-auth.js';

export interface BrokerHandle {
  aedes: Aedes;
  server: Server;
  port: number;
  /** True while the gateway has a live MQTT connection (diagnostics refuse to queue commands for absent gateways). */
  isGatewayConnected(gateway: string): boolean;
  close(): Promise<void>;
}

/** The embedded MQTT broker (MQTT 3.1.1) on plain TCP. */
export async function startBroker(options: {
  host: string;
  port: number;
  gateways: () => GatewayEntry[];
  ingestor: Ingestor;
  metrics: CollectorMetrics;
  logger: Logger;
}): Promise<BrokerHandle> {
  const { metrics, logger } = options;
  const sessions: Sessions = new WeakMap();
  const aedes = await Aedes.createBroker({
    authenticate: createAuthenticate(options.gateways, sessions, metrics, logger),
    authorizePublish: createAuthorizePublish(sessions, options.ingestor, metrics, logger),
    authorizeSubscribe: createAuthorizeSubscribe(sessions, metrics, logger),
  });
  // Connections per gateway id: a takeover briefly gives two.
  const connected = new Map<string, number>();
  aedes.on('client', (client) => {
    const id = sessions.get(client)?.id;
    if (id) connected.set(id, (connected.get(id) ?? 0) + 1);
    metrics.clients.inc();
    logger.info({ clientId: client.id, gateway: sessions.get(client)?.id }, 'gateway connected');
  });
  aedes.on('clientDisconnect', (client) => {
    const id = sessions.get(client)?.id;
    if (id) {
      const n = (connected.get(id) ?? 1) - 1;
      if (n > 0) connected.set(id, n);
      else connected.delete(id);
    }
    metrics.clients.dec();
    logger.info({ clientId: client.id, gateway: sessions.get(client)?.id }, 'gateway disconnected');
  });
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) => logger.debug({ clientId: client?.id, err: err.message }, 'connection error'));

  const server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : options.port;
  return {
    aedes,
    server,
    port,
    isGatewayConnected: (gateway) => connected.has(gateway),
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
