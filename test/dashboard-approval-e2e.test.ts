import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser, signedIn } from './browser.js';
import { startCli, tempDir } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * Plug and play on the dashboard: a ventilator plugged into the gateway (a
 * simulator behind a pty link in the agent's watched directory) shows up on
 * the fleet page as awaiting approval; a technician approves it there, binding
 * asset tag, location and department; a viewer sees it but cannot decide.
 */
const DEVICE = 'gw-pnp.mt-vent-500-VT-0815';

let stack: Stack;
let browser: Browser;
const url = () => `http://127.0.0.1:${stack.ports.http}/`;

beforeAll(async () => {
  const dir = tempDir('medtel-dash-pnp-');
  const watchDir = join(dir.path, 'by-id');
  mkdirSync(watchDir);
  stack = await startStack({
    gateway: 'gw-pnp',
    site: 'icu',
    devices: [],
    dir,
    token: { sub: 'biomed', role: 'technician' },
    agent: { discovery: { serial: { watchDir, rescanInterval: '1s', settle: '200ms' } } },
  });
  const vent = startCli('simulators', ['ventilator', '--pty', join(watchDir, 'usb-FTDI_VT0815-if00-port0'), '--serial', 'VT-0815']);
  stack.simulators.push(vent);
  await vent.waitForLine(/simulator listening/);
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('approving a plugged-in device from the dashboard', () => {
  it('a viewer sees the device awaiting approval but no decision buttons', async () => {
    const { page, context, errors } = await signedIn(browser, url(), await stack.tokenFor('viewer', 'ward-nurse'));
    const row = page.locator(`tr[data-pending-id="${DEVICE}"]`);
    await row.waitFor({ timeout: 45_000 });
    expect(await row.textContent()).toContain('VT-0815');
    expect(await row.locator('button').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('a technician approves it with asset tag, location and department; the registry and the audit trail say so', async () => {
    const { page, context, errors } = await signedIn(browser, url(), stack.token);
    const row = page.locator(`tr[data-pending-id="${DEVICE}"]`);
    await row.waitFor({ timeout: 45_000 });
    expect(await row.textContent()).toContain('usb-FTDI_VT0815-if00-port0');
    await page.screenshot({ path: join(ARTIFACTS, 'approval-pending-1366x768.png') });
    await row.locator('button.approve').click();
    await row.locator('input[name=assetTag]').fill('BME-0815');
    await row.locator('input[name=location]').fill('ICU bed 2');
    await row.locator('input[name=department]').fill('Intensive care');
    await row.locator('button[type=submit]').click();
    await page.locator('[data-testid=approvals]').waitFor({ state: 'hidden', timeout: 15_000 });

    const device = (await stack.api<{ approval: string; assetTag: string; location: string; department: string }>(`/api/v1/devices/${DEVICE}`)).body;
    expect(device).toMatchObject({ approval: 'approved', assetTag: 'BME-0815', location: 'ICU bed 2', department: 'Intensive care' });
    const admin = await stack.tokenFor('admin');
    const audit = await fetch(`http://127.0.0.1:${stack.ports.http}/api/v1/audit?objectId=${DEVICE}&action=device:approve`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(((await audit.json()) as { items: Array<{ actor: string }> }).items).toEqual([expect.objectContaining({ actor: 'biomed' })]);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
