import type { FastifyPluginAsync } from 'fastify';
import type { AlertService } from '../alerts/alert-service.js';
import { actorOf } from '../auth/plugin.js';
import type { AlertRecord, AlertStore } from '../store/alert-store.js';
import type { ApprovalState } from '../store/discovery-store.js';
import { AlertActionBody, AlertList, AlertListQuery, IdParams, alertView } from './alert-schemas.js';
import { HttpError, badParameter, notFound } from './errors.js';
import { etag, expectedVersion } from './http-conditions.js';
import { ErrorBody } from './schemas.js';

/** The approval state of each device named, for marking alerts of devices awaiting approval. */
export type ApprovalLookup = (deviceIds: string[]) => Promise<Map<string, ApprovalState>>;

/** Alerts: list, read, acknowledge, resolve (the last two audited, a reason required). */
export const alertRoutes =
  (store: AlertStore, service: AlertService, approvals: ApprovalLookup = async () => new Map()): FastifyPluginAsync =>
  async (app) => {
    const views = async (alerts: AlertRecord[]) => {
      const approval = await approvals([...new Set(alerts.flatMap((a) => (a.deviceId === null ? [] : [a.deviceId])))]);
      return alerts.map((a) => alertView(a, a.deviceId === null ? null : (approval.get(a.deviceId) ?? null)));
    };
    const view = async (alert: AlertRecord) => (await views([alert]))[0];
    app.get<{ Querystring: AlertListQuery }>(
      '/alerts',
      {
        config: { permission: 'alerts:read' },
        schema: { summary: 'List alerts, newest first', tags: ['alerts'], querystring: AlertListQuery, response: { 200: AlertList, 400: ErrorBody } },
      },
      async (request) => {
        const { limit, offset, ...filter } = request.query;
        const { items, total } = await store.listAlerts({ ...filter, limit, offset });
        return { items: await views(items), total, limit, offset };
      },
    );

    app.get<{ Params: IdParams }>(
      '/alerts/:id',
      {
        config: { permission: 'alerts:read' },
        schema: { summary: 'One alert', tags: ['alerts'], params: IdParams, response: { 200: { $ref: 'Alert#' }, 400: ErrorBody, 404: ErrorBody } },
      },
      async (request, reply) => {
        const alert = await store.getAlert(request.params.id);
        if (!alert) throw notFound(`no alert ${request.params.id}`);
        reply.header('etag', etag(alert.version));
        return view(alert);
      },
    );

    for (const action of ['ack', 'resolve'] as const) {
      app.post<{ Params: IdParams; Body: AlertActionBody }>(
        `/alerts/:id/${action}`,
        {
          config: { permission: 'alerts:ack' },
          // No body at all would otherwise be reported as "body must be object"; name the field that is missing.
          preValidation: async (request) => {
            if (request.body === undefined || request.body === null) throw badParameter('reason', 'required: say why (kept in the audit trail)');
          },
          schema: {
            summary:
              action === 'ack' ? 'Acknowledge an alert (audited; reason and If-Match required)' : 'Resolve an alert (audited; reason and If-Match required)',
            tags: ['alerts'],
            params: IdParams,
            body: AlertActionBody,
            response: { 200: { $ref: 'Alert#' }, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 428: ErrorBody },
          },
        },
        async (request, reply) => {
          const expected = expectedVersion(request, '/alerts/{id}', 'so that two people cannot act on the same alert unknowingly');
          const actor = actorOf(request);
          const { id } = request.params;
          const outcome =
            action === 'ack'
              ? await service.acknowledge(id, expected, actor, request.body.reason)
              : await service.resolve(id, expected, actor, request.body.reason);
          if (!outcome.ok && outcome.reason === 'not_found') throw notFound(`no alert ${id}`);
          if (!outcome.ok && outcome.reason === 'stale')
            throw new HttpError(409, 'Conflict', `the alert changed meanwhile (now version ${outcome.current}); read it again and decide again`);
          if (!outcome.ok) throw new HttpError(409, 'Conflict', `the alert is already ${outcome.state}`);
          reply.header('etag', etag(outcome.alert.version));
          return view(outcome.alert);
        },
      );
    }
  };
