import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { MEDTEL_VERSION, type Logger } from '@medtel/shared';
import { installAuth, type Verifier } from '../auth/index.js';
import type { CollectorMetrics } from '../metrics.js';
import type { Alerting } from '../alerts/alerting.js';
import type { IngestItem } from '../store/store.js';
import { Alert, Rule } from './alert-schemas.js';
import { alertRuleRoutes } from './alert-rules.js';
import { alertRoutes } from './alerts.js';
import { auditRoutes } from './audit.js';
import { streamRoutes } from './stream.js';
import type { Store } from '../store/store.js';
import { deviceRoutes } from './devices.js';
import { installErrorHandler } from './errors.js';
import { gatewayRoutes } from './gateways.js';
import { healthRoutes, type Readiness } from './health.js';
import { Device, ErrorBody } from './schemas.js';

export interface ApiOptions {
  store: Store;
  metrics: CollectorMetrics;
  logger: Logger;
  readiness?: Readiness;
  /** Checks bearer tokens; every route declares the permission it needs (auth/roles.ts). */
  verifier: Verifier;
  /** Alerts, alert rules and the live stream; their routes are served only when given. */
  alerting?: {
    alerting: Alerting;
    /** Ingestor.onStored, for live readings. */
    onStored: (listener: (items: IngestItem[]) => void) => () => void;
    stream: { heartbeatMs: number; maxBufferedBytes: number };
  };
}

/** The HTTP API (Fastify). Built without listening, so tests can use inject(). */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and Fastify's logger type differ only in generics.
    loggerInstance: options.logger as FastifyBaseLogger,
    // Per-request lines would drown the log at dashboard polling rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Unknown query parameters are errors, not silently dropped: a typo like
    // ?metirc=rate should not return every metric.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
      info: { title: 'medtel collector API', version: MEDTEL_VERSION, description: 'Device registry and telemetry of the medtel collector.' },
      tags: [
        { name: 'registry', description: 'Devices and gateways' },
        { name: 'telemetry', description: 'Readings as stored' },
        { name: 'alerts', description: 'Alerts, alert rules and the live stream' },
      ],
    },
  });
  // Before any route: the guard refuses routes that declare no permission.
  installAuth(app, options.verifier);
  app.addSchema(ErrorBody);
  app.addSchema(Device);
  app.addSchema(Alert);
  app.addSchema(Rule);
  installErrorHandler(app);
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) });
  });

  await app.register(healthRoutes(options.store, options.metrics.registry, options.readiness ?? { checks: {} }));
  await app.register(
    async (api) => {
      await api.register(deviceRoutes(options.store));
      await api.register(gatewayRoutes(options.store));
      await api.register(auditRoutes(options.store));
      const live = options.alerting;
      if (live) {
        await api.register(alertRoutes(options.store.alerts, live.alerting.service));
        await api.register(alertRuleRoutes(options.store.alerts, () => live.alerting.rulesChanged()));
        await api.register(streamRoutes({ alerts: live.alerting.service, onStored: live.onStored, metrics: options.metrics, ...live.stream }));
      }
      api.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );
  return app;
}
