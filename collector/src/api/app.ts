import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { MEDTEL_VERSION, type Logger } from '@medtel/shared';
import { installAuth, type GuardedRoute, type Verifier } from '../auth/index.js';
import type { CollectorMetrics } from '../metrics.js';
import type { Alerting } from '../alerts/alerting.js';
import type { IngestItem } from '../store/store.js';
import { Alert, Rule } from './alert-schemas.js';
import { alertRuleRoutes } from './alert-rules.js';
import { alertRoutes } from './alerts.js';
import { auditRoutes } from './audit.js';
import { DEFAULT_CALENDAR, type SiteCalendar } from '../htm/pm-schedule.js';
import { calibrationRoutes } from './calibrations.js';
import { kpiRoutes } from './kpis.js';
import { pmScheduleRoutes } from './pm-schedules.js';
import { workOrderRoutes } from './work-orders.js';
import { streamRoutes } from './stream.js';
import { LocalLiveFeed, type LiveFeed } from '../cluster/live-feed.js';
import type { Store } from '../store/store.js';
import type { DiagnosticsService } from '../diagnostics/service.js';
import { deviceRoutes } from './devices.js';
import { deviceApprovalRoutes } from './device-approval.js';
import { trendRoutes } from './trends.js';
import { meRoutes } from './me.js';
import { diagnosticsRoutes } from './diagnostics.js';
import { phiRoutes } from './phi.js';
import { PhiOpener } from '../phi/opener.js';
import { Diagnostic } from './diagnostics-schemas.js';
import { installErrorHandler } from './errors.js';
import { DEFAULT_HTTP_LIMITS, fastifyLimitOptions, installHttpHardening, type HttpLimits } from './http-hardening.js';
import { gatewayRoutes } from './gateways.js';
import { DASHBOARD_ASSETS, dashboardRoutes, loadDashboardAssets } from './dashboard.js';
import { gatewayProvisioningRoutes } from './gateway-provisioning.js';
import { healthRoutes, type Readiness } from './health.js';
import { installRequestTracing, requestIdOptions } from './request-tracing.js';
import { Device, ErrorBody } from './schemas.js';
import { WorkOrderSchema } from './work-order-view.js';

export interface ApiOptions {
  store: Store;
  metrics: CollectorMetrics;
  logger: Logger;
  readiness?: Readiness;
  /** Checks bearer tokens; every route declares the permission it needs (auth/roles.ts). */
  verifier: Verifier;
  /** The site's time zone and on-time tolerances (collector config `htm`); UTC and TJC's defaults if omitted. */
  calendar?: SiteCalendar;
  /** Opens PHI envelopes for the API; without one (or without its keyring) POST /phi/open answers 409. */
  phiOpener?: PhiOpener;
  /** Body and header sizes and slow-client timeouts (collector config http.limits). */
  httpLimits?: HttpLimits;
  /** Gateway provisioning routes are served when given: they close sessions of revoked or rotated gateways. */
  gatewaySessions?: { recheck: () => Promise<number> };
  /** Diagnostics routes are served when given (the collector always gives it). */
  diagnostics?: DiagnosticsService;
  /** Alerts, alert rules and the live stream; their routes are served only when given. */
  alerting?: {
    alerting: Alerting;
    /** Ingestor.onStored, for live readings. */
    onStored: (listener: (items: IngestItem[]) => void) => () => void;
    /** Replicas: every replica's alerts and readings (docs/replicas.md); default this collector's own. */
    feed?: LiveFeed;
    stream: { heartbeatMs: number; maxBufferedBytes: number };
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with the permission it needs (filled as routes register). */
    guardedRoutes: GuardedRoute[];
  }
}

/** Where the interactive API documentation is served (public, like the OpenAPI document). */
export const DOCS_PAGE = '/api/docs';

