import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Store } from '../store/store.js';
import { Gateway } from './schemas.js';

/** Gateways as last reported by their state messages (online, or offline by will). */
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
        const items = await store.listGateways();
        return { items: items.map((g) => ({ ...g, stateAt: new Date(g.stateAt).toISOString(), lastSeen: new Date(g.lastSeen).toISOString() })) };
      },
    );
  };
