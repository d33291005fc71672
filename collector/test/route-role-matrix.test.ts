import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, ROLES, roleAtLeast, type Role } from '../dist/auth/index.js';
import { startTestCollector } from './collector-fixture.js';

/**
 * Every route, every role, over real HTTP: the guard's table is the list of
 * routes, so a route added later is walked without editing this file.
 * Path parameters name things that do not exist, and bodies are empty, so an
 * allowed call ends in 400/404/428 and never changes anything; what is
 * asserted is who gets past the guard.
 */

/**
 * Who may call what, written down independently of the code: a route that
 * declares a weaker permission than intended (or a new route nobody placed
 * here) fails the first test.
 */
const LEAST_ROLE: Record<string, Role> = {
  'GET /api/v1/devices': 'viewer',
  'GET /api/v1/devices/:id': 'viewer',
  'PATCH /api/v1/devices/:id': 'technician',
  'POST /api/v1/devices/:id/approve': 'technician',
  'POST /api/v1/devices/:id/reject': 'technician',
  'GET /api/v1/devices/:id/telemetry': 'viewer',
  'GET /api/v1/devices/:id/alarms': 'viewer',
  'GET /api/v1/devices/:id/gaps': 'viewer',
  'GET /api/v1/devices/:id/trend': 'viewer',
  'GET /api/v1/gateways': 'viewer',
  'GET /api/v1/gateways/:id/ports': 'viewer',
  'GET /api/v1/me': 'viewer',
  'GET /api/v1/gateways/credentials': 'admin',
  'GET /api/v1/gateways/:id/credential': 'admin',
  'POST /api/v1/gateways': 'admin',
  'POST /api/v1/gateways/:id/rotate-secret': 'admin',
  'POST /api/v1/gateways/:id/revoke': 'admin',
  'GET /api/v1/audit': 'admin',
  'GET /api/v1/calibration-intervals': 'viewer',
  'PUT /api/v1/calibration-intervals/:model': 'technician',
  'POST /api/v1/devices/:id/calibrations': 'technician',
  'GET /api/v1/devices/:id/calibrations': 'viewer',
  'GET /api/v1/calibrations/due': 'viewer',
  'POST /api/v1/devices/:id/pm-schedules': 'technician',
  'GET /api/v1/pm-schedules': 'viewer',
  'GET /api/v1/pm-schedules/:id': 'viewer',
  'PATCH /api/v1/pm-schedules/:id': 'technician',
  'POST /api/v1/work-orders': 'technician',
  'GET /api/v1/work-orders': 'viewer',
  'GET /api/v1/work-orders/:id': 'viewer',
  'PATCH /api/v1/work-orders/:id': 'technician',
  'POST /api/v1/work-orders/:id/searches': 'technician',
  'GET /api/v1/kpis': 'viewer',
  'POST /api/v1/devices/:id/diagnostics': 'technician',
  'GET /api/v1/diagnostics/:requestId': 'viewer',
  'GET /api/v1/devices/:id/diagnostics': 'viewer',
  'GET /api/v1/alerts': 'viewer',
  'GET /api/v1/alerts/:id': 'viewer',
  'POST /api/v1/alerts/:id/ack': 'technician',
  'POST /api/v1/alerts/:id/resolve': 'technician',
  'GET /api/v1/alert-rules': 'viewer',
  'GET /api/v1/alert-rules/:id': 'viewer',
  'POST /api/v1/alert-rules': 'technician',
  'PUT /api/v1/alert-rules/:id': 'technician',
  'DELETE /api/v1/alert-rules/:id': 'technician',
  'GET /api/v1/stream': 'viewer',
  'GET /api/v1/subjects': 'viewer',
  'POST /api/v1/phi/open': 'clinician',
};

type Collector = Awaited<ReturnType<typeof startTestCollector>>;
let collector: Collector;
const tokens = {} as Record<Role, string>;

beforeAll(async () => {
  collector = await startTestCollector();
  for (const role of ROLES) tokens[role] = await collector.token(role);
});
afterAll(() => collector?.close());

/** Status of one call; resolves on the response headers (a stream's body is never read). */
async function statusOf(method: string, url: string, token?: string): Promise<number> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  if (withBody) headers['content-type'] = 'application/json';
  const controller = new AbortController();
  const response = await fetch(`${collector.httpUrl}${url}`, { method, headers, body: withBody ? '{}' : undefined, signal: controller.signal });
  controller.abort();
  return response.status;
}

const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, 'nope-0').replace(/\*$/, 'nope-0');

describe('route x role matrix', () => {
  it('every guarded route is in the written table with the role it was meant to need', () => {
    const declared = Object.fromEntries(
      collector.api.guardedRoutes
        .filter((r) => !r.public && r.method !== 'HEAD')
        .map((r) => [`${r.method} ${r.url}`, r.permission ? PERMISSIONS[r.permission] : 'none']),
    );
    expect(declared).toEqual(LEAST_ROLE);
  });

  it('every guarded route: 401 without a token, 403 below its role, through the guard at or above it', async () => {
    const routes = collector.api.guardedRoutes.filter((r) => !r.public && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThanOrEqual(8);
    const wrong: string[] = [];
    for (const route of routes) {
      const url = concrete(route.url);
      const label = `${route.method} ${route.url}`;
      if (route.permission === undefined) {
        wrong.push(`${label}: declares no permission`);
        continue;
      }
      const anonymous = await statusOf(route.method, url);
      if (anonymous !== 401) wrong.push(`${label} without a token: ${anonymous}, expected 401`);
      const min = PERMISSIONS[route.permission];
      for (const role of ROLES) {
        const status = await statusOf(route.method, url, tokens[role]);
        const allowed = roleAtLeast(role, min);
        if (!allowed && status !== 403) wrong.push(`${label} as ${role}: ${status}, expected 403 (needs ${min})`);
        if (allowed && (status === 401 || status === 403 || status >= 500)) wrong.push(`${label} as ${role}: ${status}, expected to pass the guard`);
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('public routes answer without a token', async () => {
    const publicRoutes = collector.api.guardedRoutes.filter((r) => r.public && r.method === 'GET' && !r.url.includes('*') && !r.url.includes(':'));
    expect(publicRoutes.map((r) => r.url)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json', '/api/docs']));
    for (const route of publicRoutes) {
      const status = await statusOf('GET', route.url);
      expect(status, route.url).toBeLessThan(400);
    }
  });

  it('serves the interactive API docs page', async () => {
    const response = await fetch(`${collector.httpUrl}/api/docs/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('swagger');
  });
});
