import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Store } from '../store/store.js';
import { Gateway } from './schemas.js';

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
        const items = await Promise.all(
          gateways.map(async (g) => {
            const { items: devices } = await store.listDevices({ gateway: g.id, limit: MAX_DEVICES_PER_GATEWAY, offset: 0 });
            return {
              ...g,
              stateAt: iso(g.stateAt),
              lastSeen: iso(g.lastSeen),
              outbox: g.outbox ? { ...g.outbox, at: iso(g.outbox.at) } : null,
              devices: devices.map((d) => ({
                id: d.id,
                device: d.device,
                type: d.type,
                model: d.model,
                connectivity: g.state === 'offline' ? 'offline' : (d.status ?? 'unknown'),
                lastSeen: iso(d.lastSeen),
              })),
            };
          }),
        );
        return { items };
      },
    );
  };
