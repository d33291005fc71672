import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Store } from '../store/store.js';
import { deviceKey } from '@medtel/shared';
import { notFound } from './errors.js';
import { GatewayParams, GatewayPorts } from './approval-schemas.js';
import { ErrorBody, Gateway } from './schemas.js';

/** A gateway box serves a handful of bedside devices; the registry's page limit is the ceiling. */
const MAX_DEVICES_PER_GATEWAY = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Gateways as last reported by their state messages (online, or offline by will), each with its devices. */
export const gatewayRoutes =
  (store: Store): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/gateways',
      {
        config: { permission: 'registry:read' },
        schema: { summary: 'List gateways', tags: ['registry'], response: { 200: Type.Object({ items: Type.Array(Gateway) }) } },
      },
      async () => {
        const gateways = await store.listGateways();
        const discovery = await store.discovery.summary();
        const items = await Promise.all(
          gateways.map(async (g) => {
            const { items: devices } = await store.listDevices({ gateway: g.id, limit: MAX_DEVICES_PER_GATEWAY, offset: 0 });
            return {
              ...g,
              stateAt: iso(g.stateAt),
              lastSeen: iso(g.lastSeen),
              pendingDevices: discovery.get(g.id)?.pendingDevices ?? 0,
              unidentifiedPorts: discovery.get(g.id)?.unidentifiedPorts ?? 0,
              outbox: g.outbox ? { ...g.outbox, at: iso(g.outbox.at) } : null,
              devices: devices.map((d) => ({
                id: d.id,
                device: d.device,
                type: d.type,
                model: d.model,
                approval: d.approval,
                connectivity: g.state === 'offline' ? 'offline' : (d.status ?? 'unknown'),
                lastSeen: iso(d.lastSeen),
              })),
            };
          }),
        );
        return { items };
      },
    );

    app.get<{ Params: GatewayParams }>(
      '/gateways/:id/ports',
      {
        config: { permission: 'registry:read' },
        schema: {
          summary: 'The ports a gateway watches for plug and play, from its latest report: what was identified, and what was tried where nothing was',
          tags: ['registry'],
          params: GatewayParams,
          response: { 200: GatewayPorts, 404: ErrorBody },
        },
      },
      async (request) => {
        const { id } = request.params;
        const report = await store.discovery.ports(id);
        if (!report) {
          // Provisioned but never reported ports (or not plug and play capable): an empty list, not 404.
          const known = (await store.gatewayCredentials.get(id)) !== undefined || (await store.listGateways()).some((g) => g.id === id);
          if (!known) throw notFound(`no gateway "${id}"; GET /api/v1/gateways lists them`);
          return { gateway: id, reportedAt: null, receivedAt: null, ports: [] };
        }
        // Port device ids are the gateway's own; the registry id may differ after a move, so resolve through the registry.
        const { items: devices } = await store.listDevices({ gateway: id, limit: MAX_DEVICES_PER_GATEWAY, offset: 0 });
        const registryId = new Map(devices.map((d) => [d.device, d.id]));
        return {
          gateway: id,
          reportedAt: iso(report.sentAt),
          receivedAt: iso(report.receivedAt),
          ports: report.ports.map((p) => ({
            port: p.port,
            state: p.state,
            device: p.device === undefined ? null : (registryId.get(p.device) ?? deviceKey(id, p.device)),
            tried: p.tried ?? [],
            since: iso(p.since),
          })),
        };
      },
    );
  };
