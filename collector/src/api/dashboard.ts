import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/** Where the dashboard's assets are served from; the page itself is `/`. */
export const DASHBOARD_ASSETS = '/ui';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
}

/**
 * The files the page consists of, read once at start into memory (about
 * 100 kB): HTML and CSS from collector/web/, the compiled modules from
 * dist/web/, uPlot's ESM build and stylesheet from its npm package. Served by
 * exact name from this table only, so no request path ever reaches the file
 * system (no traversal to guard against), and nothing is fetched from a CDN
 * (hospital networks are often offline).
 */
export function loadDashboardAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const here = fileURLToPath(new URL('.', import.meta.url)); // dist/api/
  const add = (url: string, file: string) => assets.set(url, { body: readFileSync(file), type: TYPES[extname(file)] ?? 'application/octet-stream' });
  const web = join(here, '..', '..', 'web');
  const compiled = join(here, '..', 'web');
  try {
    add('/', join(web, 'index.html'));
    add(`${DASHBOARD_ASSETS}/app.css`, join(web, 'app.css'));
    for (const name of readdirSync(compiled)) if (name.endsWith('.js')) add(`${DASHBOARD_ASSETS}/${name}`, join(compiled, name));
    const require = createRequire(import.meta.url);
    add(`${DASHBOARD_ASSETS}/vendor/uplot.js`, require.resolve('uplot/dist/uPlot.esm.js'));
    add(`${DASHBOARD_ASSETS}/vendor/uplot.css`, require.resolve('uplot/dist/uPlot.min.css'));
  } catch {
    // A build without the page (web/ not shipped): the API still serves; `/` stays 404.
    assets.clear();
  }
  return assets;
}

/**
 * GET / and GET /ui/*: the dashboard (docs/dashboard.md). Public like the API
 * docs page: the files hold no data; every datum the page shows comes from
 * /api/v1 with the user's bearer token.
 */
export const dashboardRoutes =
  (assets: Map<string, Asset>): FastifyPluginAsync =>
  async (app) => {
    if (assets.size === 0) return;
    app.get('/', { schema: { hide: true }, config: { public: true } }, async (_request, reply) => {
      const asset = assets.get('/') as Asset;
      return reply.type(asset.type).send(asset.body);
    });
    app.get<{ Params: { '*': string } }>(`${DASHBOARD_ASSETS}/*`, { schema: { hide: true }, config: { public: true } }, async (request, reply) => {
      const asset = assets.get(`${DASHBOARD_ASSETS}/${request.params['*']}`);
      if (!asset) return reply.code(404).send({ error: 'Not Found', message: 'no such dashboard file' });
      return reply.type(asset.type).send(asset.body);
    });
  };
