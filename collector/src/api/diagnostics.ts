import type { FastifyPluginAsync } from 'fastify';
import { DiagnosticsError, type DiagnosticsService } from '../diagnostics/service.js';
import type { DiagnosticRecord } from '../store/diagnostics-store.js';
import { actorOf } from '../auth/plugin.js';
import { DiagnosticList, DiagnosticListQuery, DiagnosticParams, DiagnosticRequestBody } from './diagnostics-schemas.js';
import { HttpError, notFound } from './errors.js';
import { DeviceParams, ErrorBody } from './schemas.js';
import { iso } from './times.js';

export function diagnosticView(d: DiagnosticRecord) {
  return {
    requestId: d.requestId,
    device: d.deviceId,
    gateway: d.gateway,
    test: d.test,
    args: d.args,
    reason: d.reason,
    requestedBy: d.requestedBy,
    requestedAt: iso(d.requestedAt),
    timeoutSeconds: d.timeoutMs / 1000,
    deadline: iso(d.deadline),
    state: d.state,
    ok: d.ok,
    result: d.result,
    error: d.error,
    completedAt: d.completedAt === null ? null : iso(d.completedAt),
    lateResult: d.lateResult ? { ...d.lateResult, receivedAt: iso(d.lateResult.receivedAt) } : null,
  };
}

/** Run a device's diagnostic test through its gateway, and read the outcome. */
export const diagnosticsRoutes =
  (service: DiagnosticsService): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Params: DeviceParams; Body: DiagnosticRequestBody }>(
      '/devices/:id/diagnostics',
      {
        config: { permission: 'diagnostics:run' },
        schema: {
          summary: 'Run a diagnostic test on a device; 202 with the request to poll (Location)',
          tags: ['diagnostics'],
          params: DeviceParams,
          body: DiagnosticRequestBody,
          response: { 202: { $ref: 'Diagnostic#' }, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        const { test, args, reason, timeoutSeconds } = request.body;
        try {
          const record = await service.request({
            deviceId: request.params.id,
            test,
            ...(args ? { args } : {}),
            ...(reason ? { reason } : {}),
            ...(timeoutSeconds ? { timeoutMs: timeoutSeconds * 1000 } : {}),
            actor: actorOf(request),
          });
          reply.code(202).header('location', `/api/v1/diagnostics/${record.requestId}`);
          return diagnosticView(record);
        } catch (err) {
          if (err instanceof DiagnosticsError) {
            throw err.kind === 'not_found' ? notFound(err.message) : new HttpError(400, 'Bad Request', err.message, err.parameter);
          }
          throw err;
        }
      },
    );

    app.get<{ Params: DiagnosticParams }>(
      '/diagnostics/:requestId',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: 'One diagnostic request: its state and, once completed, the result',
          tags: ['diagnostics'],
          params: DiagnosticParams,
          response: { 200: { $ref: 'Diagnostic#' }, 404: ErrorBody },
        },
      },
      async (request) => {
        const record = await service.get(request.params.requestId);
        if (!record) throw notFound(`no diagnostic request "${request.params.requestId}"`);
        return diagnosticView(record);
      },
    );

    app.get<{ Params: DeviceParams; Querystring: DiagnosticListQuery }>(
      '/devices/:id/diagnostics',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: "A device's diagnostic requests, newest first",
          tags: ['diagnostics'],
          params: DeviceParams,
          querystring: DiagnosticListQuery,
          response: { 200: DiagnosticList, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const { id } = request.params;
        const { limit, offset } = request.query;
        const { items, total } = await service.listForDevice(id, { limit, offset });
        if (total === 0 && !(await service.deviceExists(id))) throw notFound(`no device "${id}"`);
        return { device: id, items: items.map(diagnosticView), total, limit, offset };
      },
    );
  };