/** The HTTP API (Fastify). Built without listening, so tests can use inject(). */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and Fastify's logger type differ only in generics.
    loggerInstance: options.logger as FastifyBaseLogger,
    // Per-request lines would drown the log at dashboard polling rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    ...fastifyLimitOptions(options.httpLimits ?? DEFAULT_HTTP_LIMITS),
    // On stop, long-lived connections (event streams, keep-alive) must not hold shutdown open.
    forceCloseConnections: true,
    // Unknown query parameters are errors, not silently dropped: a typo like
    // ?metirc=rate should not return every metric.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    ...requestIdOptions,
  });
  // First hooks of all: the request id is echoed and the request's span active before auth runs.
  installRequestTracing(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
      info: { title: 'medtel collector API', version: MEDTEL_VERSION, description: 'Device registry and telemetry of the medtel collector.' },
      tags: [
        { name: 'registry', description: 'Devices and gateways' },
        { name: 'gateways', description: 'Gateway provisioning: credentials, secret rotation, revocation (admins)' },
        { name: 'telemetry', description: 'Readings as stored' },
        { name: 'calibration', description: 'Calibration intervals, records (ISO/IEC 17025 style) and due lists' },
        { name: 'maintenance', description: 'Preventive-maintenance schedules and work orders' },
        { name: 'kpis', description: 'Clinical-engineering performance over a period' },
        { name: 'diagnostics', description: 'Tests run on a device through its gateway' },
        { name: 'alerts', description: 'Alerts, alert rules and the live stream' },
      ],
    },
  });
  // Before any route: the guard refuses routes that declare no permission.
  const routes = installAuth(app, options.verifier, { publicPrefixes: [DOCS_PAGE] });
  app.decorate('guardedRoutes', routes);
  // The interactive docs page: static assets shipped in the package (no CDN;
  // hospital networks are often offline). "Authorize" takes a bearer token.
  await app.register(swaggerUi, { routePrefix: DOCS_PAGE, uiConfig: { deepLinking: true, persistAuthorization: false } });
  app.addSchema(ErrorBody);
  app.addSchema(Device);
  app.addSchema(WorkOrderSchema);
  app.addSchema(Diagnostic);
  app.addSchema(Alert);
  app.addSchema(Rule);
  installErrorHandler(app);
  installHttpHardening(app, options.httpLimits ?? DEFAULT_HTTP_LIMITS, DOCS_PAGE, DASHBOARD_ASSETS);
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) });
  });

  // The dashboard page at `/` (docs/dashboard.md); /api/... is untouched by it.
  await app.register(dashboardRoutes(loadDashboardAssets()));
  await app.register(healthRoutes(options.store, options.metrics.registry, options.readiness ?? { checks: {} }));
  await app.register(
    async (api) => {
      await api.register(deviceRoutes(options.store));
      await api.register(deviceApprovalRoutes(options.store));
      await api.register(trendRoutes(options.store));
      await api.register(meRoutes);
      await api.register(gatewayRoutes(options.store));
      if (options.gatewaySessions) await api.register(gatewayProvisioningRoutes(options.store, options.gatewaySessions));
      await api.register(auditRoutes(options.store));
      const calendar = options.calendar ?? DEFAULT_CALENDAR;
      await api.register(calibrationRoutes(options.store, calendar));
      await api.register(pmScheduleRoutes(options.store));
      await api.register(workOrderRoutes(options.store));
      await api.register(kpiRoutes(options.store, calendar));
      if (options.diagnostics) await api.register(diagnosticsRoutes(options.diagnostics));
      await api.register(phiRoutes(options.store.phi, options.phiOpener ?? new PhiOpener(options.store.phi, undefined, options.metrics)));
      const live = options.alerting;
      if (live) {
        const store = options.store;
        const approvals = async (ids: string[]) =>
          new Map(
            (await Promise.all(ids.map(async (id) => [id, (await store.getDevice(id))?.approval] as const))).flatMap(([id, a]) =>
              a ? [[id, a] as const] : [],
            ),
          );
        await api.register(alertRoutes(store.alerts, live.alerting.service, approvals));
        await api.register(alertRuleRoutes(options.store.alerts, () => live.alerting.rulesChanged()));
        const feed = live.feed ?? new LocalLiveFeed({ onAlertChange: (l) => live.alerting.service.onChange(l), onStored: live.onStored });
        await api.register(streamRoutes({ feed, metrics: options.metrics, ...live.stream }));
      }
      api.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );
  return app;
}
