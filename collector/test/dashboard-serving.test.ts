import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCollector } from './collector-fixture.js';

/**
 * The dashboard's files at / and /ui/* (no token: they hold no data), under a
 * CSP that allows this origin's scripts only; and GET /me, which the page asks
 * for the caller's role. The browser test (test/dashboard-e2e.test.ts) drives it.
 */
let collector: Awaited<ReturnType<typeof startTestCollector>>;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => collector.close());

const get = (url: string, token?: string) => collector.api.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('dashboard files', () => {
  it('serves the page at / without a token, with a strict CSP and no inline script', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(res.body).toContain('<script type="module" src="/ui/main.js"></script>');
    expect(res.body).not.toMatch(/<script>|<script type="module">|<style|style="/);
  });

  it('serves its modules and uPlot from the collector itself (no CDN), and 404s anything else', async () => {
    for (const [url, type] of [
      ['/ui/main.js', /^text\/javascript/],
      ['/ui/app.css', /^text\/css/],
      ['/ui/vendor/uplot.js', /^text\/javascript/],
      ['/ui/vendor/uplot.css', /^text\/css/],
    ] as const) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(type);
    }
    expect((await get('/ui/vendor/uplot.js')).body).toContain('export');
    expect((await get('/ui/../package.json')).statusCode).toBe(404);
    expect((await get('/ui/nope.js')).statusCode).toBe(404);
  });

  it('leaves the API and its docs as they were', async () => {
    expect(String((await get('/api/v1/openapi.json')).headers['content-security-policy'])).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    expect((await get('/api/v1/devices')).statusCode).toBe(401);
  });
});

describe('GET /api/v1/me', () => {
  it("tells the caller's subject, role and permissions as the server decides them", async () => {
    const viewer = await get('/api/v1/me', await collector.token('viewer'));
    expect(viewer.statusCode).toBe(200);
    expect(viewer.json()).toMatchObject({ sub: 'test-viewer', role: 'viewer' });
    expect(viewer.json().permissions).toContain('alerts:read');
    expect(viewer.json().permissions).not.toContain('alerts:ack');
    const tech = (await get('/api/v1/me', await collector.token('technician'))).json();
    expect(tech.permissions).toEqual(expect.arrayContaining(['alerts:ack', 'diagnostics:run']));
    expect(tech.permissions).not.toContain('audit:read');
    expect((await get('/api/v1/me')).statusCode).toBe(401);
  });
});
