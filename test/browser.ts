import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './helpers.js';

/**
 * The dashboard tests' browser: Debian's chromium driven by playwright-core
 * (no browser download), with the flags this machine's closed network needs
 * (STACK-NOTES). Screenshots go to test-artifacts/.
 */
export const CHROMIUM = process.env.MEDTEL_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const DESKTOP = { width: 1366, height: 768 };
export const TABLET = { width: 820, height: 1180 };

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set MEDTEL_CHROMIUM`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    // playwright-core gives every launch a fresh, temporary --user-data-dir of its own (it refuses one in args).
  });
}

/** A new browser context signed in to the dashboard at `url` with `token`; `errors` collects script errors and CSP violations. */
export async function signedIn(
  browser: Browser,
  url: string,
  token: string,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  // A CSP violation or a script error would show here: the page must run under its strict policy.
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto(url);
  await page.fill('#token', token);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#who:not([hidden])');
  return { context, page, errors };
}
