import type { FastifyPluginAsync } from 'fastify';
import { MEDTEL_VERSION, type Registry } from '@medtel/shared';
import type { Store } from '../store/store.js';

export interface Readiness {
  /** Named checks; each resolves or throws with a reason. */
  checks: Record<string, () => Promise<void>>;
}

/** Liveness, readiness and Prometheus metrics, outside /api/v1 as probes expect. */
export const healthRoutes =
  (store: Store, registry: Registry, readiness: Readiness): FastifyPluginAsync =>
  async (app) => {
    const hide = { schema: { hide: true }, config: { public: true } };
    app.get('/healthz', hide, async () => ({ status: 'ok', version: MEDTEL_VERSION }));
    app.get('/readyz', hide, async (_request, reply) => {
      const results: Record<string, string> = {};
      let ready = true;
      for (const [name, check] of Object.entries({ store: () => store.ping(), ...readiness.checks })) {
        try {
          await check();
          results[name] = 'ok';
        } catch (err) {
          ready = false;
          results[name] = (err as Error).message;
        }
      }
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
    });
    app.get('/metrics', hide, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  };
