import type { FastifyPluginAsync } from 'fastify';
import type { ApprovalOutcome } from '../store/discovery-store.js';
import type { Store } from '../store/store.js';
import { actorOf } from '../auth/plugin.js';
import { HttpError, notFound } from './errors.js';
import { etag, expectedVersion, staleVersion } from './http-conditions.js';
import { ApproveBody, RejectBody } from './approval-schemas.js';
import { deviceView } from './devices.js';
import { DeviceParams, ErrorBody } from './schemas.js';

/**
 * Devices a gateway identified by itself arrive `pending` (GET
 * /devices?approval=pending); a technician approves one, binding asset tag,
 * location and department, or rejects it with a reason. Both are audited and
 * take If-Match like every other registry edit (docs/api.md).
 */
export const deviceApprovalRoutes =
  (store: Store): FastifyPluginAsync =>
  async (app) => {
    const responses = { 200: { $ref: 'Device#' }, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 428: ErrorBody };

    const answer = (id: string, outcome: ApprovalOutcome, reply: { header(name: string, value: string): unknown }) => {
      if (!outcome.ok && outcome.reason === 'not_found')
        throw notFound(`no device "${id}"; GET /api/v1/devices?approval=pending lists those awaiting approval`);
      if (!outcome.ok && outcome.reason === 'conflict') throw new HttpError(409, 'Conflict', outcome.message);
      if (!outcome.ok) throw staleVersion('device', outcome.current);
      reply.header('etag', etag(outcome.device.version));
      return deviceView(outcome.device);
    };

    app.post<{ Params: DeviceParams; Body: ApproveBody }>(
      '/devices/:id/approve',
      {
        config: { permission: 'registry:approve' },
        schema: {
          summary: 'Approve a discovered device, binding its asset tag, location and department; audited; If-Match: its version',
          tags: ['registry'],
          params: DeviceParams,
          body: ApproveBody,
          response: responses,
        },
      },
      async (request, reply) => {
        const expected = expectedVersion(request, '/devices/{id}');
        const { id } = request.params;
        const { note, ...binding } = request.body;
        const outcome = await store.discovery.approve(id, { ...binding, ...(note ? { note } : {}) }, expected, actorOf(request));
        return answer(id, outcome, reply);
      },
    );

    app.post<{ Params: DeviceParams; Body: RejectBody }>(
      '/devices/:id/reject',
      {
        config: { permission: 'registry:approve' },
        schema: {
          summary: 'Reject a discovered device (its data is then acknowledged but not stored); a reason is required; audited; If-Match: its version',
          tags: ['registry'],
          params: DeviceParams,
          body: RejectBody,
          response: responses,
        },
      },
      async (request, reply) => {
        const expected = expectedVersion(request, '/devices/{id}');
        const { id } = request.params;
        const reason = request.body.reason.trim();
        if (!reason) throw new HttpError(400, 'Bad Request', 'reason: say why the device is rejected (it goes into the audit trail)', 'reason');
        const outcome = await store.discovery.reject(id, reason, expected, actorOf(request));
        return answer(id, outcome, reply);
      },
    );
  };
