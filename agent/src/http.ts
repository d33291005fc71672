import { createServer, type Server } from 'node:http';
import type { Registry } from '@medtel/shared';

export interface HealthSource {
  /** Liveness detail: always 200 while the process serves. */
  health(): Record<string, unknown>;
  /** Readiness: the outbox is open and writable. */
  ready(): { ready: boolean; detail: Record<string, unknown> };
  /** Configured and discovered devices with their status, and plug-and-play's port report (`medtel-agent devices list`). */
  devices?(): Record<string, unknown>;
}

/**
 * /healthz, /readyz, /devices and /metrics for the gateway's monitoring. Three fixed
 * routes on loopback do not need a web framework; node:http keeps the agent
 * small on the gateway.
 */
export function startAgentHttp(host: string, port: number, registry: Registry, source: HealthSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' });
    if (path === '/healthz') return send(200, { status: 'ok', ...source.health() });
    if (path === '/readyz') {
      const { ready, detail } = source.ready();
      return send(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...detail });
    }
    if (path === '/devices' && source.devices) return send(200, source.devices());
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => send(200, text, registry.contentType),
        (err: Error) => send(500, { error: err.message }),
      );
      return;
    }
    send(404, { error: `no route ${path}; try /healthz, /readyz, /devices or /metrics` });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
