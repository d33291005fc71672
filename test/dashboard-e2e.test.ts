import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, DESKTOP, TABLET, launchBrowser, signedIn as signedIn_ } from './browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * The dashboard in a real browser (Debian's chromium, driven by
 * playwright-core; no browser download) against the whole chain as
 * processes: two pump simulators -> agent -> collector. One pump's line
 * blocks 15 s in, so its occlusion alarm arrives while the page is open and
 * must appear without a reload. Screenshots go to test-artifacts/.
 */
type Alert = { id: number; key: string; deviceId: string; state: string; priority: string; version: number };

let stack: Stack;
let browser: Browser;
let technician: string;
let viewer: string;
let alertsAtPageLoad: Alert[] = [];
const url = () => `http://127.0.0.1:${stack.ports.http}/`;

beforeAll(async () => {
  const modbus = [await freePort(), await freePort()];
  const pump = (id: string, port: number) => ({
    id,
    profile: 'medtel-mt-lvp-100',
    connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port },
    pollInterval: '500ms',
  });
  stack = await startStack({
    gateway: 'gw-dash',
    site: 'ward-5',
    token: { sub: 'biomed', role: 'technician' },
    devices: [pump('pump-1', modbus[0]!), pump('pump-2', modbus[1]!)],
    simulators: [
      ['pump', '--modbus-tcp', `127.0.0.1:${modbus[0]}`, '--serial', 'DASH-0001', '--rate', '42.5', '--seed', '3'],
      ['pump', '--modbus-tcp', `127.0.0.1:${modbus[1]}`, '--serial', 'DASH-0002', '--scenario', 'occlusion', '--occlusion-after', '15s'],
    ],
  });
  technician = stack.token;
  viewer = await stack.tokenFor('viewer', 'ward-nurse');
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const signedIn = (token: string, viewport = DESKTOP) => signedIn_(browser, url(), token, viewport);

const openAlert = async () =>
  (await stack.api<{ items: Alert[] }>('/api/v1/alerts?state=open')).body.items.find((a) => a.key === 'alarm:gw-dash.pump-2:occlusion');

describe('dashboard in a browser', () => {
  let tech: Awaited<ReturnType<typeof signedIn>>;

  it('serves the page under a strict CSP, without the token in any URL', async () => {
    const res = await fetch(url());
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await res.text()).not.toMatch(/<script>(?!<)/);
  });

  it('shows the role and every simulated device in the fleet', async () => {
    tech = await signedIn(technician);
    const { page } = tech;
    expect(await page.textContent('#who')).toContain('technician');
    await page.waitForSelector('tr[data-device-id="gw-dash.pump-1"]', { timeout: 30_000 });
    await page.waitForSelector('tr[data-device-id="gw-dash.pump-2"]', { timeout: 30_000 });
    await page.waitForSelector('tr[data-gateway-id="gw-dash"] .pill-online', { timeout: 30_000 });
    // The backlog the agent reported with its online state (a number, 0 once it has caught up).
    await page.waitForSelector('tr[data-gateway-id="gw-dash"] td[data-outbox-rows]', { timeout: 30_000 });
    const gateways = (await stack.api<{ items: Array<{ id: string; outbox: { rows: number } | null }> }>('/api/v1/gateways')).body.items;
    expect(gateways[0]?.outbox?.rows).toEqual(expect.any(Number));
    expect(await page.locator('table.devices tbody tr').count()).toBe(2);
    expect(await page.textContent('tr[data-device-id="gw-dash.pump-1"]')).toContain('infusion-pump');
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-1366x768.png') });
    // The token is kept in this tab's sessionStorage, never in the address.
    expect(page.url()).not.toContain(technician.slice(0, 20));
    // Evaluated in the page (the test's own types have no DOM).
    expect(await page.evaluate("sessionStorage.getItem('medtel.token')")).toBe(technician);
  }, 60_000);

  it('shows a pump occlusion alarm live, without a reload, and acknowledging it changes it in the API', async () => {
    const { page } = tech;
    await page.click('a[data-view=alerts]');
    await page.waitForSelector('[data-testid=stream-state].live', { timeout: 15_000 });
    alertsAtPageLoad = (await stack.api<{ items: Alert[] }>('/api/v1/alerts?state=open')).body.items;
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));

    const alert = await waitFor('the occlusion alert in the API', openAlert, 60_000, 250);
    const row = `tr[data-alert-id="${alert.id}"]`;
    await page.waitForSelector(row, { timeout: 15_000 });
    expect(alertsAtPageLoad.some((a) => a.id === alert.id)).toBe(false); // it came over the stream
    expect(navigations.filter((u) => !u.includes('#'))).toEqual([]); // no reload
    expect(alert.priority).toBe('high');
    await page.waitForSelector('#banner:not([hidden])');
    await page.screenshot({ path: join(ARTIFACTS, 'alert-live-1366x768.png') });

    await page.click(`${row} button.ack`);
    await page.fill(`${row} input[name=note]`, 'checking the line at bed 5');
    await page.click(`${row} .note-form button[type=submit]`);
    const acked = await waitFor('the alert acknowledged in the API', async () => {
      const a = (await stack.api<Alert & { acknowledged: { by: string; note: string } | null }>(`/api/v1/alerts/${alert.id}`)).body;
      return a.state === 'acknowledged' ? a : undefined;
    });
    expect(acked.acknowledged).toMatchObject({ by: 'biomed', note: 'checking the line at bed 5' });
    await page.waitForSelector(`${row}[data-state=acknowledged]`);
    await page.screenshot({ path: join(ARTIFACTS, 'alert-acknowledged-1366x768.png') });
    expect(tech.errors).toEqual([]);
  }, 90_000);

  it('a viewer sees the alert but no acknowledge button, and the API refuses it anyway', async () => {
    const alert = await waitFor('the occlusion alert', openAlert);
    const v = await signedIn(viewer);
    expect(await v.page.textContent('#who')).toContain('viewer');
    await v.page.click('a[data-view=alerts]');
    await v.page.waitForSelector(`tr[data-alert-id="${alert.id}"]`, { timeout: 15_000 });
    expect(await v.page.locator('button.ack, button.resolve').count()).toBe(0);
    await v.page.screenshot({ path: join(ARTIFACTS, 'alerts-viewer-1366x768.png') });
    const refused = await fetch(`http://127.0.0.1:${stack.ports.http}/api/v1/alerts/${alert.id}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json', 'if-match': `"${alert.version}"` },
      body: JSON.stringify({ reason: 'not mine to do' }),
    });
    expect(refused.status).toBe(403);
    expect(v.errors).toEqual([]);
    await v.context.close();
  }, 60_000);

  it('resolving with a note from the page resolves it in the API and takes it off the list', async () => {
    const { page } = tech;
    const alert = await waitFor('the occlusion alert', openAlert);
    const row = `tr[data-alert-id="${alert.id}"]`;
    await page.click(`${row} button.resolve`);
    await page.fill(`${row} input[name=note]`, 'line replaced');
    await page.click(`${row} .note-form button[type=submit]`);
    await page.waitForSelector(row, { state: 'detached', timeout: 15_000 });
    const resolved = (await stack.api<Alert & { resolved: { by: string; note: string } | null }>(`/api/v1/alerts/${alert.id}`)).body;
    expect(resolved).toMatchObject({ state: 'resolved', resolved: { by: 'biomed', note: 'line replaced' } });
    expect(tech.errors).toEqual([]);
  }, 60_000);

  it('a device page shows live values with units, a server-side trend, and diagnostics for a technician; works on a tablet', async () => {
    const { page } = await signedIn(technician, TABLET);
    await page.goto(`${url()}#/device/gw-dash.pump-1`);
    const rate = 'table.live-values tr[data-metric=volume_infused]';
    await page.waitForSelector(rate, { timeout: 15_000 });
    expect(await page.textContent(rate)).toContain('mL');
    // Live: the row changes as readings arrive over the stream, with no reload.
    const before = await page.textContent(rate);
    await waitFor('a live update of the row', async () => (await page.textContent(rate)) !== before);
    await page.waitForSelector('.chart canvas', { timeout: 15_000 });
    await page.waitForSelector('button.run-diagnostic');
    await page.screenshot({ path: join(ARTIFACTS, 'device-tablet.png'), fullPage: true });
    await page.click('button.run-diagnostic');
    await page.waitForSelector('[data-testid=diagnostic-result] .pill-ok, [data-testid=diagnostic-result] .pill-fail', { timeout: 30_000 });
    await page.setViewportSize(DESKTOP);
    await page.screenshot({ path: join(ARTIFACTS, 'device-1366x768.png'), fullPage: true });
    await page.context().close();
  }, 90_000);
});
